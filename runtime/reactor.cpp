#include "runtime/reactor.hpp"

#include <utility>

#include "runtime/thread_slice.hpp"

namespace tandem::detail {

// The reactor thread takes no thread_role: for shutdown it is an outside
// thread, so what it delivers after shutdown began is refused (the handler
// is destroyed, resolving what it owned) and draining stays bounded even
// with periodic timers.
reactor::reactor(std::chrono::nanoseconds thread_slice) : keep_running_(context_.get_executor()) {
  thread_ = std::thread([this, thread_slice] {
    request_slice(thread_slice);
    context_.run();
  });
}

reactor::~reactor() {
  stop();
  abandon_pending();
}

void reactor::stop() {
  if (!thread_.joinable()) return;
  keep_running_.reset();
  context_.stop();
  thread_.join();
}

void reactor::abandon_pending() {
  if (std::exchange(abandoned_, true)) return;
  context_.shutdown();
}

}  // namespace tandem::detail
