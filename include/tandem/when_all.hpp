// when_all.hpp — tandem::when_all and tandem::when_any.
//
//   auto both = tandem::when_all(rt.submit(tandem::io, f), rt.submit(tandem::io, g));
//   auto [a, b] = both.get();            // two ready futures; a.get(), b.get()
//
//   std::vector<tandem::future<int>> many = ...;
//   auto first = tandem::when_any(std::move(many)).get();
//   int v = first.futures[first.index].get();
//
// Both consume their inputs and hand them back ready (when_all) or with the
// first ready one named by `index` (when_any), so each input's value or
// exception is read with get(). Neither ever throws an input's exception
// itself. Callbacks run on the thread that resolves the last (when_all) or
// first (when_any) input; nothing blocks. A continuation of the result
// (then(), co_await) runs on the io lane of the first input's runtime that
// is still running when when_all() or when_any() is called, passing over
// runtimes destroyed or shutting down; with none, it runs as for a future
// no runtime made.
#pragma once

#include <atomic>
#include <cstddef>
#include <iterator>
#include <memory>
#include <tuple>
#include <vector>

#include "tandem/future.hpp"

namespace tandem {

// when_any_result names the first input that became ready.
template <class Sequence>
struct when_any_result {
  std::size_t index;
  Sequence futures;
};

namespace detail {

struct gather_all {
  template <class Sequence>
  using result_type = Sequence;
};
struct gather_any {
  template <class Sequence>
  using result_type = when_any_result<Sequence>;
};

// combiner gathers N inputs; each input's readiness arrives through its own
// slot. It lives until every slot has fired, so inputs handed back early
// (when_any) never notify freed memory.
template <class Sequence, class Policy>
class combiner {
 public:
  using result_type = typename Policy::template result_type<Sequence>;

  combiner(Sequence inputs, std::vector<state_base*> watched)
      : inputs_(std::move(inputs)),
        watched_(std::move(watched)),
        slots_(new slot[watched_.size()]),
        outstanding_(watched_.size()),
        result_(new state<result_type>(runtime_of(watched_), 2)) {}
  ~combiner() { result_->release(); }

  // start() returns the result and attaches every slot; the last attach
  // may complete and delete the combiner, so nothing follows it.
  future<result_type> start() {
    auto result = access::adopt(result_);
    const std::size_t n = watched_.size();
    for (std::size_t i = 0; i < n; ++i) {
      slots_[i].owner = this;
      slots_[i].index = i;
    }
    state_base* const* watched = watched_.data();
    slot* slots = slots_.get();
    for (std::size_t i = 0; i < n; ++i) watched[i]->attach(&slots[i]);
    return result;
  }

 private:
  // runtime_of() is the runtime whose io lane runs the result's
  // continuations: that of the first input whose runtime still accepts
  // them, as a continuation of that input would run there. A runtime
  // destroyed or shutting down is passed over, or it would abandon them
  // with runtime_stopped while another input's could run them. With no
  // such runtime, this thread's, as for a future no runtime made.
  static std::uint32_t runtime_of(const std::vector<state_base*>& inputs) noexcept {
    for (const state_base* input : inputs)
      if (runtime_accepts_continuations(input->runtime_id())) return input->runtime_id();
    return current_runtime_id();
  }

  struct slot final : callback_node {
    combiner* owner = nullptr;
    std::size_t index = 0;
    void on_ready() noexcept override { owner->input_ready(index); }
  };

  void input_ready(std::size_t index) noexcept {
    if constexpr (std::is_same_v<Policy, gather_any>) {
      if (result_->try_claim()) result_->emplace_claimed(result_type{index, std::move(inputs_)});
    }
    if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    if constexpr (std::is_same_v<Policy, gather_all>) {
      if (result_->try_claim()) result_->emplace_claimed(std::move(inputs_));
    }
    delete this;
  }

  Sequence inputs_;
  std::vector<state_base*> watched_;
  std::unique_ptr<slot[]> slots_;
  std::atomic<std::size_t> outstanding_;
  state<result_type>* result_;
};

template <class Policy, class Sequence>
future<typename Policy::template result_type<Sequence>> gather(Sequence inputs,
                                                               std::vector<state_base*> watched) {
  using result_type = typename Policy::template result_type<Sequence>;
  if (watched.empty()) {
    if constexpr (std::is_same_v<Policy, gather_any>)
      return make_ready_future(result_type{static_cast<std::size_t>(-1), std::move(inputs)});
    else
      return make_ready_future(std::move(inputs));
  }
  return (new combiner<Sequence, Policy>(std::move(inputs), std::move(watched)))->start();
}

template <class... Ts>
std::vector<state_base*> states_of(const std::tuple<future<Ts>...>& inputs) {
  std::vector<state_base*> states;
  std::apply([&](const auto&... f) { (states.push_back(&access::state_of(f)), ...); }, inputs);
  return states;
}

template <class T>
std::vector<state_base*> states_of(const std::vector<future<T>>& inputs) {
  std::vector<state_base*> states;
  states.reserve(inputs.size());
  for (const auto& f : inputs) states.push_back(&access::state_of(f));
  return states;
}

template <class Policy, class Sequence>
auto gather(Sequence inputs) {
  auto states = states_of(inputs);
  return gather<Policy>(std::move(inputs), std::move(states));
}

template <class InputIt>
auto collect(InputIt first, InputIt last) {
  using T = typename std::iterator_traits<InputIt>::value_type::value_type;
  return std::vector<future<T>>(std::make_move_iterator(first), std::make_move_iterator(last));
}

}  // namespace detail

// when_all() of futures of any types: a future of the tuple of them, ready
// when every input is. Throws tandem::error if an input is not valid().
template <class... Ts>
future<std::tuple<future<Ts>...>> when_all(future<Ts>... inputs) {
  return detail::gather<detail::gather_all>(std::tuple<future<Ts>...>(std::move(inputs)...));
}

// when_all() over a vector of futures of one type (ready at once if empty).
template <class T>
future<std::vector<future<T>>> when_all(std::vector<future<T>> inputs) {
  return detail::gather<detail::gather_all>(std::move(inputs));
}

// when_all() over an iterator range of futures, which are moved from.
template <std::input_iterator InputIt>
auto when_all(InputIt first, InputIt last) {
  return when_all(detail::collect(first, last));
}

// when_any() of futures of any types: ready when the first input is, with
// its index.
template <class... Ts>
future<when_any_result<std::tuple<future<Ts>...>>> when_any(future<Ts>... inputs) {
  return detail::gather<detail::gather_any>(std::tuple<future<Ts>...>(std::move(inputs)...));
}

// when_any() over a vector of futures of one type; an empty vector gives a
// ready result with index == size_t(-1).
template <class T>
future<when_any_result<std::vector<future<T>>>> when_any(std::vector<future<T>> inputs) {
  return detail::gather<detail::gather_any>(std::move(inputs));
}

// when_any() over an iterator range of futures, which are moved from.
template <std::input_iterator InputIt>
auto when_any(InputIt first, InputIt last) {
  return when_any(detail::collect(first, last));
}

}  // namespace tandem
