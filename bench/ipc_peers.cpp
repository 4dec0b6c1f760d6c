#include "ipc_peers.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <boost/date_time/posix_time/posix_time_types.hpp>

#include "ipc/doorbell.hpp"
#include "ipc/futex.hpp"
#include "ipc/spsc_ring.hpp"  // cache_line

namespace ipc_bench {
namespace {

namespace ipc = tandem::ipc;

constexpr auto acquire = std::memory_order_acquire;
constexpr auto release = std::memory_order_release;

ipc::segment small_segment() {
  return ipc::segment({std::size_t{1} << 20, ipc::segment_backing::anonymous});
}

// spin_until() spins (PAUSE) until ready() holds; false after peer_timeout.
// Every 4096 turns (tens of microseconds, far above a round trip) it also
// yields: on a machine whose cores are shared, the peer may be waiting for
// this very core, and a pure spinner would hold it for a whole time slice.
template <class Ready>
bool spin_until(Ready&& ready) {
  const auto deadline = steady_clock::now() + peer_timeout;
  for (unsigned i = 1;; ++i) {
    if (ready()) return true;
    ipc::cpu_relax();
    if (i % 4096 != 0) continue;
    if (steady_clock::now() > deadline) return false;
    sched_yield();
  }
}

// wait_change() parks until `word` no longer holds `from`; nullopt after
// peer_timeout.
std::optional<std::uint32_t> wait_change(const std::atomic<std::uint32_t>& word,
                                         std::uint32_t from) {
  const auto deadline = steady_clock::now() + peer_timeout;
  for (;;) {
    const std::uint32_t seen = word.load(acquire);
    if (seen != from) return seen;
    const auto left = deadline - steady_clock::now();
    if (left <= steady_clock::duration::zero()) return std::nullopt;
    ipc::futex_wait(word, from, ipc::futex_scope::shared, left);
  }
}

bool write_all(int fd, const void* data, std::size_t bytes) {
  const auto* at = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = write(fd, at, bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    at += n;
    bytes -= static_cast<std::size_t>(n);
  }
  return true;
}

bool read_all(int fd, void* data, std::size_t bytes) {
  auto* at = static_cast<char*>(data);
  while (bytes > 0) {
    const ssize_t n = read(fd, at, bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // EOF: the peer is gone
    at += n;
    bytes -= static_cast<std::size_t>(n);
  }
  return true;
}

void close_fd(int& fd) noexcept {
  if (fd >= 0) close(fd);
  fd = -1;
}

}  // namespace

// ---- futex_floor ------------------------------------------------------------

constexpr std::uint32_t futex_stop = ~std::uint32_t{0};

futex_floor::futex_floor()
    : memory_(small_segment()), word_(memory_.construct<std::atomic<std::uint32_t>>(0u)) {}

int futex_floor::serve() {
  for (std::uint32_t last = 0;;) {
    const auto request = wait_change(*word_, last);
    if (!request) return 1;
    if (*request == futex_stop) return 0;
    last = *request + 1;
    word_->store(last, release);
    ipc::futex_wake(*word_, 1, ipc::futex_scope::shared);
  }
}

void futex_floor::call(std::uint64_t seq) {
  const auto request = static_cast<std::uint32_t>(2 * seq + 1);
  word_->store(request, release);
  ipc::futex_wake(*word_, 1, ipc::futex_scope::shared);
  if (wait_change(*word_, request) != request + 1) fail("futex_floor: no reply");
}

void futex_floor::stop() {
  word_->store(futex_stop, release);
  ipc::futex_wake(*word_, 1, ipc::futex_scope::shared);
}

// ---- spin_floor -------------------------------------------------------------

struct spin_floor::words {
  alignas(ipc::cache_line) std::atomic<std::uint64_t> ping{0};
  alignas(ipc::cache_line) std::atomic<std::uint64_t> pong{0};
};

spin_floor::spin_floor() : memory_(small_segment()), words_(memory_.construct<words>()) {}

int spin_floor::serve() {
  for (std::uint64_t last = 0;;) {
    if (!spin_until([&] { return words_->ping.load(acquire) != last; })) return 1;
    last = words_->ping.load(acquire);
    if (last == stop_seq) return 0;
    words_->pong.store(last, release);
  }
}

void spin_floor::call(std::uint64_t seq) {
  words_->ping.store(seq + 1, release);
  if (!spin_until([&] { return words_->pong.load(acquire) == seq + 1; }))
    fail("spin_floor: no reply");
}

void spin_floor::stop() { words_->ping.store(stop_seq, release); }

// ---- fd_pair ----------------------------------------------------------------

fd_pair::fd_pair(fd_kind kind) {
  int a[2], b[2];
  if (kind == fd_kind::unix_socketpair) {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a) != 0) fail("socketpair failed");
    parent_out_ = parent_in_ = a[0];
    child_in_ = child_out_ = a[1];
    return;
  }
  if (pipe2(a, O_CLOEXEC) != 0) fail("pipe failed");
  if (pipe2(b, O_CLOEXEC) != 0) {
    close(a[0]), close(a[1]);
    fail("pipe failed");
  }
  child_in_ = a[0], parent_out_ = a[1];
  parent_in_ = b[0], child_out_ = b[1];
}

