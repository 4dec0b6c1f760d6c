// pipeline.hpp — job pipelines: a source, stages and a sink, joined by
// bounded queues.
//
//   const auto parse = tandem::define_task<stats(std::string)>("parse", tandem::cpu, parse_chunk);
//
//   auto done = tandem::pipeline<std::string>(read_next_chunk)   // std::optional<T>(), or a range
//       .then("parse", parse, {.parallelism = 4})                  // a defined task: a worker
//       process .then("label", [](stats s) { return label(s); }, {.affinity = tandem::io})
//       .sink([&](labelled l) { merge(l); })                        // one at a time, in input
//       order .run(rt, {.order = tandem::ordered, .errors = tandem::collect, .on_progress = draw});
//   tandem::pipeline_summary summary = done.get();
//
// Each stage takes its items from a bounded queue (`capacity`) and holds at
// most `max_in_flight` of them (running, or finished and waiting for their
// turn or for room downstream), so a slow stage slows the ones before it,
// down to the source, instead of filling memory: whatever the input size, at
// most the sum over stages of capacity + max_in_flight items exist at once.
// No thread is dedicated to a stage: items are submitted to the lanes as
// tasks (rt.submit) and a stage takes its next item when one of its own
// finishes, so a pipeline of any length runs on the runtime's threads.
//
// Thread-safety: a pipeline is built and run from one thread; run() may be
// called from anywhere, including from a task on the runtime.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "tandem/affinity.hpp"
#include "tandem/detail/pipeline_stage.hpp"
#include "tandem/errors.hpp"
#include "tandem/future.hpp"
#include "tandem/runtime.hpp"
#include "tandem/task.hpp"

namespace tandem {

// stage_affinity is where a stage's work runs: tandem::io (io-lane
// workers), tandem::io_blocking (threads for work that blocks) or
// tandem::cpu (worker processes: defined tasks only). Left unset, a
// defined task runs where it was declared to, and a closure on the io lane.
struct stage_affinity {
  enum class lane { declared, io, io_blocking, cpu };

  constexpr stage_affinity() noexcept = default;
  constexpr stage_affinity(io_t) noexcept : where(lane::io) {}
  constexpr stage_affinity(io_blocking_t) noexcept : where(lane::io_blocking) {}
  constexpr stage_affinity(cpu_t) noexcept : where(lane::cpu) {}

  lane where = lane::declared;
};

// stage_options sizes one stage.
struct stage_options {
  stage_affinity affinity{};
  // parallelism is how many items the stage processes at once (at least 1:
  // then() throws tandem::error for 0). A stage function with parallelism
  // above 1 is called concurrently.
  unsigned parallelism = 1;
  // max_in_flight bounds the items the stage holds: running, or finished
  // and waiting for their turn (ordered output) or for room in the next
  // stage's queue. 0 means 2 × parallelism; it is never below parallelism.
  std::size_t max_in_flight = 0;
  // capacity bounds the queue in front of the stage. 0 means 2 × parallelism.
  std::size_t capacity = 0;
};

// output_order: whether items leave every stage in the order they entered
// the pipeline, or as soon as they are done.
enum class output_order { ordered, unordered };
inline constexpr output_order ordered = output_order::ordered;
inline constexpr output_order unordered = output_order::unordered;

// error_policy: what an item's failure (an exception from a stage, a
// crashed or timed-out cpu task) does to the rest.
enum class error_policy {
  stop,     // the first error stops the pipeline; run()'s future rethrows it
  collect,  // the item is dropped and listed in the summary; the rest go on
};
inline constexpr error_policy stop = error_policy::stop;
inline constexpr error_policy collect = error_policy::collect;

// stage_progress is one stage's figures in a progress report.
struct stage_progress {
  std::string_view name;
  std::uint64_t done = 0;  // items finished, failed ones included
  double per_second = 0;   // done / time since run()
};

// pipeline_progress is what run_options::on_progress receives.
struct pipeline_progress {
  std::span<const stage_progress> stages;  // in pipeline order, the sink last
  std::uint64_t produced = 0;              // items the source gave so far
  std::optional<std::uint64_t> total;      // items the source will give, if known
  std::chrono::nanoseconds elapsed{0};
  bool finished = false;  // the last report, sent before run()'s future resolves
};

// run_options choose how a pipeline runs.
struct run_options {
  output_order order = ordered;
  error_policy errors = stop;
  // stop_token stops the pipeline from outside: the source is asked for
  // nothing more, queued items are dropped, and once the running ones have
  // finished run()'s future holds task_cancelled.
  std::stop_token stop_token{};
  // on_progress is called with the figures at most every
  // progress_interval, never concurrently, on a runtime thread, and a last
  // time (finished) before run()'s future resolves. An exception it throws
  // stops the pipeline as an item's error would under error_policy::stop.
  std::function<void(const pipeline_progress&)> on_progress{};
  std::chrono::milliseconds progress_interval{100};
};

// stage_summary is what one stage did.
struct stage_summary {
  std::string name;
  std::uint64_t items_in = 0;      // items the stage started
  std::uint64_t items_out = 0;     // items it passed on (or, the sink, consumed)
  std::uint64_t items_failed = 0;  // items whose processing failed
  // busy is the time items spent in the stage, summed: from handing one to
  // its lane to its result (queueing in the lane included).
  std::chrono::nanoseconds busy{0};
};

// failed_item is one item dropped under error_policy::collect.
struct failed_item {
  std::string stage;
  std::uint64_t index = 0;  // its position in the source's output
  std::exception_ptr error;
  std::string message;  // error's what(), for reports
};

// pipeline_summary is the value of run()'s future.
struct pipeline_summary {
  std::vector<stage_summary> stages;  // in pipeline order, the sink last
  std::vector<failed_item> failures;  // by index (error_policy::collect only)
  std::uint64_t items_in = 0;         // items the source gave
  std::uint64_t items_out = 0;        // items the sink consumed
  std::chrono::nanoseconds wall{0};   // from run() to the end
};

namespace detail {

struct stage_spec {
  std::string name;
  std::unique_ptr<stage_body> body;
  stage_options options;
};

struct pipeline_spec {
  std::unique_ptr<source_body> source;
  std::vector<stage_spec> stages;
};

// run_pipeline() starts the engine (runtime/pipeline.cpp).
future<pipeline_summary> run_pipeline(runtime& rt, pipeline_spec spec, run_options options);

template <class T, class Generator>
class generator_source final : public source_body {
 public:
  explicit generator_source(Generator generate) : generate_(std::move(generate)) {}
  std::optional<item_ptr> next() override {
    std::optional<T> item = std::invoke(generate_);
    if (!item) return std::nullopt;
    return box(std::move(*item));
  }
  std::optional<std::uint64_t> total() const override { return std::nullopt; }

