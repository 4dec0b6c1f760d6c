// ipc_peers.hpp — what bench/ipc compares tandem's channels with.
//
// Each peer is a transport in the sense of ipc_drivers.hpp, built before
// fork. The floors are the least a transport of that kind can do, so a
// ratio near 1.0 against them means little is left to win:
//   futex_floor   one word in shared memory, both sides park on it at once
//                 (FUTEX_WAIT, no spinning): the cost of a cross-process wake-up
//   spin_floor    two words, both sides spin: the cost of moving a cache line
//   ring_floor    fixed 64-byte slots in shared memory, no framing, spinning
//   block_floor   ring_floor with payload-sized slots: the least a heap
//                 transport can do to move payloads between cores
//   memcpy        the same bytes copied once within one process
// and the kernel's and Boost's message transports, which always park:
//   fd_pair       a pair of pipes, or a unix socketpair
//   bip_mq        two boost::interprocess::message_queue (their names are
//                 removed from /dev/shm as soon as they are created)
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include <boost/interprocess/ipc/message_queue.hpp>

#include "ipc/segment.hpp"
#include "ipc_drivers.hpp"

namespace ipc_bench {

class futex_floor {
 public:
  futex_floor();
  int serve();
  void call(std::uint64_t seq);
  void stop();

 private:
  tandem::ipc::segment memory_;
  std::atomic<std::uint32_t>* word_;  // odd: a request; even: its reply
};

class spin_floor {
 public:
  spin_floor();
  int serve();
  void call(std::uint64_t seq);
  void stop();

 private:
  struct words;
  tandem::ipc::segment memory_;
  words* words_;
};

enum class fd_kind { pipes, unix_socketpair };

class fd_pair {
 public:
  explicit fd_pair(fd_kind kind);
  fd_pair(const fd_pair&) = delete;
  fd_pair& operator=(const fd_pair&) = delete;
  ~fd_pair();
  void forked();  // the parent closes the child's ends: a dead child reads as EOF
  int serve();
  void call(std::uint64_t seq);
  void stop();

 private:
  int parent_out_ = -1, parent_in_ = -1, child_in_ = -1, child_out_ = -1;
};

class bip_mq {
 public:
  bip_mq();
  int serve();
  void call(std::uint64_t seq);
  void stop();

 private:
  using queue = boost::interprocess::message_queue;
  std::unique_ptr<queue> requests_, replies_;
};

// ring_floor publishes its head (and the consumer its tail) every `batch`
// messages; batch 1 is one publish per message.
class ring_floor {
 public:
  explicit ring_floor(unsigned batch);
  std::span<const std::byte> shared_memory() const { return {memory_.base(), memory_.size()}; }
  int produce(std::uint64_t count);
  void consume(std::uint64_t seq);

 private:
  struct state;
  unsigned batch_;
  tandem::ipc::segment memory_;
  state* state_;
  std::uint64_t head_seen_ = 0;  // the consumer's copy of head
};

// block_floor streams payloads of one size through a ring of payload-sized
// blocks in shared memory: the producer copies each payload into the next
// block and publishes its index, the consumer reads the payload's header
// and publishes its own index back, both spinning. That is what a heap
// transport must do at least (a copy in, the payload's lines moving to the
// consumer's core, and the blocks' lines coming back for reuse), with no
// allocation, framing or wake-ups.
class block_floor {
 public:
  explicit block_floor(std::size_t payload_bytes);
  std::span<const std::byte> shared_memory() const { return {memory_.base(), memory_.size()}; }
  int produce(std::uint64_t count);
  void consume(std::uint64_t seq);

 private:
  struct indices;
  std::byte* block(std::uint64_t seq) const;

  std::size_t payload_bytes_;
  std::uint64_t blocks_;
  tandem::ipc::segment memory_;
  indices* indices_;
  std::byte* arena_;
  std::uint64_t head_seen_ = 0;  // the consumer's copy of head
};

// memcpy_seconds() copies `count` payloads of `bytes` from one buffer into
// successive slots of a 16 MiB arena (the size of tandem's heap in R4), as
// the producer's post() does, and returns the seconds it took.
double memcpy_seconds(std::size_t bytes, std::uint64_t count);

}  // namespace ipc_bench
