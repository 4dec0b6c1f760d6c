// http_session.hpp — one client connection: requests read one after
// another (keep-alive), each answered by the router.
//
// What one connection may cost is bounded: a request's header and body
// have size limits (431 and 413 past them), a request must arrive within
// the read timeout once the client is idle (408 if it started, a plain
// close if it sent nothing), a response must be taken within the same time,
// and past max_connections a new client gets 503 at once. Malformed HTTP,
// and a Transfer-Encoding other than "chunked" (the server decodes no
// other, and guessing would let a request hide in another's body), get
// 400, then the connection closes.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace server {

class router;
class server_metrics;

// connection_limits bound one connection (and, with max_connections, all).
struct connection_limits {
  std::size_t header_bytes = 8 * 1024;
  std::uint64_t body_bytes = 4 * 1024;
  std::chrono::milliseconds read_timeout{10'000};
  std::int64_t max_connections = 1024;
};

// server_context is what every connection shares. Once `draining` is set
// (shutdown began) each connection closes after its current response.
struct server_context {
  router& routes;
  server_metrics& metrics;
  connection_limits limits;
  std::atomic<bool> draining{false};
};

// serve_connection() serves `socket` until the client closes, an error, a
// limit, or draining ends it. Run it with co_spawn on the socket's
// executor, a strand (its deadline timer and its reads must not overlap).
boost::asio::awaitable<void> serve_connection(boost::asio::ip::tcp::socket socket,
                                              server_context& ctx);

}  // namespace server
