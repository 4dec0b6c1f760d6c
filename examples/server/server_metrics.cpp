// server_metrics.cpp — Prometheus text format: one "# HELP" and one
// "# TYPE" line per family, then its samples; label values are escaped
// (backslash, quote, newline) although the router's labels never need it.
#include "server_metrics.hpp"

namespace server {
namespace {

std::string label_value(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out;
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void sample(std::string& out, std::string_view name, std::int64_t value) {
  out.append(name).append(" ").append(std::to_string(value)).append("\n");
}

}  // namespace

void server_metrics::record(std::string_view route, unsigned status) {
  std::lock_guard lock(requests_mutex_);
  ++requests_[{route, status}];
}

std::string server_metrics::requests_family() const {
  std::string out;
  family(out, "tandem_server_requests_total", "counter",
         "HTTP requests answered, by route and status code.");
  std::lock_guard lock(requests_mutex_);
  for (const auto& [key, count] : requests_)
    out.append("tandem_server_requests_total{route=\"")
        .append(label_value(key.first))
        .append("\",code=\"")
        .append(std::to_string(key.second))
        .append("\"} ")
        .append(std::to_string(count))
        .append("\n");
  return out;
}

std::string server_metrics::prometheus_text() const {
  std::string out = requests_family();
  family(out, "tandem_server_requests_in_flight", "gauge", "Requests being handled now.");
  sample(out, "tandem_server_requests_in_flight", in_flight());
  family(out, "tandem_server_connections_open", "gauge", "Client connections open now.");
  sample(out, "tandem_server_connections_open", connections());
  return out;
}

}  // namespace server
