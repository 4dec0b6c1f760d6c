#include "runtime/io_lane.hpp"

#include <pthread.h>

#include <array>
#include <chrono>
#include <exception>
#include <string>
#include <utility>

#include "runtime/asio_handler_memory.hpp"
#include "runtime/cpu_relax.hpp"
#include "runtime/thread_role.hpp"
#include "runtime/thread_scheduling.hpp"
#include "runtime/wait_backoff.hpp"
#include "tandem/errors.hpp"

namespace tandem::detail {

namespace {

// How long a worker that ran out of work keeps looking before it sleeps:
// long enough that a request/response client (submit, wait, submit) finds
// it awake, short enough that an idle pool costs nothing measurable.
constexpr auto search_budget = std::chrono::microseconds(50);

// A busy worker checks the injection queue first every this many tasks, so
// outside submissions are not starved by a worker's own fork-join tree.
constexpr std::uint32_t inject_check_interval = 61;

// How many outside submissions a worker takes from the injection queue at
// once (take_injected()).
constexpr std::size_t inject_batch = 16;

// How long a busy worker lets the reactor go unwatched (no poller) before
// it runs what is ready itself, checked every inject_check_interval tasks
// (a clock read, about 20 ns, per 61 tasks): while every worker is busy,
// an event waits at most this long plus 61 tasks of a worker.
constexpr auto reactor_check_interval = std::chrono::milliseconds(1);

std::uint64_t next_random(std::uint64_t& s) {  // xorshift64
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

// help_floor() is the address three quarters down this thread's stack
// (stacks grow down): a quarter is kept for the task that runs there. 0
// when the thread's attributes cannot be read.
std::uintptr_t help_floor() noexcept {
  pthread_attr_t attributes;
  if (pthread_getattr_np(pthread_self(), &attributes) != 0) return 0;
  void* lowest = nullptr;
  std::size_t size = 0;
  const int got = pthread_attr_getstack(&attributes, &lowest, &size);
  pthread_attr_destroy(&attributes);
  return got == 0 ? reinterpret_cast<std::uintptr_t>(lowest) + size / 4 : 0;
}

}  // namespace

io_worker::io_worker(io_lane& lane, unsigned index)
    : lane_(lane),
      index_(index),
      inject_token_(lane.make_inject_token()),
      random_(0x9E3779B97F4A7C15ull * (index + 1)),
      trace_label_("io worker " + std::to_string(index)) {}

io_lane::io_lane(unsigned threads, std::uint32_t runtime_id, task_runner runner, void* context,
                 bool metrics, trace_recorder& trace, thread_scheduling scheduling, reactor& events)
    : runtime_id_(runtime_id),
      runner_(runner),
      runner_context_(context),
      metrics_(metrics),
      trace_(trace),
      scheduling_(scheduling),
      idle_(threads),
      reactor_(events) {
  workers_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) workers_.push_back(std::make_unique<io_worker>(*this, i));
  try {
    for (auto& w : workers_) w->thread_ = std::thread([this, &w = *w] { worker_main(w); });
  } catch (const std::exception& e) {  // std::system_error, or std::bad_alloc
    stop();                            // joins the threads started so far
    throw error("cannot start the io lane's " + std::to_string(threads) +
                " threads (runtime_options::io_threads): " + e.what());
  }
}

io_lane::~io_lane() { stop(); }

void io_lane::push(task_node* task) noexcept {
  const bool tracing = trace_.active();
  if (metrics_ || tracing) sample_stamp(*task, tracing);
  io_worker* self = current_thread_role().worker;
  if (self && &self->lane_ == this) {
    bump(self->queued_);  // counted before it can be taken and finished
    self->deque_.push(task);
    // The reactor's completions: the first is for this worker, which runs
    // it next; the rest wake others to steal them while it goes on.
    if (self->in_reactor_ && self->deque_.size_hint() <= 1) return;
  } else {
    outside_queued_.fetch_add(1, std::memory_order_seq_cst);
    inject_.push(task);
  }
  wake_one();
}

void io_lane::wake_one() noexcept {
  interrupt_if_poller(idle_.notify_one(poller_.load(std::memory_order_relaxed)));
}

// interrupt_if_poller() is called after `woken` was unparked, and reads
// poller_ again: a worker that became the poller meanwhile either sees the
// wake-up before it waits in the reactor, or is seen here and interrupted
// (both sides seq_cst).
void io_lane::interrupt_if_poller(unsigned woken) noexcept {
  if (woken != idle_set::none && woken == poller_.load(std::memory_order_seq_cst))
    reactor_.interrupt();
}

std::uint64_t io_lane::queued_count() const noexcept {
  std::uint64_t total = outside_queued_.load(std::memory_order_acquire);
  for (const auto& w : workers_) total += w->queued_.load(std::memory_order_acquire);
  return total;
}

std::uint64_t io_lane::finished_count() const noexcept {
  std::uint64_t total = 0;
  for (const auto& w : workers_) total += w->finished_.load(std::memory_order_acquire);
  return total;
}

void io_lane::worker_main(io_worker& self) {
  asio_handler_memory asio_memory;  // Asio writes to it through its call stack
  current_thread_role() =
      thread_role{.runtime_id = runtime_id_,
                  .worker = &self,
                  .stack_top = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0))};
  self.help_floor_ = help_floor();
  take_scheduling(scheduling_);
  bool searching = false;
  for (;;) {
    task_node* task = next_local(self);
    if (!task && (searching || (searching = idle_.try_begin_search()))) task = search(self);
    if (task) {
      // The last searcher to find work wakes a replacement only if more work
      // is visible; if a submitter queues more meanwhile, it sees no searcher
      // and wakes one itself (end_search is seq_cst, as is its fence).
      if (searching && idle_.end_search() && work_visible()) wake_one();
      searching = false;
      execute(self, task);
      continue;
    }
    if (stopping_.load(std::memory_order_acquire)) break;
    park(self, searching);
    searching = true;  // whoever woke us counted us as a searcher
  }
  current_thread_role() = thread_role{};
}

