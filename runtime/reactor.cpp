#include "runtime/reactor.hpp"

#include <boost/asio/post.hpp>
#include <exception>
#include <utility>

#include "tandem/io_executor.hpp"

namespace tandem::detail {

reactor::reactor() : keep_running_(context_.get_executor()) {}

reactor::~reactor() { abandon_pending(); }

// Handlers queued with io_executor never throw out of the context (they
// run as tasks); only a handler the user posted straight to io_context()
// can. It has no future to carry the exception, so it is reported like an
// io_executor handler's, and the io worker goes on.
void reactor::wait_for_one() noexcept {
  try {
    context_.run_one();
  } catch (...) {
    report_escaped_exception(std::current_exception());
  }
  run_ready();
}

// At most this many operations per run_ready(): enough that a burst of
// ready events (a wave of timers) is taken in one go, few enough that the
// worker soon looks at its wake-ups again.
constexpr int ready_batch = 1024;

void reactor::run_ready() noexcept {
  for (int ran = 0; ran < ready_batch;) {
    try {
      if (context_.poll_one() == 0) return;
      ++ran;
    } catch (...) {
      report_escaped_exception(std::current_exception());
    }
  }
}

void reactor::interrupt() {
  boost::asio::post(context_, [] {});
}

void reactor::abandon_pending() {
  if (std::exchange(abandoned_, true)) return;
  keep_running_.reset();
  context_.shutdown();
}

}  // namespace tandem::detail
