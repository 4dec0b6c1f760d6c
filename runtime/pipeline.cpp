// pipeline.cpp — the engine that runs a tandem::pipeline.
//
// One mutex (mutex_) guards every queue and counter of a pipeline. After
// each event — an item finished, the source produced, a stop was asked for —
// advance_locked() moves finished items downstream, picks the items to start,
// decides whether the source should run and whether the pipeline is over.
// What it decides (the actions) is carried out once the lock is released,
// since that submits tasks and calls user code.
//
// Liveness: until the pipeline is over, the source task or some item's task
// is in flight (a stage whose queue is not empty can always start an item:
// the sink never waits for room), and each holds a reference to the
// engine; the event that leaves nothing in flight ends the pipeline. A
// continuation the runtime drops at shutdown still reports (stage_ticket),
// so the pipeline ends then too.
#include <algorithm>
#include <chrono>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <stop_token>
#include <utility>
#include <vector>

#include "tandem/pipeline.hpp"

namespace tandem::detail {

namespace {

using clock = std::chrono::steady_clock;

struct queued_item {
  std::uint64_t index;
  item_ptr value;
};

// start_action is an item to hand to its stage once the lock is released.
struct start_action {
  std::size_t stage;
  pipeline_slot* slot;
  item_ptr input;
};

struct actions {
  std::vector<start_action> starts;
  bool run_source = false;
  bool finish = false;
};

std::string message_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception of unknown type";
  }
}

