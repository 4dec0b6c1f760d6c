// router.cpp — the endpoints. Parameters are read strictly: the query must
// be exactly "name=digits" for an endpoint that takes one and empty for one
// that takes none, so a typo is a 400 rather than a silent default.
#include "router.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <tandem/errors.hpp>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "cpu_work.hpp"
#include "json.hpp"
#include "server_metrics.hpp"
#include "strict_number.hpp"

namespace server {
namespace {

namespace asio = boost::asio;

// Past these a request would hold a connection or a worker longer than an
// example server should allow; the cpu ones are also cut by --timeout-ms.
constexpr std::uint64_t max_sleep_ms = 60'000, max_fib_n = 40, max_hash_mib = 256;
// The methods every route answers (a 405's Allow header): HEAD is not one.
constexpr std::string_view allowed_methods = "GET";
// The label shared by every path no route matches, so metrics stay bounded.
constexpr std::string_view unmatched_label = "unmatched";
// An echoed path is cut here, so an error body stays small.
constexpr std::size_t max_echoed_path = 128;

std::string usage_of(const router::route& r) {
  if (r.parameter.empty()) return std::string(r.path) + " takes no parameters";
  return std::string(r.path) + " takes one parameter, " + std::string(r.parameter) +
         ": a whole number from 0 to " + std::to_string(r.max) + " (e.g. " + std::string(r.path) +
         "?" + std::string(r.parameter) + "=1)";
}

// parameter_of() is the route's parameter read from `query` (0 for a
// route without one), or nothing when the query is not what it takes.
std::optional<std::uint64_t> parameter_of(const router::route& r, std::string_view query) {
  if (r.parameter.empty()) return query.empty() ? std::optional<std::uint64_t>(0) : std::nullopt;
  const auto eq = query.find('=');
  if (eq == std::string_view::npos || query.substr(0, eq) != r.parameter) return std::nullopt;
  return parse_bounded(query.substr(eq + 1), r.max);
}

std::string signal_name(int signal) {
  const char* abbrev = signal > 0 ? sigabbrev_np(signal) : nullptr;
  return abbrev ? std::string("SIG") + abbrev : "none";
}

reply crashed_reply(const tandem::worker_crashed& e) {
  return {http::status::internal_server_error, json_object()
                                                   .add("error", e.what())
                                                   .add("status", 500)
                                                   .add("signal", e.signal())
                                                   .add("signal_name", signal_name(e.signal()))
                                                   .add("pid", e.pid())
                                                   .str()};
}

std::string hex64(std::uint64_t value) {
  char text[19];
  std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(value));
  return text;
}

}  // namespace

reply failure_reply(std::exception_ptr failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const tandem::worker_crashed& e) {
    return crashed_reply(e);
  } catch (const tandem::task_timeout& e) {
    return error_reply(http::status::gateway_timeout, e.what());
  } catch (const tandem::runtime_stopped& e) {
    return error_reply(http::status::service_unavailable, e.what());
  } catch (const not_available& e) {
    return error_reply(http::status::not_implemented, e.what());
  } catch (const std::exception& e) {
    return error_reply(http::status::internal_server_error, e.what());
  }
}

const router::route* router::find(std::string_view path) {
  static constexpr std::array<route, 7> routes{{
      {"/io/sleep", "ms", max_sleep_ms, &router::sleep},
      {"/cpu/fib", "n", max_fib_n, &router::fib},
      {"/cpu/hash", "mib", max_hash_mib, &router::hash},
      {"/cpu/crash", "", 0, &router::crash},
      {"/cpu/hang", "", 0, &router::hang},
      {"/metrics", "", 0, &router::metrics},
      {"/healthz", "", 0, &router::healthz},
  }};
  for (const route& r : routes)
    if (r.path == path) return &r;
  return nullptr;
}

asio::awaitable<response> router::handle(const request& req) {
  const route* matched = nullptr;
  reply r = co_await answer(req, matched);
  metrics_.record(matched ? matched->path : unmatched_label, unsigned(r.status));
  co_return to_response(std::move(r), req.version(), req.keep_alive());
}

asio::awaitable<reply> router::answer(const request& req, const route*& matched) {
  const std::string_view target(req.target().data(), req.target().size());
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  matched = find(path);
  if (!matched)
    co_return error_reply(http::status::not_found,
                          "unknown path '" + std::string(path.substr(0, max_echoed_path)) + "'");
  if (req.method() != http::verb::get) {
    reply refused =
        error_reply(http::status::method_not_allowed, std::string(path) + " answers GET only");
    refused.allow = allowed_methods;
    co_return refused;
  }
  const auto query = question == std::string_view::npos ? "" : target.substr(question + 1);
  const auto value = parameter_of(*matched, query);
  if (!value) co_return error_reply(http::status::bad_request, usage_of(*matched));
  co_return co_await guarded(*matched, *value);
}

asio::awaitable<reply> router::guarded(const route& r, std::uint64_t value) {
  std::exception_ptr failure;
  try {
    co_return co_await (this->*r.serve)(value);
  } catch (...) {
    failure = std::current_exception();
  }
  co_return failure_reply(failure);
}

asio::awaitable<reply> router::sleep(std::uint64_t ms) {
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  co_await timer.async_wait(asio::use_awaitable);
  co_return reply{http::status::ok, json_object().add("slept_ms", ms).str()};
}

asio::awaitable<reply> router::fib(std::uint64_t n) {
  const long value = co_await work_.fib(int(n));
  co_return reply{http::status::ok, json_object().add("n", n).add("fib", value).str()};
}

asio::awaitable<reply> router::hash(std::uint64_t mib) {
  const std::uint64_t value = co_await work_.hash(int(mib));
  co_return reply{http::status::ok,
                  json_object().add("mib", mib).add("fnv1a64", hex64(value)).str()};
}

asio::awaitable<reply> router::crash(std::uint64_t) {
  co_await work_.crash();
  co_return error_reply(http::status::internal_server_error, "the crash task did not crash");
}

asio::awaitable<reply> router::hang(std::uint64_t) {
  co_await work_.hang();
  co_return error_reply(http::status::internal_server_error, "the hang task returned");
}

asio::awaitable<reply> router::metrics(std::uint64_t) {
  co_return reply{http::status::ok, metrics_.prometheus_text() + work_.prometheus_text(),
                  "text/plain; version=0.0.4; charset=utf-8"};
}

asio::awaitable<reply> router::healthz(std::uint64_t) {
  const std::size_t alive = work_.workers_alive();
  const std::size_t wanted = work_.workers_wanted();
  // Fewer workers than wanted is a replacement under way; none at all means
  // no cpu request can be served (say, the lane's zygote was killed).
  const bool serving = alive > 0 || wanted == 0;
  co_return reply{serving ? http::status::ok : http::status::service_unavailable,
                  json_object()
                      .add("status", alive == wanted ? "ok"
                                     : serving       ? "degraded"
                                                     : "unavailable")
                      .add("workers_alive", alive)
                      .add("workers_wanted", wanted)
                      .str()};
}

}  // namespace server
