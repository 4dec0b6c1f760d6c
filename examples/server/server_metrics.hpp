// server_metrics.hpp — what the server counts about itself, served by
// GET /metrics in Prometheus' text format (version 0.0.4), before the
// runtime's own figures (tandem::to_prometheus, see cpu_work.hpp).
//
//   server_metrics m;
//   m.record("/cpu/fib", 200);
//   std::string text = m.prometheus_text();
//
// Route labels are a fixed set of static strings chosen by the router
// (unknown paths share one label), so the number of series stays bounded
// whatever clients ask for.
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace server {

class server_metrics {
 public:
  // record() counts one answered request; `route` must outlive this object
  // (a string literal).
  void record(std::string_view route, unsigned status);

  // gauge_guard adds one to a gauge for its own lifetime.
  class gauge_guard {
   public:
    explicit gauge_guard(std::atomic<std::int64_t>& gauge) : gauge_(gauge) { gauge_.fetch_add(1); }
    gauge_guard(const gauge_guard&) = delete;
    gauge_guard& operator=(const gauge_guard&) = delete;
    ~gauge_guard() { gauge_.fetch_sub(1); }

   private:
    std::atomic<std::int64_t>& gauge_;
  };
  // request_in_flight() counts a request in flight, connection_open() an
  // open connection, while the guard they return lives.
  [[nodiscard]] gauge_guard request_in_flight() { return gauge_guard(in_flight_); }
  [[nodiscard]] gauge_guard connection_open() { return gauge_guard(connections_); }

  // in_flight() is the requests being handled now (graceful shutdown waits
  // for it to reach 0); connections() the connections open now.
  std::int64_t in_flight() const noexcept { return in_flight_.load(); }
  std::int64_t connections() const noexcept { return connections_.load(); }

  // prometheus_text() is the server's families ("tandem_server_...").
  std::string prometheus_text() const;

 private:
  std::string requests_family() const;

  std::atomic<std::int64_t> in_flight_{0};
  std::atomic<std::int64_t> connections_{0};
  mutable std::mutex requests_mutex_;  // guards requests_
  std::map<std::pair<std::string_view, unsigned>, std::uint64_t> requests_;
};

}  // namespace server