bool is_runtime_stopped(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const runtime_stopped&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace

// pipeline_slot is an item a stage has taken: running, or done and waiting
// to be passed on.
struct pipeline_slot {
  std::uint64_t index = 0;
  clock::time_point started;
  item_ptr output;
  std::exception_ptr error;
  bool done = false;
};

namespace {

struct stage_state {
  explicit stage_state(stage_spec spec)
      : body(std::move(spec.body)),
        parallelism(spec.options.parallelism),
        max_in_flight(std::max<std::size_t>(parallelism, spec.options.max_in_flight
                                                             ? spec.options.max_in_flight
                                                             : 2 * parallelism)),
        capacity(spec.options.capacity ? spec.options.capacity : 2 * parallelism) {
    summary.name = std::move(spec.name);
  }

  // body and the bounds never change once running: body is used outside the lock.
  std::unique_ptr<stage_body> body;
  unsigned parallelism;
  std::size_t max_in_flight;
  std::size_t capacity;
  std::deque<queued_item> input;
  std::list<pipeline_slot> held;  // in the order taken; a slot's address is stable
  unsigned running = 0;
  stage_summary summary;
};

std::vector<stage_state> make_stages(std::vector<stage_spec> specs) {
  std::vector<stage_state> stages;
  stages.reserve(specs.size());
  for (auto& spec : specs) stages.emplace_back(std::move(spec));
  return stages;
}

}  // namespace

class pipeline_engine : public std::enable_shared_from_this<pipeline_engine> {
 public:
  pipeline_engine(runtime& rt, pipeline_spec spec, run_options options)
      : rt_(rt),
        source_(std::move(spec.source)),
        total_(source_->total()),
        options_(std::move(options)),
        result_(new state<pipeline_summary>(rt.id_, 2)),
        stages_(make_stages(std::move(spec.stages))) {}
  ~pipeline_engine() { result_->release(); }
  pipeline_engine(const pipeline_engine&) = delete;
  pipeline_engine& operator=(const pipeline_engine&) = delete;

  future<pipeline_summary> start();
  void finished(std::size_t stage, pipeline_slot* slot, item_ptr output,
                std::exception_ptr error) noexcept;

 private:
  // source_task runs the source on the io lane; dropped unrun (the runtime
  // stopped), it tells the engine so.
  struct source_task {
    std::shared_ptr<pipeline_engine> engine;
    void operator()() { std::exchange(engine, nullptr)->run_source(); }
    source_task(std::shared_ptr<pipeline_engine> e) noexcept : engine(std::move(e)) {}
    source_task(source_task&&) noexcept = default;
    ~source_task() {
      if (engine) engine->source_dropped();
    }
  };
  // stop_request is what the run's stop_token calls.
  struct stop_request {
    pipeline_engine* engine;
    void operator()() const noexcept {
      if (auto self = engine->weak_from_this().lock()) self->stop_with(nullptr);
    }
  };

  actions advance_locked();
  bool emit_locked(std::size_t stage);
  bool take_locked(std::size_t stage, actions& todo);
  void drop_queued_locked();
  void record_failure_locked(std::size_t stage, const pipeline_slot& slot);
  void stop_locked(std::exception_ptr error);
  bool source_may_run_locked() const;
  bool idle_locked() const;
  pipeline_summary summary_locked() const;

  void carry_out(actions todo) noexcept;
  void start_item(start_action& item) noexcept;
  void run_source() noexcept;
  void source_dropped() noexcept;
  void stop_with(std::exception_ptr error) noexcept;
  void finish() noexcept;
  void maybe_report_progress() noexcept;
  std::exception_ptr report_progress(bool final) noexcept;
  pipeline_progress snapshot(std::vector<stage_progress>& stages);

  runtime& rt_;
  const std::unique_ptr<source_body> source_;  // called by the one source task at a time
  const std::optional<std::uint64_t> total_;
  const run_options options_;
  clock::time_point started_;
  state<pipeline_summary>* const result_;  // claimed by start(), resolved by finish()

  std::mutex mutex_;  // guards everything below, down to progress_mutex_
  std::vector<stage_state> stages_;
  std::uint64_t produced_ = 0;
  bool source_running_ = false;
  bool source_done_ = false;
  bool stopping_ = false;
  bool over_ = false;
  std::exception_ptr error_;  // what stopped the pipeline; null when stopped from outside
  std::vector<failed_item> failures_;

  // progress_mutex_ serializes on_progress calls; it is taken before
  // mutex_, never while holding it.
  std::mutex progress_mutex_;
  clock::time_point last_progress_;  // guarded by progress_mutex_
  bool progress_closed_ = false;     // guarded by progress_mutex_

  // Last, so destroyed first: its destructor waits for a call under way on
  // another thread (which finds the engine expiring and does nothing).
  std::optional<std::stop_callback<stop_request>> stop_callback_;
};

future<pipeline_summary> pipeline_engine::start() {
  started_ = last_progress_ = clock::now();
  // Claimed for its whole run: cancel() on a running pipeline's future
  // returns false, as for any running task; the stop_token stops it.
  result_->try_claim();
  auto result = access::adopt(result_);
  if (options_.stop_token.stop_possible())
    stop_callback_.emplace(options_.stop_token, stop_request{this});
  actions todo;
  {
    std::lock_guard lock(mutex_);
    todo = advance_locked();
  }
  carry_out(std::move(todo));
  return result;
}

actions pipeline_engine::advance_locked() {
  actions todo;
  if (over_) return todo;
  // Passes from the sink back to the source until nothing moves: a stage
  // that starts items makes room for the one before it, whose items passed
  // on may in turn be started at once.
  for (bool moved = true; moved;) {
    moved = false;
    for (std::size_t k = stages_.size(); k-- > 0;) {
      moved |= emit_locked(k);
      if (!stopping_) moved |= take_locked(k, todo);
    }
  }
  if (stopping_) drop_queued_locked();
  if (!source_running_ && source_may_run_locked()) {
    source_running_ = true;
    todo.run_source = true;
  }
  if ((source_done_ || stopping_) && idle_locked()) {
    over_ = true;
    todo.finish = true;
  }
  return todo;
}

// emit_locked() passes a stage's done items on while the next stage has
// room: only the oldest under tandem::ordered, any under unordered. True
// when it moved or dropped any.
bool pipeline_engine::emit_locked(std::size_t k) {
  auto& s = stages_[k];
  stage_state* next = k + 1 < stages_.size() ? &stages_[k + 1] : nullptr;
  const std::size_t before = s.held.size();
  for (auto it = s.held.begin(); it != s.held.end();) {
    if (!it->done) {
      if (options_.order == output_order::ordered) break;
      ++it;
      continue;
    }
    if (!it->error) {
      if (next && next->input.size() >= next->capacity) break;
      if (next) next->input.push_back({it->index, std::move(it->output)});
      ++s.summary.items_out;
    }
    it = s.held.erase(it);
  }
  return s.held.size() != before;
}

// take_locked() starts items while the stage has a free slot; true when
// it started any.
bool pipeline_engine::take_locked(std::size_t k, actions& todo) {
  auto& s = stages_[k];
  const std::size_t before = todo.starts.size();
  while (s.running < s.parallelism && s.held.size() < s.max_in_flight && !s.input.empty()) {
    queued_item item = std::move(s.input.front());
    s.input.pop_front();
    auto& slot = s.held.emplace_back();
    slot.index = item.index;
    slot.started = clock::now();
    ++s.running;
    ++s.summary.items_in;
    todo.starts.push_back({k, &slot, std::move(item.value)});
  }
  return todo.starts.size() != before;
}

// drop_queued_locked() discards what a stopping pipeline will not process:
// queued items and done ones; running items finish first.
void pipeline_engine::drop_queued_locked() {
  for (auto& s : stages_) {
    s.input.clear();
    s.held.remove_if([](const pipeline_slot& slot) { return slot.done; });
  }
}

void pipeline_engine::record_failure_locked(std::size_t k, const pipeline_slot& slot) {
  auto& s = stages_[k];
  ++s.summary.items_failed;
  // A stopped runtime would fail every later item too: it ends the run.
  if (options_.errors == error_policy::collect && !is_runtime_stopped(slot.error))
    failures_.push_back({s.summary.name, slot.index, slot.error, message_of(slot.error)});
  else
    stop_locked(slot.error);
}

void pipeline_engine::stop_locked(std::exception_ptr error) {
  if (std::exchange(stopping_, true)) return;
  error_ = std::move(error);
}

bool pipeline_engine::source_may_run_locked() const {
  return !source_done_ && !stopping_ && stages_.front().input.size() < stages_.front().capacity;
}

bool pipeline_engine::idle_locked() const {
  return !source_running_ && std::all_of(stages_.begin(), stages_.end(), [](const auto& s) {
    return s.running == 0 && s.input.empty() && s.held.empty();
  });
}

void pipeline_engine::finished(std::size_t k, pipeline_slot* slot, item_ptr output,
                               std::exception_ptr error) noexcept {
  actions todo;
  {
    std::lock_guard lock(mutex_);
    auto& s = stages_[k];
    --s.running;
    s.summary.busy += clock::now() - slot->started;
    slot->done = true;
    slot->output = std::move(output);
    slot->error = std::move(error);
    if (slot->error) record_failure_locked(k, *slot);
    todo = advance_locked();
  }
  carry_out(std::move(todo));
  maybe_report_progress();
}

void pipeline_engine::carry_out(actions todo) noexcept {
  for (auto& item : todo.starts) start_item(item);
  if (todo.run_source) rt_.submit(tandem::io, source_task(shared_from_this()));
  if (todo.finish) finish();
}

void pipeline_engine::start_item(start_action& item) noexcept {
  stage_ticket ticket(shared_from_this(), item.stage, item.slot);
  if (auto error = exception_of(
          [&] { stages_[item.stage].body->start(rt_, std::move(item.input), ticket); }))
    ticket.fail(std::move(error));
}

// run_source() produces items while the first stage has room, then
// returns; advance_locked() runs it again when room appears.
void pipeline_engine::run_source() noexcept {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (!source_may_run_locked()) {
        source_running_ = false;
        actions todo = advance_locked();
        lock.unlock();
        carry_out(std::move(todo));
        return;
      }
    }
    std::optional<item_ptr> item;
    std::exception_ptr error;
    try {
      item = source_->next();
    } catch (...) {
      error = std::current_exception();
    }
    actions todo;
    {
      std::lock_guard lock(mutex_);
      if (error || !item) source_done_ = true;
      if (error) stop_locked(std::move(error));  // a source cannot skip an item: either policy
      if (item) stages_.front().input.push_back({produced_++, std::move(*item)});
      todo = advance_locked();
    }
    carry_out(std::move(todo));
    maybe_report_progress();
  }
}

