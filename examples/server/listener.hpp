// listener.hpp — accepting clients, and stopping gracefully on a signal.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <functional>

namespace server {

struct server_context;

// accept_loop() accepts clients until `acceptor` is closed; each one is
// served (serve_connection) on a strand of its own over `executor` (not
// over the acceptor's strand, which would serialize every connection).
boost::asio::awaitable<void> accept_loop(boost::asio::ip::tcp::acceptor& acceptor,
                                         boost::asio::any_io_executor executor,
                                         server_context& ctx);

// stop_on_signal() waits for one of `signals` (SIGTERM, SIGINT), then
// stops accepting (closes `acceptor`), tells every connection to close
// after its current response, and waits until no request is in flight or
// `grace` has passed; then it calls `stopped`, which ends the program's
// run. The acceptor, the signal set and this coroutine share one strand.
boost::asio::awaitable<void> stop_on_signal(boost::asio::signal_set& signals,
                                            boost::asio::ip::tcp::acceptor& acceptor,
                                            server_context& ctx, std::chrono::milliseconds grace,
                                            std::function<void()> stopped);

}  // namespace server
