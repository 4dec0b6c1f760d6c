// server — an HTTP server (Boost.Beast, C++20 coroutines) on tandem's io
// lane, whose cpu work runs in tandem's worker processes: a task that
// crashes or hangs fails its own request (500, 504) and the server goes on.
// `--inline` serves the same endpoints from one thread doing the work
// inline: the baseline bench/server compares against. `--trace FILE`
// writes a trace of every task the server ran when it stops.
#include <tandem/tandem.hpp>

#include <boost/asio/io_context.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <future>
#include <stdexcept>
#include <string>
#include <utility>

#include "cpu_tasks.hpp"
#include "cpu_work.hpp"
#include "http_server.hpp"
#include "common/command_line.hpp"
#include "options.hpp"

namespace {

namespace asio = boost::asio;

// loop_context is an io_context whose pending handlers (suspended
// connections) can be destroyed while the server they refer to still
// exists, as tandem::runtime::shutdown() does for the io lane.
class loop_context : public asio::io_context {
 public:
  using asio::execution_context::shutdown;
  using asio::io_context::io_context;
};

// stop_signals_held blocks SIGTERM and SIGINT in this thread until
// release(), and so in every thread started meanwhile (the runtime's). One
// that comes while the server starts then stays pending instead of killing
// the process with no word (exit 143, seen when a script stopped the server
// within milliseconds of starting it), and reaches the server's signal_set
// once it exists: release() unblocks them in this thread alone, which then
// takes them.
class stop_signals_held {
 public:
  stop_signals_held() {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGTERM);
    sigaddset(&signals_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  }
  ~stop_signals_held() { release(); }
  stop_signals_held(const stop_signals_held&) = delete;
  stop_signals_held& operator=(const stop_signals_held&) = delete;

  void release() {
    if (std::exchange(held_, false)) pthread_sigmask(SIG_UNBLOCK, &signals_, nullptr);
  }

 private:
  sigset_t signals_;
  bool held_ = true;
};

// create_trace_file() creates (or empties) the file --trace names, so that
// a path that cannot be written stops the server before it serves, rather
// than losing the whole trace when it stops. O_NONBLOCK: a FIFO that no
// process reads is refused at once (ENXIO) instead of holding the start
// until a reader comes; a regular file ignores the flag.
void create_trace_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0644);
  if (fd >= 0) {
    ::close(fd);
    return;
  }
  const std::string why = errno == ENXIO ? "a FIFO that no process reads" : std::strerror(errno);
  throw std::runtime_error("--trace: cannot write '" + path + "': " + why);
}

// write_trace() ends the trace and writes it to `path`; false, having said
// why, when it cannot. It never throws: the runtime must still be shut down
// while the server exists (see run_on_lanes).
bool write_trace(tandem::runtime& rt, const std::string& path) {
  try {
    rt.stop_trace(path);
    std::printf("trace written to %s\n", path.c_str());
    return true;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "server: %s\n", e.what());
    return false;
  }
}

void announce(const server::http_server& srv, const char* mode) {
  std::printf("listening on 127.0.0.1:%u (%s)\n", unsigned(srv.port()), mode);
  std::fflush(stdout);
}

int run_on_lanes(const server::options& o, stop_signals_held& held) {
  const bool tracing = !o.trace_path.empty();
  if (tracing) create_trace_file(o.trace_path);
  tandem::runtime rt(tandem::runtime_options{.io_threads = o.io_threads,
                                             .cpu_workers = o.cpu_workers,
                                             .worker_init = server::lower_priority_task,
                                             .realtime_priority = int(o.realtime_priority)});
  server::lane_work work(rt, std::chrono::milliseconds(o.timeout_ms));
  server::http_server srv(rt.io_executor(), o, work);
  if (tracing) rt.start_trace();
  held.release();  // srv's signal_set takes them from here
  std::promise<void> stopped;
  srv.start([&stopped] { stopped.set_value(); });
  announce(srv, "tandem");
  stopped.get_future().wait();
  // The trace covers the serving, up to the end of the grace period, and
  // not the tasks the shutdown cancels.
  const bool traced = !tracing || write_trace(rt, o.trace_path);
  // Ends what the grace period left running (killing its workers) and
  // destroys idle connections while `srv`, which they refer to, exists.
  rt.shutdown(tandem::cancel);
  std::printf("shut down: every task resolved, every worker process reaped\n");
  return traced ? 0 : 1;
}

int run_inline(const server::options& o, stop_signals_held& held) {
  loop_context loop(1);
  server::inline_work work;
  server::http_server srv(loop.get_executor(), o, work);
  held.release();
  srv.start([&loop] { loop.stop(); });
  announce(srv, "inline, one thread");
  loop.run();
  loop.shutdown();
  std::printf("shut down\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  stop_signals_held held;  // from the first line: the server takes them once it listens
  return examples::command_line_main("server", argc, argv, server::parse_options, server::usage(),
                                     [&held](const server::options& o) {
                                       return o.inline_mode ? run_inline(o, held)
                                                            : run_on_lanes(o, held);
                                     });
}