void pipeline_engine::source_dropped() noexcept {
  actions todo;
  {
    std::lock_guard lock(mutex_);
    source_running_ = false;
    stop_locked(std::make_exception_ptr(runtime_stopped()));
    todo = advance_locked();
  }
  carry_out(std::move(todo));
}

void pipeline_engine::stop_with(std::exception_ptr error) noexcept {
  actions todo;
  {
    std::lock_guard lock(mutex_);
    stop_locked(std::move(error));
    todo = advance_locked();
  }
  carry_out(std::move(todo));
}

void pipeline_engine::finish() noexcept {
  std::exception_ptr last_report = report_progress(true);
  pipeline_summary summary;
  std::exception_ptr outcome;
  {
    std::lock_guard lock(mutex_);
    summary = summary_locked();
    if (error_)
      outcome = error_;
    else if (stopping_)
      outcome = std::make_exception_ptr(
          task_cancelled("pipeline stopped from outside (its stop_token) after " +
                         std::to_string(summary.items_out) + " items reached its last stage"));
    else
      outcome = last_report;
  }
  if (outcome)
    result_->fail_claimed(std::move(outcome));
  else
    result_->emplace_claimed(std::move(summary));
}

pipeline_summary pipeline_engine::summary_locked() const {
  pipeline_summary summary;
  for (const auto& s : stages_) summary.stages.push_back(s.summary);
  summary.failures = failures_;
  std::sort(summary.failures.begin(), summary.failures.end(),
            [](const failed_item& a, const failed_item& b) { return a.index < b.index; });
  summary.items_in = produced_;
  summary.items_out = stages_.back().summary.items_out;
  summary.wall = clock::now() - started_;
  return summary;
}

