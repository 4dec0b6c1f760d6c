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

worker_slot::offer_result worker_slot::offer(cpu_job& job) noexcept {
  const std::uint64_t id = run_frame_id(next_number_, wire_task(job.task().index(), job.runs_each));
  const bool on_heap = job.on_heap;
  const ipc::heap_ref ref{job.heap_arguments.offset, job.heap_arguments.length};
  const std::span<const std::byte> arguments =
      on_heap ? std::as_bytes(std::span(&ref, 1)) : job.inline_arguments.bytes();
  std::byte* body = to_worker_.try_prepare(static_cast<std::uint32_t>(arguments.size()));
  if (body == nullptr) return offer_result::ring_full;
  if (!arguments.empty()) std::memcpy(body, arguments.data(), arguments.size());
  // The gate entry is open before the ticket naming it shows, and the frame
  // is committed only once the ticket moved from in transit: a withdrawal
  // meets the job in transit (and the prepared frame is dropped) or in the
  // window (and settles the gate), never in between.
  gate_->open(next_number_);
  std::uint64_t expected = cpu_job::in_transit;
  if (!job.window_ticket.compare_exchange_strong(expected, window_ticket(index_, next_number_),
                                                 std::memory_order_acq_rel))
    return offer_result::withdrawn;
  to_worker_.commit(static_cast<std::uint16_t>(to_worker::run), on_heap ? ipc::heap_payload : 0,
                    id);
  to_worker_.publish();
  window.push_back({&job, next_number_++});
  return offer_result::offered;
}

void worker_slot::take_back(std::deque<cpu_job*>& unstarted, std::vector<cpu_job*>& withdrawn) {
  while (!window.empty()) {
    const offered last = window.back();
    const run_gate::fate fate = gate_->settle(last.number, run_gate::fate::taken_back);
    if (fate == run_gate::fate::started) return;  // so is every job before it
    window.pop_back();
    if (fate == run_gate::fate::withdrawn) {
      last.job->window_ticket.store(0, std::memory_order_release);
      withdrawn.push_back(last.job);
    } else {
      // A withdrawal that found the gate taken back waits for this.
      last.job->window_ticket.store(cpu_job::in_transit, std::memory_order_release);
      unstarted.push_front(last.job);
    }
  }
}

void worker_slot::remove_withdrawn(std::vector<cpu_job*>& withdrawn) {
  std::erase_if(window, [&](const offered& entry) {
    if (gate_->fate_of(entry.number) != run_gate::fate::withdrawn) return false;
    entry.job->window_ticket.store(0, std::memory_order_release);
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
