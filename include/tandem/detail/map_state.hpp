// map_state.hpp — the state behind runtime::map()'s future: its chunks'
// outcomes, gathered in input order. Not part of the public API.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "tandem/detail/lane_hooks.hpp"
#include "tandem/detail/state.hpp"
#include "tandem/errors.hpp"
#include "tandem/future.hpp"
#include "tandem/task.hpp"

namespace tandem::detail {

// map_state<R> resolves to every call's value in input order once each
// chunk has ended, or to the error of the first call (in input order) that
// failed: its task's exception as remote_error, or its chunk's (the worker
// crashed, a timeout, cancellation, shutdown).
//
// It is claimed from the start, so that future::cancel() finds it taken and
// calls withdraw(), which cancels the chunks not yet started; it resolves
// when the last chunk has ended. map() adds every chunk before seal(), and
// the user holds the future only after that, so `chunks_` is complete and
// no longer changes when withdraw(), stop_running() or assemble() read it.
template <class R>
class map_state final : public state<std::vector<R>> {
 public:
  using chunk_future = future<each_outcomes<R>>;

  // References: the future map() returns, and map()'s own until seal().
  map_state(std::uint32_t runtime_id, std::string task_name)
      : state<std::vector<R>>(runtime_id, 2), task_name_(std::move(task_name)) {
    this->try_claim();
  }

  // add() takes the future of a chunk of `calls` calls.
  void add(chunk_future chunk, std::size_t calls) {
    if (chunks_.size() == chunks_.capacity()) {  // so that nothing below throws
      chunks_.reserve(2 * chunks_.size() + 1);
      chunk_calls_.reserve(chunks_.capacity());
    }
    auto* node = new arrival(*this);
    state_base& watched = access::state_of(chunk);
    chunks_.push_back(std::move(chunk));
    chunk_calls_.push_back(calls);
    calls_ += calls;
    pending_.fetch_add(1, std::memory_order_relaxed);
    this->add_ref();  // the arrival's
    watched.attach(node);
  }

  // seal() ends map()'s part: from now on the last chunk to end resolves
  // the state (at once, if every chunk has ended already).
  void seal() noexcept {
    arrive();
    this->release();
  }

  bool withdraw() noexcept override {
    return for_any_chunk([](chunk_future& chunk) { return chunk.cancel(); });
  }
  // stop_running() follows withdraw() (future::cancel(kill_running)): what
  // is left to stop runs.
  bool stop_running() noexcept override {
    return for_any_chunk(
        [](chunk_future& chunk) { return access::state_of(chunk).stop_running(); });
  }
  bool help_lane(help_step step) noexcept override {
    return help_cpu_lane(this->runtime_id(), step);
  }

 private:
  class arrival final : public callback_node {
   public:
    explicit arrival(map_state& owner) noexcept : owner_(owner) {}
    void on_ready() noexcept override {
      owner_.arrive();
      owner_.release();
      delete this;
    }

   private:
    map_state& owner_;
  };

  // for_any_chunk() calls `act` on every chunk; true if it was for any.
  template <class Act>
  bool for_any_chunk(Act act) noexcept {
    bool any = false;
    for (auto& chunk : chunks_) any |= act(chunk);
    return any;
  }

  void arrive() noexcept {
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) assemble();
  }

  void assemble() noexcept {
    std::exception_ptr failure = exception_of([&] {
      std::vector<R> values;
      values.reserve(calls_);
      for (std::size_t i = 0; i < chunks_.size(); ++i) {
        // A failed chunk rethrows here: its first call failed first.
        each_outcomes<R> outcomes = access::state_of(chunks_[i]).take();
        check_answers(outcomes, chunk_calls_[i]);
        if (!outcomes.second.empty()) {
          const auto& [type, message] = outcomes.second.front();
          throw remote_error(task_name_, type, message);
        }
        for (auto& value : outcomes.first) values.push_back(std::move(*value));
      }
      this->emplace_claimed(std::move(values));
    });
    if (failure) this->fail_claimed(std::move(failure));
  }

  // check_answers() refuses what a worker that runs its calls as told
  // cannot send: an outcome short or too many, or an empty value for no
  // throw.
  void check_answers(const each_outcomes<R>& outcomes, std::size_t calls) const {
    std::size_t empty = 0;
    for (const auto& value : outcomes.first) empty += !value.has_value();
    if (outcomes.first.size() != calls || empty != outcomes.second.size())
      throw decode_error("task '" + task_name_ + "': a worker answered a chunk of " +
                         std::to_string(calls) + " calls with " +
                         std::to_string(outcomes.first.size()) + " outcomes, " +
                         std::to_string(empty) + " of them empty, and " +
                         std::to_string(outcomes.second.size()) + " exceptions");
  }

  std::string task_name_;
  std::vector<chunk_future> chunks_;
  std::vector<std::size_t> chunk_calls_;
  std::size_t calls_ = 0;
  // Chunks not yet ended, and one more until seal().
  std::atomic<std::size_t> pending_{1};
};

}  // namespace tandem::detail
