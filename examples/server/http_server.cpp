// http_server.cpp
#include "http_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address_v4.hpp>

#include <csignal>
#include <utility>

#include "listener.hpp"

namespace server {

namespace asio = boost::asio;

namespace {

connection_limits limits_of(const options& o) {
  connection_limits limits;
  limits.read_timeout = std::chrono::milliseconds(o.read_timeout_ms);
  limits.max_connections = o.max_connections;
  return limits;
}

}  // namespace

http_server::http_server(const asio::any_io_executor& executor, const options& o, cpu_work& work)
    : router_(work, metrics_),
      context_{router_, metrics_, limits_of(o)},
      grace_(o.grace_ms),
      strand_(asio::make_strand(executor)),
      acceptor_(strand_, {asio::ip::address_v4::loopback(), static_cast<unsigned short>(o.port)}),
      signals_(strand_, SIGTERM, SIGINT) {}

void http_server::start(std::function<void()> stopped) {
  asio::co_spawn(strand_, accept_loop(acceptor_, strand_.get_inner_executor(), context_),
                 asio::detached);
  asio::co_spawn(strand_, stop_on_signal(signals_, acceptor_, context_, grace_, std::move(stopped)),
                 asio::detached);
}

}  // namespace server
