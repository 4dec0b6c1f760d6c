// idle_set.hpp — which io-lane workers are searching for work, which are
// asleep, and who to wake when work arrives.
//
// The protocol is the one tokio and Go use:
//  * A worker that runs out of local work becomes a *searcher* (steals,
//    polls the injection queue) — but only while fewer than half the workers
//    search, so an idle pool does not burn every core looking.
//  * Whoever queues work calls notify_one(): it wakes one sleeper, and only
//    when nobody is searching (a searcher will find the work). No thundering
//    herd: one submission wakes at most one thread.
//  * A searcher that finds work and was the last searcher calls
//    notify_one() itself, so the rest of a burst gets a searcher too.
//  * A worker going to sleep announces it first (announce_park), and the
//    last searcher to sleep re-checks every queue afterwards: the queueing
//    side stores its work then reads state_ (seq_cst), the sleeping side
//    writes state_ then reads the queues (seq_cst), so at least one of them
//    sees the other — no lost wake-up.
//
// One sleeper may wait in the Asio reactor instead of on its parker (the
// poller, io_lane.hpp): notify_one() wakes the others first, so the
// reactor keeps a thread waiting in it while another can do the work.
//
// state_ packs the searcher count (low 32 bits) and the awake count (high
// 32 bits) so both change in one atomic step.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "runtime/parker.hpp"

namespace tandem::detail {

class idle_set {
 public:
  explicit idle_set(unsigned workers);

  // try_begin_search() makes the caller a searcher unless enough workers
  // search already.
  bool try_begin_search() noexcept;
  // end_search() is called by a searcher that found work; true when it was
  // the last searcher (the caller then calls notify_one()).
  bool end_search() noexcept;

  // notify_one() wakes one sleeping worker if nobody is searching, and
  // returns its index (`none` if it woke nobody). It wakes `poller` only
  // when no other worker sleeps. The woken worker starts as a searcher.
  // Call it after queueing work.
  static constexpr unsigned none = ~0u;
  unsigned notify_one(unsigned poller = none) noexcept;

  // take_sleeper() takes a sleeping worker other than `poller` out of the
  // sleepers as if woken (a searcher), whether or not others search, and
  // returns its index (`none` if no such worker sleeps); the caller then
  // calls unpark(index).
  unsigned take_sleeper(unsigned poller) noexcept;
  void unpark(unsigned index) noexcept { parkers_[index].unpark(); }

  // announce_park() records worker `index` as asleep (it must call
  // park(index) next, unless shutting down); true when it was the last
  // searcher, in which case it must re-check the queues and notify_one()
  // if it sees work.
  bool announce_park(unsigned index, bool was_searching);
  void park(unsigned index) noexcept { parkers_[index].park(); }
  // was_woken() consumes a wake-up of parked worker `index` without
  // sleeping (for the poller, which sleeps in the reactor instead).
  bool was_woken(unsigned index) noexcept { return parkers_[index].try_take(); }
  // cancel_park() brings parked worker `index` back by itself, as if woken
  // (it counts as a searcher): for the poller, when the reactor gave it
  // work. If a notifier has just taken it out of the sleepers, this waits
  // for that notifier's wake-up, so none is left pending.
  void cancel_park(unsigned index) noexcept;

  // has_sleeper() is true when some worker is parked (a hint: it may be
  // waking up right now).
  bool has_sleeper() const noexcept {
    return (state_.load(std::memory_order_relaxed) >> 32) < workers_;
  }

  // wake_all() wakes every sleeper (shutdown).
  void wake_all();

 private:
  static constexpr std::uint64_t one_searching = 1;
  static constexpr std::uint64_t one_awake = std::uint64_t{1} << 32;

  bool should_wake(std::uint64_t state) const noexcept {
    const auto searching = state & 0xffffffffu;
    const auto awake = state >> 32;
    return searching == 0 && awake < workers_;
  }

  unsigned take_locked(unsigned avoid) noexcept;

  const unsigned workers_;
  alignas(64) std::atomic<std::uint64_t> state_;
  std::unique_ptr<parker[]> parkers_;
  std::mutex sleepers_mutex_;       // guards sleepers_
  std::vector<unsigned> sleepers_;  // indexes of parked workers
};

}  // namespace tandem::detail
