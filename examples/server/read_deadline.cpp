// read_deadline.cpp
#include "read_deadline.hpp"

namespace server {

read_deadline::read_deadline(boost::asio::ip::tcp::socket& socket)
    : watch_(std::make_shared<watch>(
          watch{&socket, boost::asio::steady_timer(socket.get_executor())})) {}

read_deadline::~read_deadline() {
  watch_->socket = nullptr;
  disarm();
}

void read_deadline::arm(std::chrono::milliseconds after) {
  watch_->expired = false;
  watch_->timer.expires_after(after);
  watch_->timer.async_wait(
      [w = watch_, generation = ++watch_->generation](boost::system::error_code ec) {
        if (ec || generation != w->generation || !w->socket) return;
        w->expired = true;
        w->socket->cancel(ec);
      });
}

void read_deadline::disarm() {
  ++watch_->generation;
  watch_->timer.cancel();
}

}  // namespace server
