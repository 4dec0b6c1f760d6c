// process_runner.hpp — one running child process, watched on the io lane.
//
// A runner owns a spawned child (process_spawn.hpp): its pidfd and our ends
// of its pipes, each an Asio descriptor, and a timer for its timeout. It
// reads stdout and stderr as they come (so a child writing 100 MiB never
// blocks on a full pipe), feeds stdin without blocking, and learns of the
// exit when the pidfd turns readable. Every handler runs on one strand over
// process_executor, so a runner's state needs no lock and the user's output
// callbacks are called one at a time.
//
// Lifetime. Every pending operation's handler holds a shared_ptr to the
// runner; the runner ends when the last one has run (the child exited and
// both pipes reached end-of-file, or it was stopped). Its destructor reaps
// the child (killing it first, should the runner be destroyed before the
// child ended), resolves the future and counts the process out of the
// process_table. The child is reaped only there, so until then its pid and
// process group id cannot be reused, and killing the group is always safe.
// A child that exited normally is reaped without killing its group: what
// it left running in the background is not ours to kill.
#pragma once

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/process_executor.hpp"
#include "runtime/process_spawn.hpp"
#include "runtime/process_table.hpp"
#include "tandem/detail/state.hpp"
#include "tandem/future.hpp"
#include "tandem/process.hpp"

namespace tandem::detail {

class scheduler;
class process_runner;

// process_call is the state of a run_process() future. The runner claims
// it when the child has started (so future::cancel() then returns false)
// and resolves it when the child is reaped; cancel(tandem::kill_running)
// reaches the runner through stop_running().
class process_call final : public state<process_result> {
 public:
  explicit process_call(std::uint32_t runtime_id) : state(runtime_id, 2) {}
  // watch() names the runner; called once, before the future is handed out.
  void watch(std::weak_ptr<process_runner> runner) noexcept { runner_ = std::move(runner); }
  bool stop_running() noexcept override;

 private:
  std::weak_ptr<process_runner> runner_;
};

class process_runner : public std::enable_shared_from_this<process_runner> {
 public:
  // process_runner() takes over `child` and one reference to the claimed
  // `call`; the process must be reserved in sched.processes().
  process_runner(scheduler& sched, process_call& call, std::vector<std::string> args,
                 process_options options, spawned_child child);
  ~process_runner();
  process_runner(const process_runner&) = delete;
  process_runner& operator=(const process_runner&) = delete;

  // start() lists the runner for shutdown and begins watching the child,
  // on the runner's strand; the runner then owns itself.
  static void start(std::shared_ptr<process_runner> runner);
  // stop() kills the child (and its process group) unless it has ended;
  // the future then holds task_cancelled or task_timeout. Any thread.
  void stop(stop_reason why) { stop(shared_from_this(), why); }
  // This stop() hands the caller's reference to the strand, so that the
  // runner's last reference (and destructor, which resolves the future) is
  // never the caller's.
  static void stop(std::shared_ptr<process_runner> runner, stop_reason why);

 private:
  using descriptor = boost::asio::posix::stream_descriptor;
  using strand = boost::asio::strand<process_executor>;

  // output is one of the child's stdout and stderr: its pipe, and either
  // everything read (no sink) or the chunk being handed to the sink.
  struct output {
    output(const strand& ex, owned_fd fd, const output_callback& callback);
    descriptor pipe;
    const output_callback& sink;  // in options_
    std::string data;
    std::size_t total = 0;  // bytes read so far
    bool enlarged = false;  // see enlarge_pipe()
    bool open = true;
  };

  void begin();
  void wait_readable(output& stream);
  void read_ready(output& stream);
  std::size_t read_once(output& stream, boost::system::error_code& ec);
  static void enlarge_pipe(output& stream) noexcept;
  void deliver(output& stream);
  void close_output(output& stream);
  void feed_stdin();
  void wait_stdin_writable();
  void watch_exit();
  void arm_timeout();
  void halt(std::exception_ptr reason);
  void finish_if_done();
  void settle(const std::optional<ipc::exit_status>& status) noexcept;
  process_result result(const ipc::exit_status& status);
  std::exception_ptr stop_error(stop_reason why) const;

  scheduler& sched_;
  process_call& call_;
  const std::vector<std::string> args_;
  const process_options options_;
  child_process child_;
  strand strand_;
  descriptor stdin_;
  output out_;
  output err_;
  boost::asio::steady_timer timer_;
  // exit_watch_ watches child_'s descriptor, which it does not own: it is
  // made last (nothing can throw after it and close that descriptor under
  // child_) and releases the descriptor before it is destroyed.
  descriptor exit_watch_;
  std::size_t stdin_written_ = 0;
  bool exited_ = false;
  bool finished_ = false;       // exited and both outputs at end-of-file
  std::exception_ptr failure_;  // why it was stopped, once it was
};

// start_process() is runtime::run_process(): checks the arguments, admits
// the process (refused once shutdown began, from outside), spawns it and
// starts its runner. Never throws: every error lands in the future.
future<process_result> start_process(scheduler& sched, std::uint32_t runtime_id,
                                     std::vector<std::string> args, process_options options);

}  // namespace tandem::detail
