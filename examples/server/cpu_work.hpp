// cpu_work.hpp — where the server's /cpu/* endpoints do their work: in
// tandem's worker processes (lane_work), or right on the one thread of a
// plain Beast loop (inline_work, the benchmark's baseline).
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace tandem {
class runtime;
struct submit_options;
}  // namespace tandem

namespace server {

// not_available is thrown for work a mode cannot do safely (a crash or a
// hang on the server's own thread); the router answers 501.
class not_available : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// cpu_work is the interface the router awaits. Errors arrive as
// exceptions: tandem::worker_crashed, tandem::task_timeout,
// tandem::runtime_stopped, not_available.
class cpu_work {
 public:
  virtual ~cpu_work() = default;
  virtual boost::asio::awaitable<long> fib(int n) = 0;
  virtual boost::asio::awaitable<std::uint64_t> hash(int mib) = 0;
  virtual boost::asio::awaitable<void> crash() = 0;
  virtual boost::asio::awaitable<void> hang() = 0;
  // workers_alive() and workers_wanted() are the cpu processes now and the
  // count asked for (both 0 inline).
  virtual std::size_t workers_alive() const = 0;
  virtual std::size_t workers_wanted() const = 0;
  // prometheus_text() is the runtime's own figures for /metrics (lanes,
  // latencies, workers alive and restarts), "" inline.
  virtual std::string prometheus_text() const = 0;
};

// lane_work submits every task to `rt`'s cpu lane with `timeout`, so no
// request can hold a worker longer than that.
class lane_work final : public cpu_work {
 public:
  lane_work(tandem::runtime& rt, std::chrono::milliseconds timeout) : rt_(rt), timeout_(timeout) {}
  boost::asio::awaitable<long> fib(int n) override;
  boost::asio::awaitable<std::uint64_t> hash(int mib) override;
  boost::asio::awaitable<void> crash() override;
  boost::asio::awaitable<void> hang() override;
  std::size_t workers_alive() const override;
  std::size_t workers_wanted() const override;
  std::string prometheus_text() const override;

 private:
  tandem::submit_options options() const;

  tandem::runtime& rt_;
  std::chrono::milliseconds timeout_;
};

// inline_work computes on the calling thread; crash and hang are refused
// (they would take the whole server with them).
class inline_work final : public cpu_work {
 public:
  boost::asio::awaitable<long> fib(int n) override;
  boost::asio::awaitable<std::uint64_t> hash(int mib) override;
  boost::asio::awaitable<void> crash() override;
  boost::asio::awaitable<void> hang() override;
  std::size_t workers_alive() const override { return 0; }
  std::size_t workers_wanted() const override { return 0; }
  std::string prometheus_text() const override { return {}; }
};

}  // namespace server
