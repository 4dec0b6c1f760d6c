// listener.cpp
#include "listener.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <utility>

#include "http_session.hpp"
#include "server_metrics.hpp"

namespace server {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A failed accept (out of descriptors, say) is retried after this pause,
// so the loop never spins while the condition lasts.
constexpr std::chrono::milliseconds accept_retry{50};
// How often a draining server looks at the requests in flight.
constexpr std::chrono::milliseconds drain_poll{10};

asio::awaitable<void> pause(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  boost::system::error_code ignored;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

// drain() waits until no request is in flight, or until `grace` passed;
// true when none is left.
asio::awaitable<bool> drain(const server_metrics& metrics, std::chrono::milliseconds grace) {
  const auto give_up = std::chrono::steady_clock::now() + grace;
  while (metrics.in_flight() > 0 && std::chrono::steady_clock::now() < give_up)
    co_await pause(drain_poll);
  co_return metrics.in_flight() == 0;
}

}  // namespace

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, asio::any_io_executor executor,
                                  server_context& ctx) {
  while (acceptor.is_open()) {
    tcp::socket socket(asio::make_strand(executor));
    boost::system::error_code ec;
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted) co_return;  // closed by stop_on_signal
    if (ec) {
      co_await pause(accept_retry);
      continue;
    }
    auto executor = socket.get_executor();
    asio::co_spawn(executor, serve_connection(std::move(socket), ctx), asio::detached);
  }
}

asio::awaitable<void> stop_on_signal(asio::signal_set& signals, tcp::acceptor& acceptor,
                                     server_context& ctx, std::chrono::milliseconds grace,
                                     std::function<void()> stopped) {
  const int signal = co_await signals.async_wait(asio::use_awaitable);
  boost::system::error_code ignored;
  acceptor.close(ignored);
  ctx.draining = true;
  std::printf("signal %d: stopped accepting; %lld requests in flight\n", signal,
              static_cast<long long>(ctx.metrics.in_flight()));
  const bool drained = co_await drain(ctx.metrics, grace);
  std::printf(drained ? "every request answered\n"
                      : "grace period over: requests still in flight are abandoned\n");
  std::fflush(stdout);
  stopped();
}

}  // namespace server
