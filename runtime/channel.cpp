// The channel is Vyukov's bounded multi-producer multi-consumer queue: each
// slot carries a turn number that says whether it is ready for the sender
// or the receiver of a given position, so a sender and a receiver touch
// only their own position counter and the slot they won. Turns count in
// halves (2p: free for position p; 2p + 1: holds p's value), so that with
// one slot "holds p" and "free for p + 1" still read differently.
//
// Closing: close() sets a bit in the send position, the word senders claim
// positions on, so a sender either claimed its position before the close
// (and its value is delivered) or sees the bit and throws. Receivers call
// the channel closed and empty only once they have claimed every position
// claimed before the close; a receiver that finds an earlier slot not yet
// filled waits for its sender's wake-up like any other.
//
// Waiting: a receiver that finds the channel empty raises the
// receivers_sleep flag, re-checks, and sleeps on `sent`; a sender that
// filled a slot reads the flag after a seq_cst fence and, if it is up,
// lowers it, bumps `sent` and wakes every sleeper (who raise it again if
// they must sleep on). The flag and the slot are the two sides of a Dekker
// pair, so no wake-up is lost; and one system call ends a sleeping spell,
// however many values follow while the sleeper gets going. Senders waiting
// for room are the mirror image (senders_sleep, `received`). close() bumps
// both words and wakes everyone.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstring>
#include <limits>
#include <new>
#include <optional>
#include <string>

#include "runtime/cpu_relax.hpp"
#include "runtime/shared_wait.hpp"
#include "tandem/channel.hpp"
#include "tandem/errors.hpp"