task_node* io_lane::next_local(io_worker& self) {
  if (++self.tick_ % inject_check_interval == 0) {
    check_reactor(self);
    if (task_node* task = take_injected(self)) return task;
  }
  if (task_node* task = self.deque_.pop()) return task;
  return take_injected(self);
}

// take_injected() takes a batch of outside submissions at once: one pair of
// atomic operations on the shared queue per batch instead of per task (the
// queue's head was the hottest line when one thread submits a stream of
// tasks to two workers). The oldest runs now; the rest go onto this
// worker's deque so that the owner pops them oldest first, and any idle
// worker may steal them.
task_node* io_lane::take_injected(io_worker& self) {
  std::array<task_node*, inject_batch> batch;
  const std::size_t taken = inject_.try_pop_many(self.inject_token_, batch);
  if (taken == 0) return nullptr;
  for (std::size_t i = taken - 1; i > 0; --i) self.deque_.push(batch[i]);
  if (taken > 1) wake_one();
  return batch[0];
}

task_node* io_lane::steal_once(io_worker& self, bool& contended) {
  const std::size_t n = workers_.size();
  const std::size_t start = next_random(self.random_) % n;
  for (std::size_t i = 0; i < n; ++i) {
    io_worker& victim = *workers_[(start + i) % n];
    if (&victim == &self) continue;
    bool lost = false;
    if (task_node* task = victim.deque_.steal(lost)) {
      bump(self.steals_);
      return task;
    }
    contended |= lost;
  }
  return nullptr;
}

