// zygote.hpp — the fork server that every cpu worker is forked from.
//
// The runtime forks the zygote first thing in its constructor, before it
// starts any thread of its own; the zygote stays single-threaded for life
// and forks every worker, the first ones and every replacement. So no
// worker is ever forked from a multi-threaded process, even when the host
// program already had threads when it made the runtime.
//
// The zygote closes every descriptor it inherited except its socket (a
// worker must not hold the host's pipes and sockets open), ignores SIGINT
// (a terminal's Ctrl-C is the host's to handle), and dies with the host
// (PR_SET_PDEATHSIG, plus a check of getppid() every quarter second). Its
// workers die with it the same way. It reaps its workers and reports each
// start and exit to the parent over a SOCK_SEQPACKET socket, passing a
// pidfd for every worker it starts, so the parent can signal a worker with
// no risk of hitting a recycled pid.
//
// PR_SET_PDEATHSIG fires when the *thread* that forked the zygote ends:
// create the runtime on a thread that outlives it (main does).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>

#include "ipc/pidfd.hpp"

namespace tandem::detail {

struct zygote_report {
  enum class event { spawned, exited, spawn_failed } what;
  unsigned slot = 0;        // spawned, spawn_failed
  pid_t pid = 0;            // spawned, exited
  ipc::pidfd worker;        // spawned: a pidfd for the new worker
  ipc::exit_status status;  // exited
  int error = 0;            // spawn_failed: fork's errno
};

class zygote {
 public:
  // worker_main runs in each new worker process and must not return.
  using worker_main = void (*)(void* context, unsigned slot);
  // notify runs in the zygote after each report is sent (it may only touch
  // memory shared with the parent).
  using notify_fn = void (*)(void* context);

  // zygote() forks the fork server now. Throws tandem::error when it cannot.
  zygote(worker_main main, notify_fn notify, void* context);
  ~zygote();
  zygote(const zygote&) = delete;
  zygote& operator=(const zygote&) = delete;

  pid_t pid() const noexcept { return process_.pid(); }

  // spawn() asks for a new worker for `slot`; the answer is a report.
  // False when the zygote is gone.
  bool spawn(unsigned slot) noexcept;
  // try_receive() is the next report, without waiting; receive() waits up
  // to `timeout` for one.
  std::optional<zygote_report> try_receive();
  std::optional<zygote_report> receive(std::chrono::milliseconds timeout);
  // alive() is false once the zygote process has ended.
  bool alive() const;

  // stop() ends the zygote, which kills and reaps its workers first, and
  // reaps it. Idempotent.
  void stop() noexcept;

 private:
  int socket_ = -1;
  ipc::pidfd process_;
  bool stopped_ = false;
};

}  // namespace tandem::detail
