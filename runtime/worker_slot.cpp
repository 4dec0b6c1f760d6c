#include "runtime/worker_slot.hpp"

#include <cstring>

#include "runtime/worker_protocol.hpp"

namespace tandem::detail {

worker_slot::worker_slot(ipc::segment& memory, unsigned index, const ipc::ring_options& ring,
                         std::size_t heap_bytes)
    : index_(index),
      submissions_(memory, ring),
      completions_(memory, {ring, heap_bytes}),
      to_worker_(submissions_),
      from_worker_(completions_) {}

bool worker_slot::send(const cpu_job& job) noexcept {
  const auto kind = static_cast<std::uint16_t>(to_worker::run);
  const std::uint64_t task = job.task().index();
  if (job.on_heap) {
    const ipc::heap_ref ref{job.heap_arguments.offset, job.heap_arguments.length};
    std::byte* body = to_worker_.try_prepare(sizeof ref);
    if (body == nullptr) return false;
    std::memcpy(body, &ref, sizeof ref);
    to_worker_.commit(kind, ipc::heap_payload, task);
  } else {
    const auto length = static_cast<std::uint32_t>(job.inline_arguments.size());
    std::byte* body = to_worker_.try_prepare(length);
    if (body == nullptr) return false;
    if (length != 0) std::memcpy(body, job.inline_arguments.data(), length);
    to_worker_.commit(kind, 0, task);
  }
  to_worker_.publish();
  return true;
}

void worker_slot::clear() {
  to_worker_.reset();
  from_worker_.reset();
}

}  // namespace tandem::detail
