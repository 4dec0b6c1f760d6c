// worker_protocol.hpp — what the parent and a cpu worker say to each other.
//
// Each worker has two rings (ipc/): the parent writes `run` frames to the
// submission ring and the worker answers on the completion ring. A `run`
// frame's id is the task's number (task_registry.hpp); its payload is the
// encoded arguments, inline or in the parent's shared argument heap. The
// worker runs one task at a time and answers every `run` with exactly one
// of `value`, `thrown`, `too_large` or `unknown`, so the parent always knows
// which task a worker is running: the one it sent last.
#pragma once

#include <cstdint>

namespace tandem::detail {

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
  limit,
};

}  // namespace tandem::detail