void pipeline_engine::maybe_report_progress() noexcept {
  if (auto error = report_progress(false)) stop_with(std::move(error));
}

// report_progress() calls on_progress unless another call is under way or
// one was made less than progress_interval ago (the final one always
// comes, and nothing after it); it returns what the callback threw.
std::exception_ptr pipeline_engine::report_progress(bool final) noexcept {
  if (!options_.on_progress) return nullptr;
  std::unique_lock guard(progress_mutex_, std::defer_lock);
  if (final)
    guard.lock();
  else if (!guard.try_lock())
    return nullptr;
  const auto now = clock::now();
  if (progress_closed_ || (!final && now - last_progress_ < options_.progress_interval))
    return nullptr;
  last_progress_ = now;
  progress_closed_ = final;
  std::vector<stage_progress> stages;
  pipeline_progress report = snapshot(stages);
  report.finished = final;
  try {
    options_.on_progress(report);
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

pipeline_progress pipeline_engine::snapshot(std::vector<stage_progress>& stages) {
  std::lock_guard lock(mutex_);
  const auto elapsed = clock::now() - started_;
  const double seconds = std::max(1e-9, std::chrono::duration<double>(elapsed).count());
  for (const auto& s : stages_) {
    const auto done = s.summary.items_out + s.summary.items_failed;
    stages.push_back({s.summary.name, done, static_cast<double>(done) / seconds});
  }
  return {stages, produced_, total_, elapsed, false};
}

stage_ticket::stage_ticket(std::shared_ptr<pipeline_engine> engine, std::size_t stage,
                           pipeline_slot* slot) noexcept
    : engine_(std::move(engine)), stage_(stage), slot_(slot) {}

stage_ticket::~stage_ticket() {
  if (engine_) fail(std::make_exception_ptr(runtime_stopped()));
}

void stage_ticket::succeed(item_ptr output) noexcept {
  if (auto engine = std::exchange(engine_, nullptr))
    engine->finished(stage_, slot_, std::move(output), nullptr);
}

void stage_ticket::fail(std::exception_ptr error) noexcept {
  if (auto engine = std::exchange(engine_, nullptr))
    engine->finished(stage_, slot_, nullptr, std::move(error));
}

stage_affinity::lane closure_lane(const std::string& stage, stage_affinity affinity) {
  if (affinity.where == stage_affinity::lane::cpu)
    throw error("pipeline stage '" + stage +
                "': a closure cannot run in a worker process; define the work with "
                "tandem::define_task and pass the task to then()");
  return affinity.where == stage_affinity::lane::declared ? stage_affinity::lane::io
                                                          : affinity.where;
}

future<pipeline_summary> run_pipeline(runtime& rt, pipeline_spec spec, run_options options) {
  return std::make_shared<pipeline_engine>(rt, std::move(spec), std::move(options))->start();
}

}  // namespace tandem::detail
