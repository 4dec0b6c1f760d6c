// read_deadline.hpp — a deadline that cancels a socket's pending
// operations when it passes, leaving the socket open so the server can
// still answer 408 to a client too slow to send its request.
//
// (Beast's tcp_stream has timeouts too, but it closes the socket when one
// passes: no answer can follow.)
//
// Thread-safety: use it, its socket and their operations from one strand.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace server {

class read_deadline {
 public:
  explicit read_deadline(boost::asio::ip::tcp::socket& socket);
  // ~read_deadline() disarms: a timer that fires afterwards touches nothing.
  ~read_deadline();
  read_deadline(const read_deadline&) = delete;
  read_deadline& operator=(const read_deadline&) = delete;

  // arm() cancels the socket's operations `after` from now, unless
  // disarm() or arm() comes first.
  void arm(std::chrono::milliseconds after);
  void disarm();
  // expired() says whether the last arm() ran out (and cancelled).
  bool expired() const noexcept { return watch_->expired; }

 private:
  // watch outlives this object while the timer's handler holds it; the
  // generation tells a handler whether it belongs to the current arm().
  struct watch {
    boost::asio::ip::tcp::socket* socket;
    boost::asio::steady_timer timer;
    std::uint64_t generation = 0;
    bool expired = false;
  };
  std::shared_ptr<watch> watch_;
};

}  // namespace server
