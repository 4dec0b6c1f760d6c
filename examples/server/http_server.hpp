// http_server.hpp — the server as one object: its counters, router,
// listening socket and signal handling, on any Asio executor (tandem's io
// lane, or a plain io_context for the inline baseline).
//
//   server::http_server srv(rt.io_executor(), opts, work);
//   srv.start([&] { done.set_value(); });   // called once a signal drained it
//
// Coroutines it starts refer to it: keep it alive until the executor's
// pending work is destroyed (tandem::runtime::shutdown(), or the context's
// shutdown) after `stopped` was called.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>

#include <functional>

#include "http_session.hpp"
#include "options.hpp"
#include "router.hpp"
#include "server_metrics.hpp"

namespace server {

class cpu_work;

class http_server {
 public:
  // http_server() binds 127.0.0.1:o.port and installs the SIGTERM/SIGINT
  // handler (so a signal from now on stops it gracefully). Throws
  // boost::system::system_error if the port cannot be bound.
  http_server(const boost::asio::any_io_executor& executor, const options& o, cpu_work& work);

  // port() is the port bound (useful with --port 0).
  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  // start() begins accepting; `stopped` is called (on the executor) once a
  // signal stopped the server and requests in flight were answered or the
  // grace period passed.
  void start(std::function<void()> stopped);

 private:
  server_metrics metrics_;
  router router_;
  server_context context_;
  std::chrono::milliseconds grace_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::signal_set signals_;
};

}  // namespace server