fd_pair::~fd_pair() {
  if (parent_in_ == parent_out_) parent_in_ = -1;  // one socket, closed once
  close_fd(parent_in_);
  close_fd(parent_out_);
  forked();
}

void fd_pair::forked() {
  if (child_in_ == child_out_) child_in_ = -1;
  close_fd(child_in_);
  close_fd(child_out_);
}

int fd_pair::serve() {
  for (message m;;) {
    if (!read_all(child_in_, m.data(), m.size())) return 1;
    if (seq_of(m) == stop_seq) return 0;
    if (!write_all(child_out_, m.data(), m.size())) return 1;
  }
}

void fd_pair::call(std::uint64_t seq) {
  const message request = make_message(seq);
  message reply;
  if (!write_all(parent_out_, request.data(), request.size()) ||
      !read_all(parent_in_, reply.data(), reply.size()) || seq_of(reply) != seq)
    fail("fd_pair: no reply");
}

void fd_pair::stop() {
  const message request = make_message(stop_seq);
  write_all(parent_out_, request.data(), request.size());
}

// ---- bip_mq -----------------------------------------------------------------

namespace {

// unlinked_queue() creates a queue under a name no other run uses and
// removes the name at once: both processes keep the mapping (the child
// inherits it), and nothing is left in /dev/shm whatever happens next.
std::unique_ptr<boost::interprocess::message_queue> unlinked_queue() {
  using boost::interprocess::message_queue;
  static unsigned made = 0;
  const std::string name =
      "tandem-bench-ipc-" + std::to_string(getpid()) + "-" + std::to_string(made++);
  try {
    auto queue = std::make_unique<message_queue>(boost::interprocess::create_only, name.c_str(), 1,
                                                 message_bytes);
    message_queue::remove(name.c_str());
    return queue;
  } catch (...) {
    message_queue::remove(name.c_str());
    throw;
  }
}

}  // namespace

bip_mq::bip_mq() : requests_(unlinked_queue()), replies_(unlinked_queue()) {}

int bip_mq::serve() {
  message m;
  for (;;) {
    std::size_t got = 0;
    unsigned priority = 0;
    requests_->receive(m.data(), m.size(), got, priority);
    if (got != m.size()) return 1;
    if (seq_of(m) == stop_seq) return 0;
    replies_->send(m.data(), m.size(), 0);
  }
}

void bip_mq::call(std::uint64_t seq) {
  const message request = make_message(seq);
  requests_->send(request.data(), request.size(), 0);
  message reply;
  std::size_t got = 0;
  unsigned priority = 0;
  const auto deadline = boost::posix_time::microsec_clock::universal_time() +
                        boost::posix_time::seconds(peer_timeout.count());
  if (!replies_->timed_receive(reply.data(), reply.size(), got, priority, deadline) ||
      got != reply.size() || seq_of(reply) != seq)
    fail("bip_mq: no reply");
}

void bip_mq::stop() {
  const message request = make_message(stop_seq);
  requests_->send(request.data(), request.size(), 0);
}

// ---- ring_floor -------------------------------------------------------------

constexpr std::size_t ring_floor_slots = 1024;  // 64 KiB, as tandem's ring

struct ring_floor::state {
  alignas(ipc::cache_line) std::atomic<std::uint64_t> head{0};  // messages published
  alignas(ipc::cache_line) std::atomic<std::uint64_t> tail{0};  // messages consumed
  alignas(ipc::cache_line) std::array<message, ring_floor_slots> slots;
};