namespace tandem::detail {
namespace {

struct channel_state {
  alignas(64) std::atomic<std::uint64_t> send_position;  // and closed_bit
  alignas(64) std::atomic<std::uint64_t> receive_position;
  alignas(64) std::atomic<std::uint32_t> sent;  // futex word of waiting receivers
  std::atomic<std::uint32_t> received;          // futex word of waiting senders
  std::atomic<std::uint32_t> receivers_sleep;   // flag: someone may sleep on `sent`
  std::atomic<std::uint32_t> senders_sleep;     // flag: someone may sleep on `received`
  std::uint32_t value_bytes;
  std::uint32_t value_offset;  // from the start of a slot
  std::uint64_t capacity;
  std::uint64_t slot_bytes;
};

struct slot_head {
  std::atomic<std::uint64_t> turn;
};

// Positions stay below 2^63 (centuries of sends), leaving the top bit free.
constexpr std::uint64_t closed_bit = std::uint64_t{1} << 63;

// A waiter looks again every poll_gap pauses (0.1 to 1.5 µs on x86, by the
// CPU's pause), not after every pause. Measured by bench/primitives
// channel_1m (a worker sending to an io thread) on this project's 2-core
// VMs: 4 to 13 million values/s polling after every pause, 17 to 22 million
// so. Our reading of it: a receiver that polls the slot its sender is
// filling pulls that cache line back and forth for every value, while one
// that lets the sender get a few slots ahead takes them a line at a time
// (a sender waiting for room is the mirror case, not measured). Past
// spin_time it sleeps; past the caller's deadline it times out.
constexpr unsigned poll_gap = 32;
constexpr auto spin_time = std::chrono::microseconds(5);

constexpr std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }
constexpr std::size_t slots_offset = round_up(sizeof(channel_state), 64);

// A slot is its turn number, then the value at its own alignment.
struct slot_layout {
  std::size_t value_offset;
  std::size_t slot_bytes;
};

slot_layout layout_for(std::size_t value_bytes, std::size_t value_alignment) {
  const std::size_t alignment = std::max(alignof(slot_head), value_alignment);
  const std::size_t offset = round_up(sizeof(slot_head), alignment);
  return {offset, round_up(offset + value_bytes, alignment)};
}

channel_state& state_of(void* body) { return *static_cast<channel_state*>(body); }
const channel_state& state_of(const void* body) { return *static_cast<const channel_state*>(body); }

std::byte* slot_at(channel_state& state, std::uint64_t position) {
  auto* first = reinterpret_cast<std::byte*>(&state) + slots_offset;
  return first + (position % state.capacity) * state.slot_bytes;
}

std::atomic<std::uint64_t>& turn_of(std::byte* slot) {
  return reinterpret_cast<slot_head*>(slot)->turn;
}

constexpr std::uint64_t free_turn(std::uint64_t position) { return 2 * position; }
constexpr std::uint64_t filled_turn(std::uint64_t position) { return 2 * position + 1; }

bool past(std::chrono::steady_clock::time_point deadline) {
  return deadline != no_deadline && std::chrono::steady_clock::now() >= deadline;
}

// try_push() claims the send position whose slot is free and fills it:
// done, or closed, or nothing while the channel is full.
std::optional<channel_status> try_push(channel_state& state, const void* value) {
  std::uint64_t position = state.send_position.load(std::memory_order_relaxed);
  for (;;) {
    if ((position & closed_bit) != 0) return channel_status::closed;
    std::byte* slot = slot_at(state, position);
    const std::uint64_t turn = turn_of(slot).load(std::memory_order_acquire);
    const auto lag = static_cast<std::int64_t>(turn - free_turn(position));
    if (lag < 0) return std::nullopt;  // the receiver of the previous round is not done: full
    if (lag > 0) {
      position = state.send_position.load(std::memory_order_relaxed);
      continue;
    }
    // Fails, reloading `position`, if close() set the bit meanwhile.
    if (state.send_position.compare_exchange_weak(position, position + 1,
                                                  std::memory_order_relaxed)) {
      std::memcpy(slot + state.value_offset, value, state.value_bytes);
      turn_of(slot).store(filled_turn(position), std::memory_order_release);
      return channel_status::done;
    }
  }
}

// try_pop() claims the receive position whose slot is filled, if any.
bool try_pop(channel_state& state, void* value) {
  std::uint64_t position = state.receive_position.load(std::memory_order_relaxed);
  for (;;) {
    std::byte* slot = slot_at(state, position);
    const std::uint64_t turn = turn_of(slot).load(std::memory_order_acquire);
    const auto lag = static_cast<std::int64_t>(turn - filled_turn(position));
    if (lag < 0) return false;  // not sent yet: empty
    if (lag > 0) {
      position = state.receive_position.load(std::memory_order_relaxed);
      continue;
    }
    if (state.receive_position.compare_exchange_weak(position, position + 1,
                                                     std::memory_order_relaxed)) {
      std::memcpy(value, slot + state.value_offset, state.value_bytes);
      turn_of(slot).store(free_turn(position + state.capacity), std::memory_order_release);
      return true;
    }
  }
}

// drained_and_closed() is true once the channel is closed and receivers
// have claimed every position senders claimed: nothing can arrive any more.
// Closed but not drained means a sender is between its claim and its fill.
bool drained_and_closed(const channel_state& state) {
  const std::uint64_t sends = state.send_position.load(std::memory_order_acquire);
  return (sends & closed_bit) != 0 &&
         state.receive_position.load(std::memory_order_acquire) == (sends & ~closed_bit);
}

// wake_sleepers() wakes everyone sleeping on `word`, if the flag says
// someone may be (the caller just published its change).
void wake_sleepers(std::atomic<std::uint32_t>& word, std::atomic<std::uint32_t>& sleep_flag) {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (sleep_flag.load(std::memory_order_relaxed) == 0 || sleep_flag.exchange(0) == 0) return;
  word.fetch_add(1, std::memory_order_release);
  wake_waiters(word, INT_MAX);
}

// attempt() runs `step` (done, closed, or nothing yet) until it gives an
// answer or the deadline passes, sleeping on `word` (under `sleep_flag`)
// in between.
template <class Step>
channel_status attempt(std::atomic<std::uint32_t>& word, std::atomic<std::uint32_t>& sleep_flag,
                       std::chrono::steady_clock::time_point deadline, Step step) {
  if (const auto answer = step()) return *answer;
  const auto spin_until = std::min(deadline, std::chrono::steady_clock::now() + spin_time);
  while (std::chrono::steady_clock::now() < spin_until) {
    for (unsigned i = 0; i < poll_gap; ++i) cpu_relax();
    if (const auto answer = step()) return *answer;
  }
  if (past(deadline)) {  // a last look: the spin's may be a poll_gap old
    const auto answer = step();
    return answer ? *answer : channel_status::timed_out;
  }
  for (;;) {
    sleep_flag.store(1, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const std::uint32_t seen = word.load(std::memory_order_acquire);
    if (const auto answer = step()) return *answer;
    if (!wait_for_change(word, seen, deadline)) {
      const auto answer = step();
      return answer ? *answer : channel_status::timed_out;
    }
  }
}

}  // namespace

std::size_t channel_body_bytes(std::size_t capacity, std::size_t value_bytes,
                               std::size_t value_alignment) {
  const std::size_t slot = layout_for(value_bytes, value_alignment).slot_bytes;
  if (capacity > (std::numeric_limits<std::size_t>::max() - slots_offset) / slot)
    throw error("tandem::channel: a capacity of " + std::to_string(capacity) +
                " values does not fit in memory");
  return slots_offset + capacity * slot;
}

void channel_init(void* body, std::size_t capacity, std::size_t value_bytes,
                  std::size_t value_alignment) {
  const slot_layout layout = layout_for(value_bytes, value_alignment);
  auto& state = *new (body) channel_state{};
  state.value_bytes = static_cast<std::uint32_t>(value_bytes);
  state.value_offset = static_cast<std::uint32_t>(layout.value_offset);
  state.capacity = capacity;
  state.slot_bytes = layout.slot_bytes;
  for (std::uint64_t i = 0; i < capacity; ++i) new (slot_at(state, i)) slot_head{free_turn(i)};
}

channel_status channel_send(void* body, const void* value,
                            std::chrono::steady_clock::time_point deadline) {
  auto& state = state_of(body);
  const auto status = attempt(state.received, state.senders_sleep, deadline,
                              [&] { return try_push(state, value); });
  if (status == channel_status::done) wake_sleepers(state.sent, state.receivers_sleep);
  return status;
}

channel_status channel_receive(void* body, void* value,
                               std::chrono::steady_clock::time_point deadline) {
  auto& state = state_of(body);
  // Closing ends a receiver's wait only once nothing is left to take.
  const auto status =
      attempt(state.sent, state.receivers_sleep, deadline, [&]() -> std::optional<channel_status> {
        if (try_pop(state, value)) return channel_status::done;
        if (drained_and_closed(state)) return channel_status::closed;
        return std::nullopt;
      });
  if (status == channel_status::done) wake_sleepers(state.received, state.senders_sleep);
  return status;
}

void channel_close(void* body) noexcept {
  auto& state = state_of(body);
  state.send_position.fetch_or(closed_bit, std::memory_order_seq_cst);
  state.sent.fetch_add(1, std::memory_order_release);
  state.received.fetch_add(1, std::memory_order_release);
  wake_waiters(state.sent, INT_MAX);
  wake_waiters(state.received, INT_MAX);
}

bool channel_is_closed(const void* body) noexcept {
  return (state_of(body).send_position.load(std::memory_order_acquire) & closed_bit) != 0;
}

std::size_t channel_size(const void* body) noexcept {
  const auto& state = state_of(body);
  const auto received = state.receive_position.load(std::memory_order_acquire);
  const auto sent = state.send_position.load(std::memory_order_acquire) & ~closed_bit;
  return sent > received ? static_cast<std::size_t>(std::min(sent - received, state.capacity)) : 0;
}

std::size_t channel_capacity(const void* body) noexcept { return state_of(body).capacity; }

}  // namespace tandem::detail
