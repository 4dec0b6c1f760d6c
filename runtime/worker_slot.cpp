#include "runtime/worker_slot.hpp"

#include <cstring>

#include "ipc/segment.hpp"

#include "runtime/worker_protocol.hpp"

namespace tandem::detail {

worker_slot::worker_slot(ipc::segment& memory, unsigned index, const ipc::ring_options& ring,
                         std::size_t heap_bytes)
    : index_(index),
      submissions_(memory, ring),
      gate_(memory.construct<run_gate>()),
      completions_(memory, {ring, heap_bytes}),
      to_worker_(submissions_),
      from_worker_(completions_) {}

bool worker_slot::offer(cpu_job& job) noexcept {
  const auto kind = static_cast<std::uint16_t>(to_worker::run);
  const std::uint64_t id = run_frame_id(next_number_, wire_task(job.task().index(), job.runs_each));
  gate_->open(next_number_);
  if (job.on_heap) {
    const ipc::heap_ref ref{job.heap_arguments.offset, job.heap_arguments.length};
    std::byte* body = to_worker_.try_prepare(sizeof ref);
    if (body == nullptr) return false;
    std::memcpy(body, &ref, sizeof ref);
    to_worker_.commit(kind, ipc::heap_payload, id);
  } else {
    const std::span<const std::byte> arguments = job.inline_arguments.bytes();
    const auto length = static_cast<std::uint32_t>(arguments.size());
    std::byte* body = to_worker_.try_prepare(length);
    if (body == nullptr) return false;
    if (length != 0) std::memcpy(body, arguments.data(), length);
    to_worker_.commit(kind, 0, id);
  }
  job.window_ticket.store(window_ticket(index_, next_number_), std::memory_order_release);
  to_worker_.publish();
  window.push_back({&job, next_number_++});
  return true;
}

void worker_slot::take_back(std::deque<cpu_job*>& unstarted, std::vector<cpu_job*>& withdrawn) {
  while (!window.empty()) {
    const offered last = window.back();
    const run_gate::fate fate = gate_->settle(last.number, run_gate::fate::taken_back);
    if (fate == run_gate::fate::started) return;  // so is every job before it
    window.pop_back();
    last.job->window_ticket.store(0, std::memory_order_release);
    if (fate == run_gate::fate::withdrawn)
      withdrawn.push_back(last.job);
    else
      unstarted.push_front(last.job);
  }
}

void worker_slot::remove_withdrawn(std::vector<cpu_job*>& withdrawn) {
  std::erase_if(window, [&](const offered& entry) {
    if (gate_->fate_of(entry.number) != run_gate::fate::withdrawn) return false;
    withdrawn.push_back(entry.job);
    return true;
  });
}

void worker_slot::remove_withdrawn_front(std::vector<cpu_job*>& withdrawn) {
  while (!window.empty() && gate_->fate_of(window.front().number) == run_gate::fate::withdrawn)
    withdrawn.push_back(&pop_front());
}

cpu_job& worker_slot::pop_front() noexcept {
  const offered first = window.front();
  window.pop_front();
  first.job->window_ticket.store(0, std::memory_order_release);
  first.job->started_ns = gate_->started_ns(first.number);
  first.job->ended_ns = gate_->ended_ns(first.number);
  return *first.job;
}

void worker_slot::clear() {
  to_worker_.reset();
  from_worker_.reset();
  gate_->reset();
  next_number_ = 0;
}

}  // namespace tandem::detail