ring_floor::ring_floor(unsigned batch)
    : batch_(batch), memory_(small_segment()), state_(memory_.construct<state>()) {}

int ring_floor::produce(std::uint64_t count) {
  std::uint64_t tail_seen = 0;
  for (std::uint64_t seq = 0; seq < count; ++seq) {
    if (seq - tail_seen >= ring_floor_slots && !spin_until([&] {
          return seq - (tail_seen = state_->tail.load(acquire)) < ring_floor_slots;
        }))
      return 1;
    state_->slots[seq % ring_floor_slots] = make_message(seq);
    if ((seq + 1) % batch_ == 0) state_->head.store(seq + 1, release);
  }
  state_->head.store(count, release);
  return 0;
}

void ring_floor::consume(std::uint64_t seq) {
  if (head_seen_ <= seq &&
      !spin_until([&] { return (head_seen_ = state_->head.load(acquire)) > seq; }))
    fail("ring_floor: no message");
  if (seq_of(state_->slots[seq % ring_floor_slots]) != seq) fail("ring_floor: wrong message");
  if ((seq + 1) % batch_ == 0) state_->tail.store(seq + 1, release);
}

// ---- block_floor ------------------------------------------------------------

// The blocks in flight: enough that the producer seldom waits for the
// consumer (64 of 4 KiB), few enough that they stay in the cores' caches
// (4 MiB at most: a 16 MiB ring of 4 KiB blocks halves the rate here).
std::uint64_t floor_blocks(std::size_t payload_bytes) {
  constexpr std::uint64_t most_blocks = 64;
  return std::clamp<std::uint64_t>((std::size_t{4} << 20) / payload_bytes, 2, most_blocks);
}

struct block_floor::indices {
  alignas(ipc::cache_line) std::atomic<std::uint64_t> head{0};  // payloads published
  alignas(ipc::cache_line) std::atomic<std::uint64_t> tail{0};  // payloads read
};

block_floor::block_floor(std::size_t payload_bytes)
    : payload_bytes_(std::max(payload_bytes, sizeof(std::uint64_t))),
      blocks_(floor_blocks(payload_bytes_)),
      memory_({blocks_ * payload_bytes_ + (std::size_t{1} << 20), ipc::segment_backing::anonymous}),
      indices_(memory_.construct<indices>()),
      arena_(static_cast<std::byte*>(memory_.allocate(blocks_ * payload_bytes_, ipc::cache_line))) {
}

std::byte* block_floor::block(std::uint64_t seq) const {
  return arena_ + seq % blocks_ * payload_bytes_;
}

int block_floor::produce(std::uint64_t count) {
  std::vector<std::byte> payload(payload_bytes_);
  std::uint64_t tail_seen = 0;
  for (std::uint64_t seq = 0; seq < count; ++seq) {
    if (seq - tail_seen >= blocks_ &&
        !spin_until([&] { return seq - (tail_seen = indices_->tail.load(acquire)) < blocks_; }))
      return 1;
    std::memcpy(payload.data(), &seq, sizeof seq);
    std::memcpy(block(seq), payload.data(), payload_bytes_);
    indices_->head.store(seq + 1, release);
  }
  return 0;
}

void block_floor::consume(std::uint64_t seq) {
  if (head_seen_ <= seq &&
      !spin_until([&] { return (head_seen_ = indices_->head.load(acquire)) > seq; }))
    fail("block_floor: no payload");
  if (seq_of({block(seq), payload_bytes_}) != seq) fail("block_floor: wrong payload");
  indices_->tail.store(seq + 1, release);
}

// ---- memcpy -----------------------------------------------------------------

double memcpy_seconds(std::size_t bytes, std::uint64_t count) {
  std::vector<std::byte> source(bytes, std::byte{1});
  std::vector<std::byte> arena(std::size_t{16} << 20);
  const std::size_t slots = std::max<std::size_t>(1, arena.size() / bytes);
  const auto start = steady_clock::now();
  for (std::uint64_t seq = 0; seq < count; ++seq) {
    std::memcpy(source.data(), &seq, sizeof seq);
    std::memcpy(arena.data() + seq % slots * bytes, source.data(), bytes);
  }
  // The arena is never read: tell the compiler the copies are observed.
  asm volatile("" : : "r"(arena.data()) : "memory");
  return std::chrono::duration<double>(steady_clock::now() - start).count();
}

}  // namespace ipc_bench
