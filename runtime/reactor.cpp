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

void reactor::run_ready() noexcept {
  for (;;) {
    try {
      context_.poll();
      return;
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