 private:
  Generator generate_;
};

template <class T, class Range>
class range_source final : public source_body {
 public:
  explicit range_source(Range range) : range_(std::move(range)), at_(std::ranges::begin(range_)) {}
  std::optional<item_ptr> next() override {
    if (at_ == std::ranges::end(range_)) return std::nullopt;
    T item(std::move(*at_));  // the source owns its range: its items may move out
    ++at_;
    return box(std::move(item));
  }
  std::optional<std::uint64_t> total() const override {
    if constexpr (std::ranges::sized_range<const Range>)
      return static_cast<std::uint64_t>(std::ranges::size(range_));
    else
      return std::nullopt;
  }

 private:
  Range range_;
  std::ranges::iterator_t<Range> at_;
};

template <class In, class F>
class closure_stage final : public stage_body {
 public:
  closure_stage(F fn, stage_affinity::lane lane) : fn_(std::move(fn)), lane_(lane) {}
  void start(runtime& rt, item_ptr input, stage_ticket& ticket) override {
    In value = unbox<In>(std::move(input));
    if (lane_ == stage_affinity::lane::io_blocking)
      deliver(rt.submit(tandem::io_blocking, std::ref(fn_), std::move(value)), ticket);
    else
      deliver(rt.submit(tandem::io, std::ref(fn_), std::move(value)), ticket);
  }

 private:
  F fn_;
  stage_affinity::lane lane_;
};

template <class In, class R, class A>
class task_stage final : public stage_body {
 public:
  task_stage(task_ref<R(A)> task, stage_affinity::lane lane) : task_(task), lane_(lane) {}
  void start(runtime& rt, item_ptr input, stage_ticket& ticket) override {
    deliver(submit(rt, unbox<In>(std::move(input))), ticket);
  }

 private:
  future<R> submit(runtime& rt, In value) {
    switch (lane_) {
      case stage_affinity::lane::io:
        return rt.submit(tandem::io, task_, std::move(value));
      case stage_affinity::lane::io_blocking:
        return rt.submit(tandem::io_blocking, task_, std::move(value));
      case stage_affinity::lane::cpu:
        return rt.submit(tandem::cpu, task_, std::move(value));
      case stage_affinity::lane::declared:
        break;
    }
    return rt.submit(task_, std::move(value));
  }

  const task_ref<R(A)> task_;
  stage_affinity::lane lane_;
};

template <class S, class T>
concept generator_of = std::same_as<std::invoke_result_t<S&>, std::optional<T>>;

template <class S, class T>
concept range_of = std::ranges::input_range<S> &&
    std::constructible_from<T, std::ranges::range_rvalue_reference_t<S>>;

template <class S, class T>
concept pipeline_source = !std::is_void_v<T> && (generator_of<S, T> || range_of<S, T>);

// stage_result_t is what a closure stage yields: its result, a returned
// future unwrapped.
template <class F, class T>
using stage_result_t = unwrapped_t<std::invoke_result_t<std::decay_t<F>&, T>>;

template <class F, class T>
concept stage_closure = !std::is_void_v<T> && !is_task_ref<std::decay_t<F>>::value &&
                        std::invocable<std::decay_t<F>&, T>;

template <class F, class T>
concept sink_closure = stage_closure<F, T> && std::is_void_v<stage_result_t<F, T>>;

// closure_lane() is where a closure stage runs; a closure cannot reach a
// worker process (task.hpp), which is said at build time.
stage_affinity::lane closure_lane(const std::string& stage, stage_affinity affinity);

}  // namespace detail

// pipeline<T> is a pipeline under construction whose last stage (or
// source) yields items of type T; each then() gives a pipeline of the next
// stage's output type. A stage of void output ends it: then() with a
// function returning void, or sink(). Building consumes the builder (call
// then() and run() on an rvalue: a temporary or std::move(p)).
template <class T>
class pipeline {
 public:
  using item_type = T;

