// cpu_lane_peers.hpp — the native baselines cpu_lane compares tandem's cpu
// lane with (the Python peers are scripts under peers/, run by
// python_peer.hpp).
//
//   forked_child   one child process running a function, reaped by its owner
//   pipe_pool      forked children fed fixed-size requests through pipes
//   futex_floor    a ping-pong of one shared futex word with a forked child
//
// The benchmark process has threads (tandem's) when these fork, so a child
// runs only async-signal-safe code: read, write, futex, _exit, on memory
// its parent set up before the fork.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <vector>

#include "ipc/segment.hpp"

namespace cpu_lane {

// forked_child forks a process that runs `body`, then _exits. The child
// dies with its parent (PR_SET_PDEATHSIG), and keeps only stderr and the
// descriptors in `keep`, renumbered 0, 1, ... (so it holds no end of another
// child's pipe, nor tandem's sockets). The destructor reaps it: its owner
// must have made it end first (closed its input, set its stop flag). Throws
// std::system_error when fork fails.
class forked_child {
 public:
  forked_child(const std::function<void()>& body, const std::vector<int>& keep);
  forked_child(forked_child&& other) noexcept;
  forked_child(const forked_child&) = delete;
  forked_child& operator=(const forked_child&) = delete;
  forked_child& operator=(forked_child&&) = delete;
  ~forked_child();

 private:
  pid_t pid_ = -1;
};

// pipe_pool: `children` forked processes, each reading requests of `items`
// ints from its own pipe, adding 1 to every int and writing the reply to
// another pipe. The parent deals requests round-robin (continuing where the
// previous run() stopped), with one write() per request and one read() per
// reply, and keeps at most as many requests in flight per child as its
// reply pipe can hold, so neither side ever blocks on a full pipe while the
// other waits for it: a plain, well-behaved pipe pool. Single-threaded use.
class pipe_pool {
 public:
  using fill_fn = std::function<void(std::size_t request, std::span<int> items)>;
  using take_fn = std::function<void(std::size_t request, std::span<const int> items)>;

  // Throws std::system_error when a pipe or a process cannot be had.
  pipe_pool(unsigned children, std::size_t items);
  ~pipe_pool();
  pipe_pool(const pipe_pool&) = delete;
  pipe_pool& operator=(const pipe_pool&) = delete;

  // run() sends `requests` requests, each written by fill(i, ...), and hands
  // every reply to take(i, ...), in each child's order. Throws
  // std::runtime_error when a child is gone.
  void run(std::size_t requests, const fill_fn& fill, const take_fn& take);

 private:
  struct child {
    int request = -1;  // parent's write end
    int reply = -1;    // parent's read end
    std::deque<std::size_t> in_flight;
  };

  void start_child(std::size_t items);
  void stop() noexcept;  // ends and reaps the children
  void receive(child& c, const take_fn& take);

  std::vector<child> children_;
  std::vector<forked_child> processes_;
  std::vector<int> buffer_;  // one message; the children's copy too
  std::size_t window_ = 0;   // requests in flight per child, at most
  std::size_t next_ = 0;     // the child the next request goes to
};

// futex_floor: the least a cross-process round trip can cost. The parent
// and one forked child pass a counter through one futex word in shared
// memory: the parent makes it odd (a request), the child even (the reply).
// parked: each side sleeps in FUTEX_WAIT and the other wakes it (the floor
// for a parked worker); spinning: each side spins on the word (the floor
// for a hot one; it keeps two cores busy while it lives).
class futex_floor {
 public:
  explicit futex_floor(bool spinning);
  ~futex_floor();
  futex_floor(const futex_floor&) = delete;
  futex_floor& operator=(const futex_floor&) = delete;

  // round_trip() sends one request and waits for its reply.
  void round_trip() noexcept;

 private:
  struct words {
    std::atomic<std::uint32_t> turn{0};
    std::atomic<std::uint32_t> stop{0};
  };

  void serve() noexcept;  // the child's loop
  void pass(std::uint32_t value) noexcept;
  void await_change(std::uint32_t from) const noexcept;

  tandem::ipc::segment memory_;
  words* words_;
  bool spinning_;
  std::uint32_t sent_ = 0;
  forked_child child_;
};

}  // namespace cpu_lane
