#include <atomic>
#include <climits>
#include <string>

#include "runtime/shared_wait.hpp"
#include "tandem/errors.hpp"
#include "tandem/sync.hpp"

namespace tandem {
namespace {

// One word holds the round (high 16 bits) and how many have arrived in it
// (low 16 bits), so arriving, completing a round and withdrawing are each
// one compare-and-swap, and waiters sleep on the word that changes.
struct barrier_body {
  std::atomic<std::uint32_t> word;
  std::uint32_t parties;
};

constexpr std::uint32_t arrived_mask = 0xffff;
constexpr std::uint32_t max_parties = arrived_mask;

barrier_body& body(const detail::object_handle& handle) {
  return *static_cast<barrier_body*>(handle.body());
}

std::uint32_t round_of(std::uint32_t word) { return word >> 16; }

// withdraw() takes back an arrival in `round`; false when the round
// completed meanwhile (then the caller passed the barrier after all).
bool withdraw(std::atomic<std::uint32_t>& word, std::uint32_t round) {
  std::uint32_t now = word.load(std::memory_order_acquire);
  while (round_of(now) == round)
    if (word.compare_exchange_weak(now, now - 1, std::memory_order_acq_rel)) return true;
  return false;
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

std::optional<std::uint32_t> barrier::arrive_until(std::chrono::steady_clock::time_point deadline) {
  auto& state = body(handle_);
  std::uint32_t now = state.word.load(std::memory_order_acquire);
  for (;;) {
    const std::uint32_t arrived = now & arrived_mask;
    const bool last = arrived + 1 == state.parties;
    const std::uint32_t next = last ? (round_of(now) + 1) << 16 : now + 1;
    if (!state.word.compare_exchange_weak(now, next, std::memory_order_acq_rel)) continue;
    if (last) {
      detail::wake_waiters(state.word, INT_MAX);
      return arrived;
    }
    const std::uint32_t round = round_of(now);
    for (std::uint32_t seen = next; round_of(seen) == round;
         seen = state.word.load(std::memory_order_acquire))
      if (!detail::wait_for_change(state.word, seen, deadline) && withdraw(state.word, round))
        return std::nullopt;
    return arrived;
  }
}

}  // namespace tandem