task_node* io_lane::search(io_worker& self) {
  const auto deadline = std::chrono::steady_clock::now() + search_budget;
  for (unsigned round = 0;; ++round) {
    bool contended = false;
    if (task_node* task = steal_once(self, contended)) return task;
    if (task_node* task = take_injected(self)) return task;
    if (contended) continue;
    if (stopping_.load(std::memory_order_relaxed)) return nullptr;
    if (round % 8 == 7 && std::chrono::steady_clock::now() > deadline) return nullptr;
    backoff_step(round);
  }
}

void io_lane::execute(io_worker& self, task_node* task) {
  const bool tracing = trace_.active();
  if (!metrics_ && !tracing) {
    runner_(runner_context_, task);
  } else {
    const char* name = tracing ? task->trace_name() : nullptr;
    if (metrics_) bump(self.tally_.started);
    const task_report report =
        run_and_time(task, [this](task_node* t) { return runner_(runner_context_, t); });
    if (metrics_) self.tally_.record(report);
    if (name && report.timed)
      trace_.record(self.index_, self.trace_label_, name, "io",
                    trace_recorder::ending_of(report.outcome), traced_times(report));
  }
  bump(self.finished_);
}

void io_lane::add_metrics(io_lane_metrics& into) const noexcept {
  std::uint64_t started = 0;
  for (const auto& w : workers_) {
    started += w->tally_.add_to(into);
    into.steals += w->steals_.load(std::memory_order_acquire);
    into.parks += w->parks_.load(std::memory_order_acquire);
  }
  into.submitted += queued_count();
  into.threads += static_cast<unsigned>(workers_.size());
  if (metrics_) settle_depths(into, started);  // uncounted, the depths would be guesses
}

bool io_lane::work_visible() const noexcept {
  if (inject_.maybe_nonempty()) return true;
  for (const auto& w : workers_)
    if (w->deque_.size_hint() > 0) return true;
  return false;
}

void io_lane::park(io_worker& self, bool was_searching) {
  for (;;) {
    bump(self.parks_);
    const bool last_searcher = idle_.announce_park(self.index_, was_searching);
    if (stopping_.load(std::memory_order_seq_cst)) return;
    if (last_searcher && work_visible()) wake_one();
    if (take_poller(self)) {
      poll_until_woken(self);
      // It was the poller anyway: a hand-over that chose it is done.
      self.take_reactor_.store(false, std::memory_order_relaxed);
      release_poller();
      return hand_reactor_over();
    }
    idle_.park(self.index_);
    // Woken only to take the reactor over (hand_reactor_over): skip the
    // search, unless there is work to see. Counted as a searcher, this
    // worker re-checks the queues as it parks again, like the last one.
    if (!self.take_reactor_.exchange(false, std::memory_order_acquire) || work_visible()) return;
    was_searching = true;
  }
}

// hand_reactor_over() is called by a poller that leaves the reactor for
// work: if another worker sleeps on its futex, it wakes it to wait in the
// reactor instead, so events are not left unwatched while this one works
// (for as long as a task may take) and another sits idle.
//
// Another worker may have become the poller meanwhile: it is not chosen
// when another sleeps, and if it is chosen all the same (it took the role
// after poller_ was read), it is interrupted; it then drops the request
// (park()).
void io_lane::hand_reactor_over() noexcept {
  if (stopping_.load(std::memory_order_acquire)) return;
  const unsigned heir = idle_.take_sleeper(poller_.load(std::memory_order_relaxed));
  if (heir == idle_set::none) return;
  workers_[heir]->take_reactor_.store(true, std::memory_order_relaxed);
  idle_.unpark(heir);  // orders the store above before the heir's wake-up
  interrupt_if_poller(heir);
}

bool io_lane::take_poller(io_worker& self) noexcept {
  unsigned vacant = idle_set::none;
  return poller_.compare_exchange_strong(vacant, self.index_, std::memory_order_seq_cst);
}

