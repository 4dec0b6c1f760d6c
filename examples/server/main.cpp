// server — an HTTP server (Boost.Beast, C++20 coroutines) on tandem's io
// lane, whose cpu work runs in tandem's worker processes: a task that
// crashes or hangs fails its own request (500, 504) and the server goes on.
// `--inline` serves the same endpoints from one thread doing the work
// inline: the baseline bench/server compares against.
#include <tandem/tandem.hpp>

#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <exception>
#include <future>

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

void announce(const server::http_server& srv, const char* mode) {
  std::printf("listening on 127.0.0.1:%u (%s)\n", unsigned(srv.port()), mode);
  std::fflush(stdout);
}

int run_on_lanes(const server::options& o) {
  tandem::runtime rt(tandem::runtime_options{.io_threads = o.io_threads,
                                             .cpu_workers = o.cpu_workers,
                                             .worker_init = server::lower_priority_task});
  server::lane_work work(rt, std::chrono::milliseconds(o.timeout_ms));
  server::http_server srv(rt.io_executor(), o, work);
  std::promise<void> stopped;
  srv.start([&stopped] { stopped.set_value(); });
  announce(srv, "tandem");
  stopped.get_future().wait();
  // Ends what the grace period left running (killing its workers) and
  // destroys idle connections while `srv`, which they refer to, exists.
  rt.shutdown(tandem::cancel);
  std::printf("shut down: every task resolved, every worker process reaped\n");
  return 0;
}

int run_inline(const server::options& o) {
  loop_context loop(1);
  server::inline_work work;
  server::http_server srv(loop.get_executor(), o, work);
  srv.start([&loop] { loop.stop(); });
  announce(srv, "inline, one thread");
  loop.run();
  loop.shutdown();
  std::printf("shut down\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return examples::command_line_main(
      "server", argc, argv, server::parse_options, server::usage(),
      [](const server::options& o) { return o.inline_mode ? run_inline(o) : run_on_lanes(o); });
}
