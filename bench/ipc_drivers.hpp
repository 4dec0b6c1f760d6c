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

// ping_pong() times `rounds` round trips and returns them in nanoseconds.
// A `pause` before each (untimed) lets a peer that parks fall asleep.
template <class Transport>
std::vector<double> ping_pong(Transport& link, int rounds, std::chrono::microseconds pause) {
  forked_peer child([&] { return link.serve(); });
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

// stream_seconds() is how long messages 1 .. count-1 take to arrive: the
// clock starts at message 0, once the child is up and sending.
template <class Transport>
double stream_seconds(Transport& link, std::uint64_t count) {
  forked_peer child([&] { return link.produce(count); });
  after_fork(link);
  link.consume(0);
  const auto start = steady_clock::now();
  for (std::uint64_t seq = 1; seq < count; ++seq) link.consume(seq);
  const double seconds = std::chrono::duration<double>(steady_clock::now() - start).count();
  child.join(peer_timeout);
  return seconds;
}

}  // namespace ipc_bench
