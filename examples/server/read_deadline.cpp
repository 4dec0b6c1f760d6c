// read_deadline.cpp
#include "read_deadline.hpp"

namespace server {

read_deadline::read_deadline(boost::asio::ip::tcp::socket& socket)
    : watch_(std::make_shared<watch>(
          watch{&socket, boost::asio::steady_timer(socket.get_executor())})) {}

read_deadline::~read_deadline() {
  watch_->socket = nullptr;
  watch_->timer.cancel();
}

void read_deadline::arm(std::chrono::milliseconds after) {
  watch_->expired = false;
  watch_->deadline = clock::now() + after;
  // A waiting timer wakes by the old expiry and waits again for the rest;
  // it is only re-set (a system call) when the new deadline is earlier.
  if (!watch_->waiting || watch_->deadline < watch_->timer.expiry()) wait(watch_);
}

void read_deadline::disarm() noexcept { watch_->deadline = clock::time_point::max(); }

void read_deadline::wait(const std::shared_ptr<watch>& w) {
  w->waiting = true;
  w->timer.expires_at(w->deadline);  // a wait it cancels finds its generation stale
  w->timer.async_wait([w, generation = ++w->generation](boost::system::error_code ec) {
    if (generation != w->generation || !w->socket) return;
    w->waiting = false;
    if (ec || w->deadline == clock::time_point::max()) return;
    if (clock::now() < w->deadline) return wait(w);
    w->expired = true;
    w->socket->cancel(ec);
  });
}

}  // namespace server
