#include "cpu_lane_peers.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "ipc/doorbell.hpp"
#include "ipc/futex.hpp"
#include "ipc/pdeathsig.hpp"

namespace cpu_lane {

namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// transfer() moves all `length` bytes with read() or write(), resuming
// after a signal or a short transfer; false at end of file or on an error.
// Async-signal-safe, for the children too.
template <class Call, class Byte>
bool transfer(Call call, int fd, Byte* data, std::size_t length) noexcept {
  while (length > 0) {
    const ssize_t done = call(fd, data, length);
    if (done < 0 && errno == EINTR) continue;
    if (done <= 0) return false;
    data += done;
    length -= static_cast<std::size_t>(done);
  }
  return true;
}

bool read_all(int fd, void* data, std::size_t length) noexcept {
  return transfer(::read, fd, static_cast<char*>(data), length);
}

bool write_all(int fd, const void* data, std::size_t length) noexcept {
  return transfer(::write, fd, static_cast<const char*>(data), length);
}

void close_fd(int& fd) noexcept {
  if (fd >= 0) ::close(std::exchange(fd, -1));
}

}  // namespace

// ---- forked_child -------------------------------------------------------------

forked_child::forked_child(const std::function<void()>& body, const std::vector<int>& keep) {
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) throw_errno("fork");
  if (pid_ != 0) return;
  try {
    tandem::ipc::die_with_parent(parent, SIGKILL);
  } catch (...) {
    _exit(70);
  }
  // keep[i] >= 3 while 0, 1 and 2 are open, so no dup2 clobbers a later one.
  for (std::size_t i = 0; i < keep.size(); ++i)
    if (dup2(keep[i], static_cast<int>(i)) < 0) _exit(71);
  close_range(3, ~0U, 0);
  body();
  _exit(0);
}

forked_child::forked_child(forked_child&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}

forked_child::~forked_child() {
  if (pid_ <= 0) return;
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

// ---- pipe_pool ------------------------------------------------------------------

pipe_pool::pipe_pool(unsigned children, std::size_t items) : buffer_(items) {
  children_.reserve(children);
  processes_.reserve(children);
  try {
    for (unsigned i = 0; i < children; ++i) start_child(items);
  } catch (...) {
    stop();
    throw;
  }
}

pipe_pool::~pipe_pool() { stop(); }

void pipe_pool::stop() noexcept {
  for (auto& c : children_) close_fd(c.request);  // each child reads EOF and exits
  processes_.clear();                             // reaps them
  for (auto& c : children_) close_fd(c.reply);
  children_.clear();
}

void pipe_pool::start_child(std::size_t items) {
  int request[2], reply[2];
  if (pipe2(request, O_CLOEXEC) != 0) throw_errno("pipe2");
  if (pipe2(reply, O_CLOEXEC) != 0) {
    ::close(request[0]);
    ::close(request[1]);
    throw_errno("pipe2");
  }
  children_.push_back({request[1], reply[0], {}});
  const std::size_t bytes = items * sizeof(int);
  const int capacity = fcntl(reply[0], F_GETPIPE_SZ);
  window_ =
      std::max<std::size_t>(1, static_cast<std::size_t>(capacity > 0 ? capacity : 4096) / bytes);
  // The child: 0 is its request pipe, 1 its reply pipe.
  int* buffer = buffer_.data();
  auto serve = [buffer, bytes] {
    while (read_all(0, buffer, bytes)) {
      for (std::size_t i = 0; i < bytes / sizeof(int); ++i) ++buffer[i];
      if (!write_all(1, buffer, bytes)) return;
    }
  };
  try {
    processes_.emplace_back(serve, std::vector<int>{request[0], reply[1]});
  } catch (...) {
    ::close(request[0]);
    ::close(reply[1]);
    throw;
  }
  ::close(request[0]);
  ::close(reply[1]);
}

void pipe_pool::run(std::size_t requests, const fill_fn& fill, const take_fn& take) {
  const std::size_t bytes = buffer_.size() * sizeof(int);
  for (std::size_t i = 0; i < requests; ++i) {
    child& c = children_[next_];
    next_ = (next_ + 1) % children_.size();
    if (c.in_flight.size() == window_) receive(c, take);
    fill(i, buffer_);
    if (!write_all(c.request, buffer_.data(), bytes))
      throw std::runtime_error("pipe_pool: a child stopped reading its requests");
    c.in_flight.push_back(i);
  }
  for (auto& c : children_)
    while (!c.in_flight.empty()) receive(c, take);
}

void pipe_pool::receive(child& c, const take_fn& take) {
  if (!read_all(c.reply, buffer_.data(), buffer_.size() * sizeof(int)))
    throw std::runtime_error("pipe_pool: a child ended before it replied");
  take(c.in_flight.front(), buffer_);
  c.in_flight.pop_front();
}

// ---- futex_floor ----------------------------------------------------------------

futex_floor::futex_floor(bool spinning)
    : memory_({std::size_t{64} << 10, tandem::ipc::segment_backing::anonymous}),
      words_(memory_.construct<words>()),
      spinning_(spinning),
      child_([this] { serve(); }, {}) {}

futex_floor::~futex_floor() {
  words_->stop.store(1, std::memory_order_seq_cst);
  pass(sent_ + 1);  // an odd turn wakes the child, which sees stop and exits
}

void futex_floor::round_trip() noexcept {
  pass(++sent_);  // odd: a request
  await_change(sent_);
  ++sent_;  // the child's reply made it even
}

void futex_floor::serve() noexcept {
  std::uint32_t seen = 0;
  for (;;) {
    await_change(seen);
    if (words_->stop.load(std::memory_order_seq_cst) != 0) return;
    seen = words_->turn.load(std::memory_order_acquire) + 1;
    pass(seen);
  }
}

void futex_floor::pass(std::uint32_t value) noexcept {
  words_->turn.store(value, std::memory_order_seq_cst);
  if (!spinning_) tandem::ipc::futex_wake(words_->turn, 1, tandem::ipc::futex_scope::shared);
}

void futex_floor::await_change(std::uint32_t from) const noexcept {
  while (words_->turn.load(std::memory_order_acquire) == from) {
    if (spinning_)
      tandem::ipc::cpu_relax();
    else
      tandem::ipc::futex_wait(words_->turn, from, tandem::ipc::futex_scope::shared);
  }
}

}  // namespace cpu_lane
