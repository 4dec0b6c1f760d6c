// pipeline_stage.hpp — the type-erased pieces a tandem::pipeline is built
// from, and that the engine (runtime/pipeline.cpp) runs. Not part of the
// public API.
//
// The typed builder (pipeline.hpp) wraps every item in an item_box and
// every stage in a stage_body; the engine only moves boxes between bounded
// queues and hands them to bodies, so it is compiled once, not per type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tandem/future.hpp"

namespace tandem {

class runtime;

namespace detail {

// item_base is one item travelling through a pipeline, of a type only the
// stages on either side of it know.
class item_base {
 public:
  virtual ~item_base() = default;
};

template <class T>
class item_box final : public item_base {
 public:
  explicit item_box(T&& v) : value(std::move(v)) {}
  T value;
};

using item_ptr = std::unique_ptr<item_base>;

template <class T>
item_ptr box(T&& value) {
  return std::make_unique<item_box<std::decay_t<T>>>(std::forward<T>(value));
}

// unbox() moves the value out of a box the builder typed as T.
template <class T>
T unbox(item_ptr item) {
  return std::move(static_cast<item_box<T>&>(*item).value);
}

class pipeline_engine;
struct pipeline_slot;

// stage_ticket is one item's way back to the engine: exactly one of
// succeed() or fail() reports the stage's result for it. A ticket
// destroyed unused (its continuation was dropped because the runtime
// stopped) reports runtime_stopped, so the pipeline still ends.
class stage_ticket {
 public:
  stage_ticket(std::shared_ptr<pipeline_engine> engine, std::size_t stage,
               pipeline_slot* slot) noexcept;
  stage_ticket(stage_ticket&& other) noexcept = default;
  stage_ticket& operator=(stage_ticket&&) = delete;
  stage_ticket(const stage_ticket&) = delete;
  stage_ticket& operator=(const stage_ticket&) = delete;
  ~stage_ticket();

  // succeed() hands the stage's output on (nullptr for a stage of void);
  // fail() reports the item's error. Both do nothing on a used ticket.
  void succeed(item_ptr output) noexcept;
  void fail(std::exception_ptr error) noexcept;

 private:
  std::shared_ptr<pipeline_engine> engine_;
  std::size_t stage_;
  pipeline_slot* slot_;
};

// stage_body is one stage's work: start() hands `input` to the stage's
// lane and moves `ticket` into what reports the outcome. If it throws
// before it took the ticket, the engine fails the item with the exception.
// It may be called again before earlier items finished (parallelism > 1).
class stage_body {
 public:
  virtual ~stage_body() = default;
  virtual void start(runtime& rt, item_ptr input, stage_ticket& ticket) = 0;
};

// source_body produces the items; next() is never called concurrently.
class source_body {
 public:
  virtual ~source_body() = default;
  // next() is the next item, or nullopt once the source is exhausted.
  virtual std::optional<item_ptr> next() = 0;
  // total() is the number of items, when the source knows it up front.
  virtual std::optional<std::uint64_t> total() const = 0;
};

// report_outcome() moves a finished stage future's outcome into `ticket`.
template <class U>
void report_outcome(future<U>& done, stage_ticket& ticket) noexcept {
  item_ptr output;
  std::exception_ptr error = exception_of([&] {
    if constexpr (std::is_void_v<U>) {
      done.get();
    } else {
      output = box(done.get());
    }
  });
  if (error) {
    ticket.fail(std::move(error));
  } else {
    ticket.succeed(std::move(output));
  }
}

// deliver() reports `result` through `ticket` once it is ready, from the
// io lane (so the engine never runs on the cpu lane's dispatcher thread).
template <class U>
void deliver(future<U> result, stage_ticket& ticket) {
  std::move(result).then(
      [ticket = std::move(ticket)](future<U> done) mutable { report_outcome(done, ticket); });
}

}  // namespace detail
}  // namespace tandem
