// worker_protocol.hpp — what the parent and a cpu worker say to each other.
//
// Each worker has two rings (ipc/): the parent writes `run` frames to the
// submission ring and the worker answers on the completion ring. A `run`
// frame's id holds the frame's number at the worker's run gate
// (run_gate.hpp) and the task's number (task_registry.hpp); its payload is
// the encoded arguments, inline or in the parent's shared argument heap.
// The parent may queue several `run` frames (its window for the worker).
// The worker runs them one at a time, in order, each only once it got it
// through the gate, and answers every one it ran with exactly one of
// `value`, `thrown`, `too_large` or `unknown`, with the same id; one it
// found taken back it skips in silence. So replies come in window order.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tandem::detail {

// A frame id: the gate number in the high half, the task's in the low.
constexpr std::uint64_t run_frame_id(std::uint32_t number, std::uint32_t task) noexcept {
  return std::uint64_t{number} << 32 | task;
}
constexpr std::uint32_t frame_number(std::uint64_t id) noexcept {
  return static_cast<std::uint32_t>(id >> 32);
}
constexpr std::uint32_t frame_task(std::uint64_t id) noexcept {
  return static_cast<std::uint32_t>(id);
}
// The task half's top bit asks for task_entry::invoke_each(): the payload
// is a chunk of calls (runtime::map()). Task numbers stay far below it.
constexpr std::uint32_t each_task_bit = std::uint32_t{1} << 31;
constexpr std::uint32_t wire_task(std::uint32_t index, bool each) noexcept {
  return index | (each ? each_task_bit : 0);
}

// largest_payload() is the largest argument or result a heap of
// `heap_bytes` takes: a block also holds its prefix and the allocator's
// bookkeeping.
constexpr std::size_t largest_payload(std::size_t heap_bytes) noexcept {
  return heap_bytes - heap_bytes / 16;
}

// Parent -> worker.
enum class to_worker : std::uint16_t {
  run = 1,
  limit,  // one past the last kind: the worker's decoder refuses the rest
};

// Worker -> parent.
enum class to_parent : std::uint16_t {
  ready = 1,    // started (worker_init done); payload empty
  value,        // the task returned; payload: the encoded result
  thrown,       // the task threw; payload: encoded (type name, what())
  too_large,    // the result does not fit the heap; payload: encoded (size, limit)
  unknown,      // no task has the frame's number; payload empty
  init_failed,  // worker_init threw; payload: encoded (type name, what())
  retiring,     // about to exit between tasks; payload: encoded reason
  unreadable,   // the task's arguments could not be decoded; payload: encoded what()
  limit,
};

}  // namespace tandem::detail
