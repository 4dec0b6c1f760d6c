// http_session.cpp — the connection loop.
#include "http_session.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <optional>
#include <string>
#include <utility>

#include "read_deadline.hpp"
#include "reply.hpp"
#include "router.hpp"
#include "server_metrics.hpp"

namespace server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// Answers given before any route is found count under this label.
constexpr std::string_view refused_label = "refused";
// After an answer that closes the connection, at most this much of what
// the client still sends is read (and dropped) before closing, for at most
// linger_time: closing with unread data would make the kernel send a reset
// that can destroy the answer before the client reads it.
constexpr std::size_t linger_bytes = 64 * 1024;
constexpr std::chrono::milliseconds linger_time{500};

// connection is one client's socket, its deadline and its read buffer.
struct connection {
  explicit connection(tcp::socket s, const connection_limits& limits)
      : socket(std::move(s)), deadline(socket), buffer(limits.header_bytes + limits.body_bytes) {}
  tcp::socket socket;
  read_deadline deadline;
  beast::flat_buffer buffer;  // its max_size bounds a client's unread bytes
};

// refusal() is the answer to a request that could not be read, or nothing
// when no one awaits one: the connection broke or was closed, or an idle
// client sent nothing before the timeout.
std::optional<reply> refusal(error_code ec, bool timed_out, bool got_some,
                             const connection_limits& limits) {
  if (timed_out)
    return got_some
               ? std::optional(error_reply(http::status::request_timeout,
                                           "the request did not arrive within " +
                                               std::to_string(limits.read_timeout.count()) + " ms"))
               : std::nullopt;
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
    return error_reply(
        http::status::request_header_fields_too_large,
        "the request header is larger than " + std::to_string(limits.header_bytes) + " bytes");
  if (ec == http::error::body_limit)
    return error_reply(
        http::status::payload_too_large,
        "the request body is larger than " + std::to_string(limits.body_bytes) + " bytes");
  if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
      ec.category() != http::make_error_code(http::error::end_of_stream).category())
    return std::nullopt;
  return error_reply(http::status::bad_request, "malformed HTTP request: " + ec.message());
}

// framing_refusal() is the answer to a request whose body framing is not
// taken, or nothing. Beast frames a request whose Transfer-Encoding does
// not end in "chunked" as having no body, so its body would be read as the
// next request: a request smuggled past a proxy that frames it otherwise.
// The server decodes no coding but chunked, so anything but one field
// saying just "chunked" is refused, and the connection closed after it.
std::optional<reply> framing_refusal(const request& req) {
  const std::size_t fields = req.count(http::field::transfer_encoding);
  if (fields == 0 ||
      (fields == 1 && beast::iequals(req[http::field::transfer_encoding], "chunked")))
    return std::nullopt;
  return error_reply(http::status::bad_request,
                     "unsupported Transfer-Encoding: only one field saying 'chunked' is taken");
}

// send() writes `res` within the read timeout; false if it failed.
asio::awaitable<bool> send(connection& c, response res, const connection_limits& limits) {
  error_code ec;
  c.deadline.arm(limits.read_timeout);
  co_await http::async_write(c.socket, res, asio::redirect_error(asio::use_awaitable, ec));
  c.deadline.disarm();
  co_return !ec;
}

// close_gently() ends the connection after a last answer (see linger_bytes).
asio::awaitable<void> close_gently(connection& c) {
  error_code ec;
  c.socket.shutdown(tcp::socket::shutdown_send, ec);
  std::array<char, 4096> sink;
  std::size_t drained = 0;
  c.deadline.arm(linger_time);
  while (!ec && drained < linger_bytes)
    drained += co_await c.socket.async_read_some(asio::buffer(sink),
                                                 asio::redirect_error(asio::use_awaitable, ec));
  c.deadline.disarm();
}

// refuse() sends a refusal and counts it; the connection ends after it.
asio::awaitable<void> refuse(connection& c, const reply& r, server_context& ctx) {
  ctx.metrics.record(refused_label, unsigned(r.status));
  response res = to_response(r, 11, false);
  const bool sent = co_await send(c, std::move(res), ctx.limits);
  if (sent) co_await close_gently(c);
}

// serve_one() reads one request and answers it; true while the connection
// stays open for the next one.
asio::awaitable<bool> serve_one(connection& c, server_context& ctx) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(std::uint32_t(ctx.limits.header_bytes));
  parser.body_limit(ctx.limits.body_bytes);
  error_code ec;
  c.deadline.arm(ctx.limits.read_timeout);
  co_await http::async_read(c.socket, c.buffer, parser,
                            asio::redirect_error(asio::use_awaitable, ec));
  c.deadline.disarm();
  if (ec) {
    const bool got_some = parser.got_some() || c.buffer.size() > 0;
    const std::optional<reply> r = refusal(ec, c.deadline.expired(), got_some, ctx.limits);
    if (r) co_await refuse(c, *r, ctx);
    co_return false;
  }
  if (const std::optional<reply> r = framing_refusal(parser.get())) {
    co_await refuse(c, *r, ctx);
    co_return false;
  }
  const auto in_flight = ctx.metrics.request_in_flight();
  response res = co_await ctx.routes.handle(parser.get());
  const bool keep_alive = res.keep_alive() && !ctx.draining.load();
  res.keep_alive(keep_alive);
  co_return co_await send(c, std::move(res), ctx.limits) && keep_alive;
}

}  // namespace

asio::awaitable<void> serve_connection(tcp::socket socket, server_context& ctx) {
  const auto counted = ctx.metrics.connection_open();
  connection c(std::move(socket), ctx.limits);
  if (ctx.metrics.connections() > ctx.limits.max_connections) {
    const reply busy = error_reply(http::status::service_unavailable, "too many connections");
    co_await refuse(c, busy, ctx);
    co_return;
  }
  while (co_await serve_one(c, ctx)) {
  }
  error_code ignored;
  c.socket.shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace server
