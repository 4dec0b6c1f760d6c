// read_deadline.hpp — a deadline that cancels a socket's pending
// operations when it passes, leaving the socket open so the server can
// still answer 408 to a client too slow to send its request.
//
// (Beast's tcp_stream has timeouts too, but it closes the socket when one
// passes: no answer can follow.)
//
// The timer is lazy: arm() and disarm() only move a time point, and the
// timer, once waiting, wakes at most once per timeout to look at it. So a
// request costs no timer system call (timerfd) and no reactor lock, where
// re-arming the timer for every read and write would cost several.
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
  void disarm() noexcept;
  // expired() says whether the last arm() ran out (and cancelled).
  bool expired() const noexcept { return watch_->expired; }

 private:
  using clock = boost::asio::steady_timer::clock_type;

  // watch outlives this object while the timer's handler holds it; the
  // generation tells a handler whether it belongs to the latest wait.
  struct watch {
    boost::asio::ip::tcp::socket* socket;
    boost::asio::steady_timer timer;
    clock::time_point deadline = clock::time_point::max();
    std::uint64_t generation = 0;
    bool waiting = false;
    bool expired = false;
  };
  static void wait(const std::shared_ptr<watch>& w);

  std::shared_ptr<watch> watch_;
};

}  // namespace server
