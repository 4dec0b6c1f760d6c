// cpu_worker.hpp — the main loop of a cpu worker process.
//
// A worker is forked from the zygote into one slot of the lane. It formats
// its result heap (it owns it), runs worker_init, says `ready`, then reads
// `run` frames one at a time: it passes the frame through the run gate
// (skipping it if the parent took it back), looks the task up by number,
// decodes the arguments from the frame or the parent's argument heap (which
// it only reads: the parent frees those blocks), runs the function and
// answers with one frame (worker_protocol.hpp). Between tasks it retires (says
// `retiring` and exits) once it has served max_tasks_per_worker tasks or
// its resident memory passed max_worker_rss; the parent forks a
// replacement. While idle it parks on its ring and checks every quarter
// second that the zygote still lives (PR_SET_PDEATHSIG covers the rest).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>

#include "ipc/channel.hpp"
#include "ipc/spsc_ring.hpp"
#include "runtime/lane_signal.hpp"
#include "runtime/run_gate.hpp"
#include "tandem/runtime.hpp"

namespace tandem::detail {

struct worker_setup {
  ipc::spsc_ring& submissions;
  run_gate& gate;
  ipc::channel& completions;
  std::span<const std::byte> argument_heap;
  lane_signal& signal;
  const runtime_options& options;
  pid_t zygote;
};

// serve_as_worker() is the whole life of a worker process.
[[noreturn]] void serve_as_worker(const worker_setup& setup);

// this_worker_completions() is, inside a worker process, its completion
// channel (nullptr elsewhere): white-box tests use it to play a broken
// worker.
ipc::channel* this_worker_completions() noexcept;

}  // namespace tandem::detail
