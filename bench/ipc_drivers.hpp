// ipc_drivers.hpp — how bench/ipc runs a transport between the benchmark
// and a forked child, and times it.
//
// A transport is built in the parent before fork, so both processes hold
// it (shared memory, descriptors, queues). Two kinds:
//  * ping-pong: serve() runs in the child and answers every 64-byte request
//    with a reply carrying the same sequence number until the stop request,
//    returning the child's exit code; call(seq) runs in the parent, sends
//    request `seq` and waits for its reply; stop() sends the stop request.
//  * stream: produce(count) runs in the child and sends messages 0 ..
//    count-1; consume(seq) runs in the parent and waits for message `seq`.
// A transport may also have forked(), called in the parent right after the
// fork (to close the child's ends of pipes, say).
//
// Parent-side calls throw std::runtime_error (fail()) on a timeout or a
// wrong message; the forked_peer then kills and reaps the child as the
// stack unwinds.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "forked_peer.hpp"
#include "ipc/doorbell.hpp"
#include "ipc/segment.hpp"

namespace ipc_bench {

using std::chrono::steady_clock;

inline constexpr std::size_t message_bytes = 64;
inline constexpr std::uint64_t stop_seq = ~std::uint64_t{0};

// peer_timeout bounds every wait of either side, so a lost message fails
// the run instead of hanging it.
inline constexpr std::chrono::seconds peer_timeout{10};

// A message starts with its sequence number; the rest is zero.
using message = std::array<std::byte, message_bytes>;

inline message make_message(std::uint64_t seq) {
  message m{};
  std::memcpy(m.data(), &seq, sizeof seq);
  return m;
}

inline std::uint64_t seq_of(std::span<const std::byte> bytes) {
  std::uint64_t seq = stop_seq;
  if (bytes.size() >= sizeof seq) std::memcpy(&seq, bytes.data(), sizeof seq);
  return seq;
}

[[noreturn]] inline void fail(const std::string& what) { throw std::runtime_error(what); }

// prefault() reads one byte of every page, so neither process pays for
// page faults of a fresh shared mapping inside the timed part (a child does
// not inherit the page-table entries of shared mappings).
inline void prefault(std::span<const std::byte> memory) {
  volatile std::byte sink{};
  for (std::size_t at = 0; at < memory.size(); at += 4096) sink = memory[at];
  (void)sink;
}

template <class Transport>
void after_fork(Transport& link) {
  if constexpr (requires { link.forked(); }) link.forked();
}

// prefault_shared() prefaults the transport's shared memory, if it has any.
template <class Transport>
void prefault_shared(const Transport& link) {
  if constexpr (requires { link.shared_memory(); }) prefault(link.shared_memory());
}

// start_gate lets a stream's child finish its set-up (the page faults of
// the shared memory) and wake up before the clock starts: the child says
// it is ready and waits; the parent opens the gate; the child, awake, notes
// the time (CLOCK_MONOTONIC is one clock for both processes) and starts
// sending. Both wait on doorbells, so whichever waits long gives its core
// to the other, and neither wake-up is timed.
class start_gate {
 public:
  start_gate()
      : memory_({std::size_t{64} << 10, tandem::ipc::segment_backing::anonymous}),
        state_(memory_.construct<state>()) {}

  // pass() runs in the child; false if the gate never opened.
  bool pass() {
    state_->ready.store(1);
    state_->ready_bell.ring();
    if (!state_->go_bell.wait([&] { return state_->go.load() != 0; }, policy())) return false;
    state_->started_at.store(steady_clock::now().time_since_epoch().count());
    return true;
  }

  // open() runs in the parent, once the child is ready.
  void open() {
    if (!state_->ready_bell.wait([&] { return state_->ready.load() != 0; }, policy()))
      fail("the stream's child never got ready");
    state_->go.store(1);
    state_->go_bell.ring();
  }

  // started() is when the child passed; read it after the child's first
  // message has arrived.
  steady_clock::time_point started() const {
    return steady_clock::time_point(steady_clock::duration(state_->started_at.load()));
  }

 private:
  // Plain atomic loads and stores are seq_cst, as the doorbells require.
  struct state {
    std::atomic<std::uint32_t> ready{0}, go{0};
    std::atomic<steady_clock::rep> started_at{0};
    tandem::ipc::doorbell ready_bell, go_bell;
  };
  static tandem::ipc::wait_policy policy() {
    return {tandem::ipc::wait_policy{}.spins, peer_timeout};
  }

  tandem::ipc::segment memory_;
  state* state_;
};

// ping_pong() times `rounds` round trips and returns them in nanoseconds.
// A `pause` before each (untimed) lets a peer that parks fall asleep.
template <class Transport>
std::vector<double> ping_pong(Transport& link, int rounds, std::chrono::microseconds pause) {
  prefault_shared(link);
  forked_peer child([&] {
    prefault_shared(link);
    return link.serve();
  });
  after_fork(link);
  std::vector<double> ns;
  ns.reserve(static_cast<std::size_t>(rounds));
  for (int i = 0; i < rounds; ++i) {
    if (pause.count() > 0) std::this_thread::sleep_for(pause);
    const auto start = steady_clock::now();
    link.call(static_cast<std::uint64_t>(i));
    ns.push_back(std::chrono::duration<double, std::nano>(steady_clock::now() - start).count());
  }
  link.stop();
  child.join(peer_timeout);
  return ns;
}

// stream_seconds() is how long `count` messages take to arrive, from the
// moment the child, set up and awake, starts sending to the last arrival.
template <class Transport>
double stream_seconds(Transport& link, std::uint64_t count) {
  prefault_shared(link);
  start_gate gate;
  forked_peer child([&] {
    prefault_shared(link);
    return gate.pass() ? link.produce(count) : 1;
  });
  after_fork(link);
  gate.open();
  for (std::uint64_t seq = 0; seq < count; ++seq) link.consume(seq);
  const auto end = steady_clock::now();
  child.join(peer_timeout);
  return std::chrono::duration<double>(end - gate.started()).count();
}

}  // namespace ipc_bench