// poll_until_woken() is the poller's sleep. It ends when a notifier wakes
// it (it interrupts the reactor after the wake-up, so the check before each
// wait cannot miss it), or when the reactor's completions left work on this
// worker's deque, which it then runs itself.
// If the user stopped the io_context (rt.io_context().stop()), waiting in
// it returns at once: the poller then sleeps on its futex instead, still
// holding the role, and whoever wakes it interrupts a stopped context,
// which is harmless.
void io_lane::poll_until_woken(io_worker& self) {
  while (!idle_.was_woken(self.index_)) {
    if (self.deque_.size_hint() > 0 || stopping_.load(std::memory_order_acquire))
      return idle_.cancel_park(self.index_);
    if (reactor_.stopped()) return idle_.park(self.index_);
    drive_reactor(self, [this] { reactor_.wait_for_one(); });
  }
}

// check_reactor() lets a busy worker run what the reactor has ready when
// no worker has waited in it for reactor_check_interval.
void io_lane::check_reactor(io_worker& self) {
  if (poller_.load(std::memory_order_relaxed) != idle_set::none) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - self.reactor_checked_ < reactor_check_interval) return;
  self.reactor_checked_ = now;
  run_ready_events(self);
}

// run_ready_events() runs what the reactor has ready, without waiting,
// unless another worker is the poller. Handlers it queues go onto this
// worker's deque; as it is busy (or waiting in get()), another is woken
// for the first of them too.
void io_lane::run_ready_events(io_worker& self) {
  if (!take_poller(self)) return;
  const auto queued_before = self.queued_.load(std::memory_order_relaxed);
  drive_reactor(self, [this] { reactor_.run_ready(); });
  release_poller();
  if (self.queued_.load(std::memory_order_relaxed) != queued_before) wake_one();
}

// drive_reactor() runs `drive` as a reactor thread: the completions it
// queues go onto this worker's deque, the first without waking anyone
// (push()), and they count as submissions from outside the runtime, so
// those that arrive once shutdown began are refused — a periodic timer
// cannot hold up a drain (scheduler.hpp).
template <class Drive>
void io_lane::drive_reactor(io_worker& self, Drive&& drive) {
  thread_role& role = current_thread_role();
  const std::uint32_t runtime_id = std::exchange(role.runtime_id, 0);
  self.in_reactor_ = true;
  drive();
  self.in_reactor_ = false;
  role.runtime_id = runtime_id;
}

void io_lane::help_until_ready(io_worker& self, state_base& s) {
  wait_backoff backoff;
  const bool may_nest =
      reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0)) > self.help_floor_;
  while (!s.is_ready()) {
    if (!may_nest) {
      backoff.pause_or_sleep(s, std::chrono::milliseconds(1));
      continue;
    }
    bool contended = false;
    task_node* task = next_local(self);
    if (!task) task = steal_once(self, contended);
    if (task) {
      execute(self, task);
      backoff.reset();
    } else if (!contended) {
      // Nothing to run: what the future waits for may be an event nobody
      // else watches for (on a one-thread lane), so look at the reactor now
      // and then; sleep on the future, but not for long — new work may
      // arrive that only this worker can see (its deque is empty, but
      // others' may fill).
      check_reactor(self);
      if (self.deque_.size_hint() == 0) backoff.pause_or_sleep(s, std::chrono::microseconds(200));
    }
  }
}

void io_lane::stop() {
  if (stopping_.exchange(true, std::memory_order_seq_cst)) return;
  idle_.wake_all();
  reactor_.interrupt();
  for (auto& w : workers_)
    if (w->thread_.joinable()) w->thread_.join();
  abandon_leftovers();
}

void io_lane::abandon_leftovers() {
  const auto reason = std::make_exception_ptr(runtime_stopped());
  for (auto& w : workers_)
    while (task_node* task = w->deque_.pop()) task->abandon(reason);
  while (task_node* task = inject_.try_pop()) task->abandon(reason);
}

}  // namespace tandem::detail