  // pipeline(source) takes either a generator, called repeatedly (never
  // concurrently) on the io lane and returning std::optional<T> (nullopt
  // ends the input), or a range of items convertible to T (a vector, a
  // view; unbounded ones are fine), which the pipeline owns and moves its
  // items out of. A sized range gives progress reports a total. A source
  // that blocks (reads a file) should stay cheap or hand the blocking part
  // to a tandem::io_blocking stage.
  template <detail::pipeline_source<T> Source>
  explicit pipeline(Source source) : spec_(std::make_unique<detail::pipeline_spec>()) {
    if constexpr (std::ranges::input_range<Source>)
      spec_->source = std::make_unique<detail::range_source<T, Source>>(std::move(source));
    else
      spec_->source = std::make_unique<detail::generator_source<T, Source>>(std::move(source));
  }

  // then() adds a stage that calls fn(T) on the io lane (or, with
  // .affinity = tandem::io_blocking, on a blocking thread). fn may return
  // a value, a tandem::future (unwrapped) or void (the pipeline ends
  // there). Throws tandem::error for .affinity = tandem::cpu: only a
  // defined task can run in a worker process.
  template <detail::stage_closure<T> F>
  auto then(std::string name, F&& fn, stage_options options = {}) && {
    using R = detail::stage_result_t<F, T>;
    const auto lane = detail::closure_lane(name, options.affinity);
    return std::move(*this).template add<R>(
        std::move(name),
        std::make_unique<detail::closure_stage<T, std::decay_t<F>>>(std::forward<F>(fn), lane),
        options);
  }

  // then(name, task) adds a stage that runs a defined task (task.hpp) on
  // each item: in a worker process for a tandem::cpu task, its argument
  // and result serialized (serialize.hpp). .affinity overrides where it
  // runs, as rt.submit(tandem::io / tandem::io_blocking / tandem::cpu,
  // task, item) would.
  template <class R, class A>
  pipeline<R> then(std::string name, const task_ref<R(A)>& task, stage_options options = {}) && {
    static_assert(!std::is_void_v<T> && std::constructible_from<std::decay_t<A>, T>,
                  "tandem::pipeline: the task's parameter cannot be made from the items");
    return std::move(*this).template add<R>(
        std::move(name),
        std::make_unique<detail::task_stage<T, R, A>>(task, options.affinity.where), options);
  }

  // sink() ends the pipeline with a stage named "sink" that consumes every
  // item: fn(T) returning void, by default one item at a time on the io
  // lane, in input order under tandem::ordered.
  template <detail::sink_closure<T> F>
  pipeline<void> sink(F&& fn, stage_options options = {}) && {
    return std::move(*this).then("sink", std::forward<F>(fn), options);
  }

  // run() starts the pipeline on `rt` and returns the future of its
  // summary, at once: it never waits (get() on an io-lane worker helps run
  // the pipeline while it waits). The future resolves once no stage
  // function runs or will run any more: with the summary; or, under
  // error_policy::stop, with the first item's error (a source that throws,
  // or runtime_stopped, ends the pipeline that way under either policy);
  // or with task_cancelled after options.stop_token was stopped. Once it
  // runs, the future's cancel() returns false: stop it with the token.
  future<pipeline_summary> run(runtime& rt, run_options options = {}) && {
    static_assert(std::is_void_v<T>, "tandem::pipeline: end it with sink() before run()");
    const std::unique_ptr<detail::pipeline_spec> spec = take_spec();
    return detail::run_pipeline(rt, std::move(*spec), std::move(options));
  }

 private:
  template <class>
  friend class pipeline;

  explicit pipeline(std::unique_ptr<detail::pipeline_spec> spec) noexcept
      : spec_(std::move(spec)) {}

  template <class R>
  pipeline<R> add(std::string name, std::unique_ptr<detail::stage_body> body,
                  stage_options options) && {
    if (options.parallelism == 0)
      throw error("tandem::pipeline: stage '" + name + "' has parallelism 0: give at least 1");
    std::unique_ptr<detail::pipeline_spec> spec = take_spec();
    spec->stages.push_back({std::move(name), std::move(body), options});
    return pipeline<R>(std::move(spec));
  }

  // take_spec() hands over what the builder holds, once: then(), sink()
  // and run() each consume the builder they are called on.
  std::unique_ptr<detail::pipeline_spec> take_spec() {
    if (!spec_)
      throw error(
          "tandem::pipeline: this builder was used already (then(), sink() and run() consume "
          "it); go on with the pipeline that call returned");
    return std::move(spec_);
  }

  std::unique_ptr<detail::pipeline_spec> spec_;
};

}  // namespace tandem
