#include <atomic>
#include <climits>
#include <string>

#include "runtime/shared_wait.hpp"
#include "tandem/errors.hpp"
#include "tandem/sync.hpp"

namespace tandem {
namespace {

// One word holds the whole state, so each step (arrive, complete a round,
// withdraw, leave) is one compare-and-swap and waiters sleep on the word
// that changes:
//   bits 0-15  the count: arrivals in the round, or, while leaving, the
//              released parties that have not yet taken their number
//   bit 16     withdrawn: an arrival of this round was taken back, so the
//              arrival counts no longer number the parties 0..parties-1
//   bit 17     leaving: the round completed with a withdrawal and its
//              parties take numbers in the order they leave; arrivals for
//              the next round wait until all have left
//   bits 18-31 the round (wraps; a waiter would have to sleep through
//              2^14 rounds to mistake one for its own)
// Every compare-and-swap is acq_rel and every load acquire, so what a
// party wrote before arriving is visible to all parties after the round.
struct barrier_body {
  std::atomic<std::uint32_t> word;
  std::uint32_t parties;
};

constexpr std::uint32_t count_mask = 0xffff;
constexpr std::uint32_t withdrawn_bit = 1u << 16;
constexpr std::uint32_t leaving_bit = 1u << 17;
constexpr int round_shift = 18;
constexpr std::uint32_t max_parties = count_mask;

barrier_body& body(const detail::object_handle& handle) {
  return *static_cast<barrier_body*>(handle.body());
}

std::uint32_t count_of(std::uint32_t word) { return word & count_mask; }
std::uint32_t round_of(std::uint32_t word) { return word >> round_shift; }
bool leaving(std::uint32_t word) { return (word & leaving_bit) != 0; }
bool withdrawn(std::uint32_t word) { return (word & withdrawn_bit) != 0; }
std::uint32_t next_round(std::uint32_t word) { return (round_of(word) + 1) << round_shift; }

// completed() is the word the last arrival leaves: the next round, or, if an
// arrival was withdrawn, this round's leaving with the others to number.
std::uint32_t completed(std::uint32_t word, std::uint32_t parties) {
  const std::uint32_t others = parties - 1;
  if (!withdrawn(word) || others == 0) return next_round(word);
  return (word & ~(count_mask | withdrawn_bit)) | leaving_bit | others;
}

// withdraw() takes back an arrival in `round`; false when the round
// completed meanwhile (then the caller passed the barrier after all).
bool withdraw(std::atomic<std::uint32_t>& word, std::uint32_t round) {
  std::uint32_t now = word.load(std::memory_order_acquire);
  while (round_of(now) == round && !leaving(now))
    if (word.compare_exchange_weak(now, (now - 1) | withdrawn_bit, std::memory_order_acq_rel))
      return true;
  return false;
}

// leave() takes the caller's number in a leaving round: 0 for the first to
// leave. The last to leave opens the next round and wakes its arrivals.
std::uint32_t leave(std::atomic<std::uint32_t>& word, std::uint32_t parties) {
  std::uint32_t now = word.load(std::memory_order_acquire);
  for (;;) {
    const std::uint32_t remaining = count_of(now);
    const bool last = remaining == 1;
    if (!word.compare_exchange_weak(now, last ? next_round(now) : now - 1,
                                    std::memory_order_acq_rel))
      continue;
    if (last) detail::wake_waiters(word, INT_MAX);
    return parties - 1 - remaining;
  }
}

// wait_for_round() waits, after arriving with `ticket` (its arrival count)
// and leaving `arrived` in the word, until the round completes or
// `deadline` passes (then it withdraws the arrival if it still can).
std::optional<std::uint32_t> wait_for_round(barrier_body& state, std::uint32_t arrived,
                                            std::uint32_t ticket,
                                            std::chrono::steady_clock::time_point deadline) {
  const std::uint32_t round = round_of(arrived);
  for (std::uint32_t seen = arrived;; seen = state.word.load(std::memory_order_acquire)) {
    if (round_of(seen) != round) return ticket;  // completed with no withdrawal
    if (leaving(seen)) return leave(state.word, state.parties);
    if (!detail::wait_for_change(state.word, seen, deadline) && withdraw(state.word, round))
      return std::nullopt;
  }
}

}  // namespace

barrier::barrier(runtime& rt, std::uint32_t parties)
    : handle_(rt, object_kind_v, object_tag_v, sizeof(barrier_body)) {
  if (parties == 0 || parties > max_parties)
    throw error("tandem::barrier: parties must be 1 to " + std::to_string(max_parties) + ", not " +
                std::to_string(parties));
  body(handle_).parties = parties;
}

std::uint32_t barrier::parties() const noexcept { return body(handle_).parties; }

std::uint32_t barrier::arrive_and_wait() { return *arrive_until(detail::no_deadline); }

std::optional<std::uint32_t> barrier::arrive_and_wait_for(std::chrono::nanoseconds timeout) {
  return arrive_until(detail::deadline_after(timeout));
}

std::optional<std::uint32_t> barrier::arrive_until(std::chrono::steady_clock::time_point deadline) {
  auto& state = body(handle_);
  std::uint32_t now = state.word.load(std::memory_order_acquire);
  for (;;) {
    if (leaving(now)) {  // the last round's parties are still taking numbers
      if (!detail::wait_for_change(state.word, now, deadline)) return std::nullopt;
      now = state.word.load(std::memory_order_acquire);
      continue;
    }
    const std::uint32_t ticket = count_of(now);
    const bool last = ticket + 1 == state.parties;
    const std::uint32_t next = last ? completed(now, state.parties) : now + 1;
    if (!state.word.compare_exchange_weak(now, next, std::memory_order_acq_rel)) continue;
    if (!last) return wait_for_round(state, next, ticket, deadline);
    detail::wake_waiters(state.word, INT_MAX);
    return ticket;
  }
}

}  // namespace tandem
