#include "runtime/cpu_lane.hpp"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <string>
#include <thread>

#include "ipc/error.hpp"
#include "runtime/cpu_worker.hpp"
#include "runtime/full_fence.hpp"
#include "runtime/object_space.hpp"
#include "runtime/task_registry.hpp"
#include "runtime/thread_role.hpp"
#include "runtime/thread_scheduling.hpp"
#include "runtime/worker_protocol.hpp"

namespace tandem::detail {

namespace {

// The lane whose pass this thread runs, if any: a callback run inside the
// pass that submits or waits must not try to enter another pass of it.
thread_local const cpu_lane* passing_lane = nullptr;

// Payloads up to 16 KiB travel inline in the rings, larger ones in the
// heaps. A worker's window (cpu_lane.hpp) is at most window_depth jobs: deep
// enough that a worker runs a stream of short tasks without waiting on the
// dispatcher, and few enough to fit its ring with small arguments.
const ipc::ring_options ring_shape{std::size_t{64} << 10,
                                   static_cast<std::uint32_t>(cpu_inline_argument_bytes), 256};
constexpr std::size_t window_depth = run_gate::depth;
// How long the dispatcher spins before it parks (a few microseconds: on a
// machine with few cores a spinning dispatcher holds the core a worker
// needs), and the longest it parks: it looks at kill requests and the
// zygote's health at least this often.
constexpr std::uint32_t dispatcher_spins = 300;
constexpr auto busy_check = std::chrono::milliseconds(50);
// How soon the dispatcher looks at deadlines again after it found another
// thread in a pass (that thread's pass handled those due by then).
constexpr auto recheck_after_busy = std::chrono::milliseconds(1);
// The most passes a submitter runs in one go (try_pass) when other
// threads keep asking for more.
constexpr int passes_per_call = 4;
constexpr auto idle_check = std::chrono::milliseconds(250);
constexpr auto respawn_backoff = std::chrono::milliseconds(100);
// New workers that die before they are ready, in a row (killed by SIGKILL
// apart), before the lane gives up: each one's jobs went back to the
// queue, so without a limit a worker_init that crashes would be respawned
// forever.
constexpr unsigned startup_deaths_limit = 5;

// With no task defined nothing can ever reach the lane (the registry is
// frozen while a runtime exists): it then starts no process and keeps only
// a token heap.
bool lane_needed() { return task_count() != 0; }

std::size_t argument_heap_bytes(const runtime_options& options) {
  return lane_needed() ? options.cpu_payload_bytes : std::size_t{64} << 10;
}

// segment_text() says what the lane's segment holds, for errors about it.
std::string segment_text(const runtime_options& options) {
  return "cpu_payload_bytes (" + ipc::size_text(options.cpu_payload_bytes) +
         ") for the argument heap and again for each of the " +
         std::to_string(options.cpu_workers + options.cpu_spare_workers) +
         " worker processes (cpu_workers and cpu_spare_workers)";
}

std::size_t segment_bytes(const runtime_options& options) {
  if (!lane_needed()) return std::size_t{1} << 20;
  const std::size_t processes = std::size_t{options.cpu_workers} + options.cpu_spare_workers;
  std::size_t per_worker = 0, bytes = 0;
  if (__builtin_add_overflow(options.cpu_payload_bytes, 2 * (ring_shape.capacity + 4096),
                             &per_worker) ||
      __builtin_mul_overflow(per_worker, processes, &bytes) ||
      __builtin_add_overflow(bytes, options.cpu_payload_bytes + (std::size_t{1} << 20), &bytes))
    throw error("tandem: the cpu lane's shared memory would pass 2^64 bytes: " +
                segment_text(options) + "; lower runtime_options::cpu_payload_bytes");
  return bytes;
}

// lane_memory() maps the lane's segment. The heaps in it are reserved, not
// committed (segment.hpp), so only a size the address space cannot hold
// fails: an error naming the options that set it.
ipc::segment lane_memory(const runtime_options& options) {
  const std::size_t bytes = segment_bytes(options);
  try {
    return ipc::segment({bytes, ipc::segment_backing::anonymous});
  } catch (const ipc::ipc_error& failure) {
    throw error("tandem: cannot map the cpu lane's " + ipc::size_text(bytes) +
                " of shared memory, " + segment_text(options) +
                "; lower runtime_options::cpu_payload_bytes or cpu_workers (" + failure.what() +
                ")");
  }
}

std::exception_ptr crash_of(const cpu_job& job, pid_t pid, const ipc::exit_status& status) {
  return std::make_exception_ptr(worker_crashed(
      "task '" + job.task().name() + "': its worker process (pid " + std::to_string(pid) + ") " +
          ipc::describe(status) + " while running it; a replacement worker is being started",
      pid, status.signaled ? status.number : 0, status.signaled ? -1 : status.number));
}

// Rows of cpu workers in a trace: after the io and blocking threads', one
// per worker pid.
constexpr std::uint64_t first_trace_row = std::uint64_t{1} << 32;

template <class... T>
std::tuple<T...> decode_reply(std::span<const std::byte> payload) {
  reader in(payload);
  std::tuple<T...> values{in.read<T>()...};
  in.finish();
  return values;
}

}  // namespace

cpu_lane::cpu_lane(const runtime_options& options, scheduler& owner, std::uint32_t runtime_id,
                   object_space& objects, trace_recorder& trace)
    : options_(options),
      runtime_id_(runtime_id),
      objects_(objects),
      memory_(lane_memory(options)),
      signal_(memory_.construct<lane_signal>()),
      arguments_(memory_, argument_heap_bytes(options)),
      trace_(trace) {
  if (!lane_needed()) return;  // a program using the io lane alone forks nothing
  for (unsigned i = 0; i < options.cpu_workers + options.cpu_spare_workers; ++i) {
    slots_.push_back(
        std::make_unique<worker_slot>(memory_, i, ring_shape, options.cpu_payload_bytes));
    slots_.back()->spare = i >= options.cpu_workers;
  }
  zygote_.emplace(&cpu_lane::run_worker, &cpu_lane::notify_from_zygote, this);
  for (auto& slot : slots_) {
    slot->state = worker_slot::phase::starting;
    zygote_->spawn(slot->index());
  }
  // The zygote forks the workers while the runtime starts its threads: the
  // constructor does not wait for them (worker_pids() does).
  publish_pids();
  dispatcher_ = std::thread([this, &owner] { dispatch_loop(owner); });
}

cpu_lane::~cpu_lane() { stop(); }

// ---- worker and zygote side (run in the forked processes) ----

void cpu_lane::run_worker(void* self, unsigned slot) {
  auto& lane = *static_cast<cpu_lane*>(self);
  worker_slot& place = *lane.slots_.at(slot);
  lane.objects_.enter_as_worker();
  serve_as_worker({place.submissions(), place.gate(), place.completions(), lane.arguments_.bytes(),
                   *lane.signal_, lane.options_, getppid()});
}

void cpu_lane::notify_from_zygote(void* self) {
  auto& lane = *static_cast<cpu_lane*>(self);
  lane.signal_->reports.fetch_add(1, std::memory_order_seq_cst);
  lane.signal_->notify();
}

// ---- submitting side ----

std::span<std::byte> cpu_lane::reserve_arguments(cpu_job& job, std::size_t length) {
  if (length <= ring_shape.max_inline) {
    return job.inline_arguments.resize(length);
  }
  const std::size_t limit = largest_payload(options_.cpu_payload_bytes);
  if (length > limit)
    throw payload_too_large("the arguments of task '" + job.task().name() + "' encode to " +
                                ipc::size_text(length) + ", more than the " +
                                ipc::size_text(limit) +
                                " the shared argument heap can carry; raise "
                                "runtime_options::cpu_payload_bytes",
                            length, limit);
  std::unique_lock lock(arguments_mutex_);
  ipc::shm_buffer block;
  // Full for now: blocks come back as running tasks finish.
  while (!(block = arguments_.try_allocate(length))) {
    ++arguments_waiters_;
    arguments_freed_.wait(lock);
    --arguments_waiters_;
  }
  const ipc::heap_ref ref = block.hand_over();
  job.on_heap = true;
  job.heap_arguments = {ref.offset, ref.length};
  return arguments_.bytes().subspan(ref.offset, ref.length);
}

void cpu_lane::discard_arguments(cpu_job& job) noexcept {
  if (!std::exchange(job.on_heap, false)) return;
  std::lock_guard lock(arguments_mutex_);
  arguments_.give_back({job.heap_arguments.offset, job.heap_arguments.length});
  if (arguments_waiters_ != 0) arguments_freed_.notify_all();
}

void cpu_lane::push(cpu_job& job) noexcept {
  job.queued_ns = steady_now_ns();
  queued_.fetch_add(1, std::memory_order_seq_cst);
  queue_.push(&job);
  // Hand it to a worker from here: the dispatcher thread need not wake for
  // it. If another thread is in a pass, that thread runs one more for it.
  try_pass(if_busy::ask);
}

void cpu_lane::push_many(std::span<cpu_job* const> jobs) noexcept {
  const std::int64_t now = steady_now_ns();
  for (cpu_job* job : jobs) job->queued_ns = now;
  queued_.fetch_add(jobs.size(), std::memory_order_seq_cst);
  queue_.push_many(jobs);
  signal_->notify();
}

bool cpu_lane::withdraw(cpu_job& job) noexcept {
  std::uint64_t ticket = job.window_ticket.load(std::memory_order_acquire);
  for (;;) {
    if (ticket == cpu_job::in_transit) {
      if (job.window_ticket.compare_exchange_weak(ticket, cpu_job::withdrawn_in_transit,
                                                  std::memory_order_acq_rel))
        return resolve_withdrawn(job);
      continue;  // the exchange reloaded `ticket`
    }
    if (ticket == 0 || ticket == cpu_job::withdrawn_in_transit) return false;
    if (ticket == cpu_job::claiming) {  // in transit next, unless the claim was not the lane's
      ticket = moved_from(job, ticket);
      continue;
    }
    const auto number = static_cast<std::uint32_t>(ticket);
    run_gate& gate = slots_[(ticket >> 32) - 1]->gate();
    // Won once: a second cancel() finds the gate settled and the job not
    // withdrawable again.
    if (gate.try_settle(number, run_gate::fate::withdrawn)) return resolve_withdrawn(job);
    const std::uint64_t now = job.window_ticket.load(std::memory_order_acquire);
    if (now != ticket) {  // moved on meanwhile: look where it is now
      ticket = now;
      continue;
    }
    if (gate.fate_of(number) != run_gate::fate::taken_back) return false;  // started, or withdrawn
    ticket = moved_from(job, ticket);
  }
}

// moved_from() waits for the lane to move the job on from `ticket`, which
// it does in its very next step (from claiming, or from a window it took
// the job back from); 0 if that takes more than a millisecond (the lane's
// thread was preempted).
std::uint64_t cpu_lane::moved_from(const cpu_job& job, std::uint64_t ticket) noexcept {
  const auto give_up = clock::now() + std::chrono::milliseconds(1);
  std::uint64_t now;
  while ((now = job.window_ticket.load(std::memory_order_acquire)) == ticket) {
    if (clock::now() > give_up) return 0;
    std::this_thread::yield();
  }
  return now;
}

// resolve_withdrawn() cancels a job its owner withdrew; the lane lets it go.
bool cpu_lane::resolve_withdrawn(cpu_job& job) noexcept {
  job.result_state().fail_claimed(std::make_exception_ptr(task_cancelled()));
  withdrawals_.fetch_add(1, std::memory_order_release);
  signal_->notify();  // the dispatcher removes it from the window
  return true;
}

bool cpu_lane::has_idle_worker() const noexcept {
  return idle_workers_.load(std::memory_order_relaxed) > 0 && !queue_.maybe_nonempty();
}

std::vector<pid_t> cpu_lane::worker_pids() const {
  // Forking from the small zygote takes about a millisecond; a fork that
  // never reports (a frozen zygote) does not hold the caller forever.
  std::unique_lock lock(pids_mutex_);
  pids_known_.wait_for(lock, std::chrono::seconds(10), [&] { return pids_pending_ == 0; });
  return pids_;
}

void cpu_lane::cancel_all() noexcept {
  cancelling_.store(true, std::memory_order_seq_cst);
  signal_->notify();
}

bool cpu_lane::help(help_step step) noexcept {
  switch (step) {
    case help_step::begin:
      signal_->helpers.fetch_add(1, std::memory_order_seq_cst);
      return true;
    case help_step::end:
      signal_->helpers.fetch_sub(1, std::memory_order_seq_cst);
      // A worker's reply may have come that no pass has seen yet (a pass
      // can read a reply before its worker counts it in `events`): see it
      // now, or have the dispatcher thread see it.
      if (signal_->events.load(std::memory_order_seq_cst) !=
              events_passed_.load(std::memory_order_acquire) &&
          !try_pass(if_busy::skip).ran)
        signal_->bell.ring();
      return true;
    case help_step::pass:
      break;
  }
  // A helper's pass only hastens what the dispatcher would do anyway: it
  // does not ask a busy holder for more passes, which would keep the
  // holder passing for as long as the helper spins.
  return try_pass(if_busy::skip).progress;
}

cpu_lane::pass_result cpu_lane::try_pass(if_busy when_busy) noexcept {
  const bool ask = when_busy == if_busy::ask;
  if (passing_lane == this) {  // called from inside a pass: run another after it
    if (ask) pass_wanted_.store(true, std::memory_order_relaxed);
    return {};
  }
  pass_result result;
  bool claimed = pass_mutex_.try_lock() || (ask && ask_for_pass());
  for (int passes = 1; claimed; ++passes) {
    std::unique_lock lock(pass_mutex_, std::adopt_lock);
    if (stopping_.load(std::memory_order_acquire)) return result;
    result.ran = true;
    result.progress |= run_pass();
    const bool deadline_given = std::exchange(new_deadline_, false);
    lock.unlock();
    // The dispatcher thread sleeps until the deadlines it last saw: wake it
    // for a job given a timeout here.
    if (deadline_given) signal_->notify();
    // Asked for while it ran: one more pass, by this thread or the holder.
    // A submitter is not kept passing for others for long: past a few
    // passes it hands what was asked for to the dispatcher thread.
    if (!pass_again()) break;
    if (passes == passes_per_call) {
      signal_->notify();
      break;
    }
    claimed = pass_mutex_.try_lock() || ask_for_pass();
  }
  return result;
}

// ask_for_pass() is called when the pass mutex was busy. It has the thread
// in a pass run one more after it (see pass_again()), which sees
// everything this thread did before asking; true if the pass was free
// after all, and is now this thread's. So a submitter or the dispatcher
// never waits for a pass, and no request is lost: the asker's (exchange,
// fence, failed try_lock) and the holder's check (unlock, fence, load)
// cannot both miss each other. That takes a try_lock that fails only when
// the mutex is held, as glibc's does (the standard allows spurious
// failures; a lost request would then wait for the dispatcher's next wake).
bool cpu_lane::ask_for_pass() noexcept {
  pass_wanted_.exchange(true, std::memory_order_seq_cst);
  full_fence();
  if (!pass_mutex_.try_lock()) return false;
  // Free after all: the pass this thread runs now serves every request so
  // far, its own included.
  pass_wanted_.exchange(false, std::memory_order_acq_rel);
  return true;
}

// pass_again() is called after a pass released the mutex: true if another
// thread asked for a pass meanwhile.
bool cpu_lane::pass_again() noexcept {
  full_fence();
  return pass_wanted_.load(std::memory_order_relaxed) &&
         pass_wanted_.exchange(false, std::memory_order_acq_rel);
}

void cpu_lane::close_helping() noexcept {
  signal_->helpers.fetch_or(lane_signal::closed, std::memory_order_seq_cst);
  signal_->bell.ring();
}

void cpu_lane::stop() noexcept {
  if (stopping_.exchange(true)) return;
  signal_->notify();
  if (dispatcher_.joinable()) dispatcher_.join();
  std::lock_guard lock(pass_mutex_);  // a helper may still be in a pass
  pass_ns_ = steady_now_ns();
  // Nothing should be left after the scheduler's drain; whatever is, ends.
  const auto stopped = std::make_exception_ptr(runtime_stopped());
  for (auto& slot : slots_) {
    return_unstarted(*slot);
    while (!slot->window.empty()) fail(slot->pop_front(), stopped, ending::cancelled, slot->pid);
  }
  fail_queued(stopped, ending::cancelled);
  if (zygote_) zygote_->stop();
  // The zygote took its workers with it: nobody may count or signal them.
  for (auto& slot : slots_) vacate(*slot);
  publish_pids();
}

// ---- the dispatcher thread ----

void cpu_lane::dispatch_loop(scheduler& owner) {
  current_thread_role() = thread_role{runtime_id_, nullptr, &owner};
  take_scheduling({options_.thread_slice, options_.realtime_priority});
  auto wake_at = clock::now();
  while (!stopping_.load(std::memory_order_acquire)) {
    std::uint64_t seen = signal_->events.load(std::memory_order_seq_cst);
    bool claimed = pass_mutex_.try_lock();
    if (!claimed) {
      // Whoever is in the pass runs another, which sees every event so far.
      seen = signal_->events.load(std::memory_order_seq_cst);
      claimed = ask_for_pass();
    }
    if (claimed) {
      std::unique_lock lock(pass_mutex_, std::adopt_lock);
      new_deadline_ = false;
      const bool progress = run_pass();
      wake_at = next_deadline();
      lock.unlock();
      if (pass_again() || progress) continue;
    } else {
      // That pass also enforces the deadlines due by then; look again soon.
      wake_at = clock::now() + recheck_after_busy;
    }
    const bool woken = signal_->bell.wait(
        [&] { return signal_->events.load(std::memory_order_seq_cst) != seen; },
        {dispatcher_spins, std::max(wake_at - clock::now(), clock::duration::zero())});
    if (woken || zygote_->alive()) continue;
    std::lock_guard lock(pass_mutex_);
    if (broken_.empty())
      lose_zygote(
          "the cpu lane's zygote process died (was it killed?), so no worker can be started; "
          "create a new runtime");
  }
}

bool cpu_lane::run_pass() {
  passing_lane = this;
  events_passed_.store(signal_->events.load(std::memory_order_seq_cst), std::memory_order_release);
  pass_ns_ = steady_now_ns();
  bool progress = false;
  if (const auto reports = signal_->reports.load(std::memory_order_seq_cst);
      reports != reports_seen_) {
    reports_seen_ = reports;
    progress |= take_reports();
  }
  progress |= take_replies();
  progress |= enforce_limits();
  progress |= assign_jobs();
  respawn_vacant();
  passing_lane = nullptr;
  return progress;
}

bool cpu_lane::take_reports() {
  bool any = false;
  while (auto report = zygote_->try_receive()) {
    apply(std::move(*report));
    any = true;
  }
  return any;
}

void cpu_lane::apply(zygote_report report) {
  if (report.what == zygote_report::event::exited) return settle_exit(report);
  if (report.slot >= slots_.size()) return;
  worker_slot& slot = *slots_[report.slot];
  if (report.what == zygote_report::event::spawned) {
    slot.pid = report.pid;
    slot.process = std::move(report.worker);
  } else {
    slot.state = worker_slot::phase::vacant;
    slot.retry_at = clock::now() + respawn_backoff;
    promote_spare_for(slot);
  }
  publish_pids();
}

void cpu_lane::settle_exit(const zygote_report& report) {
  const auto it = std::find_if(slots_.begin(), slots_.end(),
                               [&](const auto& slot) { return slot->pid == report.pid; });
  if (it == slots_.end()) return;
  worker_slot& slot = **it;
  while (take_reply(slot)) {
  }
  // A SIGKILL comes from outside (a kill -9, the OOM killer), not from a
  // worker_init that cannot start: it does not count against the limit.
  const bool died_starting = slot.state == worker_slot::phase::starting &&
                             !(report.status.signaled && report.status.number == SIGKILL);
  // A worker that was killed or retired was counted when that began.
  if (slot.state != worker_slot::phase::leaving) count_restart(ending::crashed);
  return_unstarted(slot);
  while (!slot.window.empty()) {
    cpu_job& job = slot.pop_front();
    fail(job, crash_of(job, slot.pid, report.status), ending::crashed, slot.pid);
  }
  vacate(slot);
  slot.clear();
  slot.retry_at = clock::time_point::min();
  promote_spare_for(slot);
  publish_pids();
  if (died_starting && ++startup_deaths_ == startup_deaths_limit)
    break_lane(startup_death_reason(report));
}

std::string cpu_lane::startup_death_reason(const zygote_report& last) const {
  const std::string init = options_.worker_init
                               ? " (does worker_init '" + options_.worker_init.name() + "' crash?)"
                               : "";
  return std::to_string(startup_deaths_limit) +
         " new worker processes in a row died before they were ready" + init + "; the last, pid " +
         std::to_string(last.pid) + ", " + ipc::describe(last.status) +
         "; the cpu lane cannot run tasks: fix it and create a new runtime";
}

bool cpu_lane::take_replies() {
  bool any = false;
  for (auto& slot : slots_)
    while (slot->state != worker_slot::phase::vacant && take_reply(*slot)) any = true;
  return any;
}

bool cpu_lane::take_reply(worker_slot& slot) {
  const ipc::decoded frame = slot.reply();
  if (frame.error == ipc::frame_error::empty) return false;
  if (frame.error != ipc::frame_error::none) {
    reject_worker(slot, std::string("a corrupt reply (") + ipc::describe(frame.error) + ")");
    if (frame.error != ipc::frame_error::ring_corrupt) slot.done(frame);
    return frame.error != ipc::frame_error::ring_corrupt;
  }
  handle_reply(slot, frame);
  slot.done(frame);
  return true;
}

void cpu_lane::reject_worker(worker_slot& slot, const std::string& wrote) {
  const std::string what = "its worker process (pid " + std::to_string(slot.pid) + ") wrote " +
                           wrote + "; the worker was killed and is being replaced";
  kill_worker(
      slot,
      [&](const cpu_job& job) {
        return std::make_exception_ptr(
            worker_crashed("task '" + job.task().name() + "': " + what, slot.pid, SIGKILL, -1));
      },
      ending::crashed);
}

void cpu_lane::handle_reply(worker_slot& slot, const ipc::decoded& frame) {
  const auto kind = static_cast<to_parent>(frame.kind);
  // A worker says `init_failed` only before `ready`, and `retiring` only
  // between tasks (with its last reply): said by a running task, either is
  // a forgery, and believing it would leave that task running unwatched.
  if ((kind == to_parent::init_failed && slot.state != worker_slot::phase::starting) ||
      (kind == to_parent::retiring && slot.any_started()))
    return reject_worker(slot, "a reply it cannot send while running a task");
  switch (kind) {
    case to_parent::ready:
      if (slot.state == worker_slot::phase::starting) {
        slot.state = worker_slot::phase::serving;
        startup_deaths_ = 0;
        update_idle(slot);
      }
      return;
    case to_parent::retiring:
    case to_parent::init_failed:
      if (kind == to_parent::init_failed)
        break_lane(failed_init_reason(frame.payload));
      else
        bump(restarts_recycle_);
      return_unstarted(slot);  // it exits between tasks: nothing else ran
      set_idle(slot, false);
      slot.state = worker_slot::phase::leaving;
      promote_spare_for(slot);
      return;
    default:
      break;
  }
  // A reply is for the first job not withdrawn (a withdrawn one gets none).
  std::vector<cpu_job*> withdrawn;
  slot.remove_withdrawn_front(withdrawn);
  if (!withdrawn.empty()) finish_withdrawn(slot, withdrawn);
  const bool expected = !slot.window.empty() &&
                        frame_number(frame.id) == slot.window.front().number &&
                        frame_task(frame.id) == wire_task(slot.window.front().job->task().index(),
                                                          slot.window.front().job->runs_each);
  // Replies come in window order: one for another job, or of a kind no
  // task reply has, means the worker's replies can no longer be matched.
  if (!expected ||
      (kind != to_parent::value && kind != to_parent::thrown && kind != to_parent::too_large &&
       kind != to_parent::unreadable && kind != to_parent::unknown))
    return reject_worker(slot, "a reply that answers no task it was given");
  cpu_job& job = slot.pop_front();
  switch (kind) {
    case to_parent::value:
      account(job, ending::completed, slot.pid);
      job.deliver(frame.payload);
      release(job);
      break;
    case to_parent::thrown:
      fail(job, remote_failure(job, frame.payload), ending::failed, slot.pid);
      break;
    case to_parent::too_large:
      fail(job, oversized_result(job, frame.payload), ending::failed, slot.pid);
      break;
    case to_parent::unreadable:
      fail(job, unreadable_arguments(job, frame.payload), ending::failed, slot.pid);
      break;
    default:  // to_parent::unknown
      fail(job,
           std::make_exception_ptr(unknown_task(
               "task '" + job.task().name() + "' (number " + std::to_string(job.task().index()) +
               ") is unknown to worker pid " + std::to_string(slot.pid))),
           ending::failed, slot.pid);
  }
  update_idle(slot);
}

std::exception_ptr cpu_lane::remote_failure(const cpu_job& job,
                                            std::span<const std::byte> payload) {
  try {
    auto [type, message] = decode_reply<std::string, std::string>(payload);
    return std::make_exception_ptr(remote_error(job.task().name(), type, message));
  } catch (...) {
    return std::current_exception();
  }
}

std::exception_ptr cpu_lane::oversized_result(const cpu_job& job,
                                              std::span<const std::byte> payload) {
  try {
    auto [size, limit] = decode_reply<std::uint64_t, std::uint64_t>(payload);
    return std::make_exception_ptr(payload_too_large(
        "the result of task '" + job.task().name() + "' encodes to " + ipc::size_text(size) +
            ", more than the " + ipc::size_text(limit) +
            " its worker's result heap can carry; raise runtime_options::cpu_payload_bytes",
        size, limit));
  } catch (...) {
    return std::current_exception();
  }
}

std::exception_ptr cpu_lane::unreadable_arguments(const cpu_job& job,
                                                  std::span<const std::byte> payload) {
  try {
    auto [what] = decode_reply<std::string>(payload);
    return std::make_exception_ptr(
        decode_error("the arguments of task '" + job.task().name() +
                     "' cannot be read in its worker process, so it did not run: " + what));
  } catch (...) {
    return std::current_exception();
  }
}

std::string cpu_lane::failed_init_reason(std::span<const std::byte> payload) {
  std::string why = "runtime_options::worker_init ('" + options_.worker_init.name() + "') threw";
  try {
    auto [type, message] = decode_reply<std::string, std::string>(payload);
    why += " " + type + (message.empty() ? "" : ": " + message);
  } catch (const decode_error&) {
  }
  return why +
         " in a new worker, so the cpu lane cannot run tasks; fix it and create a new runtime";
}

bool cpu_lane::enforce_limits() {
  bool any = false;
  const std::int64_t now = pass_ns_;
  // Windows are searched for withdrawn jobs only after a withdrawal.
  const std::uint64_t withdrawals = withdrawals_.load(std::memory_order_acquire);
  const bool search = std::exchange(withdrawals_seen_, withdrawals) != withdrawals;
  for (auto& slot : slots_) {
    if (slot->window.empty() || !slot->takes_work()) continue;
    if (search) any |= remove_withdrawn(*slot);
    if (slot->window.empty() || why_stop(*slot, now) == stop_cause::none) continue;
    // The worker may end the job and start its next one at any moment, and
    // the kill would fail that one: take back what it has not started, so
    // it can start nothing more, and decide again on what it still runs.
    return_unstarted(*slot);
    const stop_cause cause = why_stop(*slot, now);
    if (cause == stop_cause::none) continue;
    kill_worker(
        *slot, [&](const cpu_job& job) { return stop_reason(job, slot->pid, cause); },
        cause == stop_cause::timeout ? ending::timed_out : ending::cancelled);
    any = true;
  }
  return any;
}

cpu_lane::stop_cause cpu_lane::why_stop(const worker_slot& slot, std::int64_t now_ns) const {
  // The dispatcher asks this for every busy worker on every pass, so it
  // builds no message: stop_reason() does, for a job actually stopped.
  if (cancelling_.load(std::memory_order_acquire)) return stop_cause::shutdown;
  if (slot.window.empty()) return stop_cause::none;
  stop_cause cause = stop_cause::none;
  if (slot.window.front().job->kill_requested.load(std::memory_order_acquire))
    cause = stop_cause::kill_running;
  else if (front_deadline_ns(slot) <= now_ns)
    cause = stop_cause::timeout;
  // A first job that has ended (its reply not yet taken) is not stopped:
  // the kill would fail the job the worker runs now in its place. Asked
  // last: it reads the gate entry of every job in the window.
  return cause != stop_cause::none && slot.front_running() ? cause : stop_cause::none;
}

std::int64_t cpu_lane::front_deadline_ns(const worker_slot& slot) const noexcept {
  if (slot.window.empty()) return INT64_MAX;
  // The timeout first: a job without one needs no look at the gate.
  const auto timeout = effective_timeout(*slot.window.front().job);
  if (timeout <= std::chrono::nanoseconds::zero() || !slot.front_started()) return INT64_MAX;
  const std::int64_t started = slot.gate().started_ns(slot.window.front().number);
  // A timeout too long to add to the clock means no limit.
  return timeout.count() > INT64_MAX - started ? INT64_MAX : started + timeout.count();
}

std::exception_ptr cpu_lane::stop_reason(const cpu_job& job, pid_t pid, stop_cause cause) const {
  const std::string task = "task '" + job.task().name() + "'";
  const std::string worker = "its worker process (pid " + std::to_string(pid) + ")";
  if (cause == stop_cause::shutdown)
    return std::make_exception_ptr(task_cancelled(
        task + " cancelled while running: the runtime was shut down with tandem::cancel and " +
        worker + " was killed"));
  if (cause == stop_cause::kill_running)
    return std::make_exception_ptr(
        task_cancelled(task + " cancelled while running (tandem::kill_running): " + worker +
                       " was killed and is being replaced"));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(effective_timeout(job));
  return std::make_exception_ptr(task_timeout(task + " ran past its timeout of " +
                                              std::to_string(ms.count()) + " ms: " + worker +
                                              " was killed and is being replaced"));
}

std::chrono::nanoseconds cpu_lane::effective_timeout(const cpu_job& job) const noexcept {
  return job.timeout() > std::chrono::nanoseconds::zero() ? job.timeout()
                                                          : options_.default_timeout;
}

bool cpu_lane::fail_all_queued() {
  const auto reason = broken_.empty()
                          ? std::make_exception_ptr(task_cancelled(
                                "task cancelled before it started: the runtime was shut down "
                                "with tandem::cancel"))
                          : std::make_exception_ptr(worker_crashed(broken_, 0, 0, -1));
  return fail_queued(reason, broken_.empty() ? ending::cancelled : ending::failed);
}

// fail_queued() fails every job not in a window: those taken back (claimed
// already) and those still queued; false when there were none.
bool cpu_lane::fail_queued(const std::exception_ptr& reason, ending how) {
  bool any = false;
  for (cpu_job* job : std::exchange(returned_, {})) {
    if (out_of_transit(*job))
      fail(*job, reason, how, 0);
    else
      finish(*job, ending::cancelled);
    any = true;
  }
  while (cpu_job* job = pop_queued()) {
    job->result_state().try_fail(reason);
    finish(*job, how);
    any = true;
  }
  return any;
}

bool cpu_lane::assign_jobs() {
  if (cancelling_.load(std::memory_order_acquire) || !broken_.empty()) return fail_all_queued();
  bool any = false;
  bool rebalanced = false;
  for (auto& slot : slots_) slot->ring_full = false;
  // Each job goes to the open window with the fewest jobs (the first such
  // slot on a tie), so every idle worker gets one before any window grows.
  while (worker_slot* slot = shortest_open_window()) {
    cpu_job* job = next_job();
    if (job == nullptr && !rebalanced && slot->window.empty()) {
      rebalanced = true;
      if (rebalance()) job = next_job();
    }
    if (job == nullptr) return any;
    switch (offer(*slot, *job)) {
      case worker_slot::offer_result::offered:
        any = true;
        break;
      case worker_slot::offer_result::withdrawn:  // its owner cancelled it just now
        finish(*job, ending::cancelled);
        any = true;
        break;
      case worker_slot::offer_result::ring_full:  // the worker's next reply wakes us to retry
        returned_.push_front(job);
        slot->ring_full = true;
    }
  }
  return any;
}

// shortest_open_window() is the slot that may take a job now whose window
// is the shortest, or null when none may: one look at each slot per job
// offered, however deep the windows are.
worker_slot* cpu_lane::shortest_open_window() noexcept {
  worker_slot* best = nullptr;
  for (auto& slot : slots_) {
    if (!slot->takes_work() || slot->ring_full || !slot->has_room() ||
        slot->window.size() >= window_depth)
      continue;
    if (best == nullptr || slot->window.size() < best->window.size()) best = slot.get();
  }
  return best;
}

// next_job() is the next job to offer, claimed and in transit.
cpu_job* cpu_lane::next_job() {
  while (!returned_.empty()) {
    cpu_job& job = *returned_.front();
    returned_.pop_front();
    const bool withdrawn =
        job.window_ticket.load(std::memory_order_acquire) == cpu_job::withdrawn_in_transit;
    if (!withdrawn && !job.kill_requested.load(std::memory_order_acquire)) return &job;
    if (withdrawn || !out_of_transit(job)) {
      finish(job, ending::cancelled);  // its owner resolved it
      continue;
    }
    fail(job,
         std::make_exception_ptr(task_cancelled("task '" + job.task().name() +
                                                "' cancelled (tandem::kill_running) before it "
                                                "started")),
         ending::cancelled, 0);
  }
  while (cpu_job* job = pop_queued()) {
    // Marked before the claim: a cancel() that finds the job claimed finds
    // the mark too, and waits to learn whose claim it was.
    job->window_ticket.store(cpu_job::claiming, std::memory_order_release);
    if (job->result_state().try_claim()) {
      job->window_ticket.store(cpu_job::in_transit, std::memory_order_release);
      return job;
    }
    job->window_ticket.store(0, std::memory_order_release);
    finish(*job, ending::cancelled);  // cancelled while queued: it never runs
  }
  return nullptr;
}

// out_of_transit() takes a job in transit from the withdrawals, for the
// lane to resolve; false when its owner withdrew it first.
bool cpu_lane::out_of_transit(cpu_job& job) noexcept {
  std::uint64_t expected = cpu_job::in_transit;
  return job.window_ticket.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
}

cpu_job* cpu_lane::pop_queued() {
  if (intake_next_ == intake_end_) {
    intake_end_ = queue_.try_pop_many(intake_);
    intake_next_ = 0;
    if (intake_end_ == 0) return nullptr;
  }
  return intake_[intake_next_++];
}

worker_slot::offer_result cpu_lane::offer(worker_slot& slot, cpu_job& job) {
  const auto result = slot.offer(job);
  if (result != worker_slot::offer_result::offered) return result;
  if (effective_timeout(job) > std::chrono::nanoseconds::zero()) new_deadline_ = true;
  set_idle(slot, false);
  return result;
}

// rebalance() takes back the unstarted jobs of the worker with the most of
// them, for idle workers to take; false when no worker has any.
bool cpu_lane::rebalance() {
  worker_slot* fullest = nullptr;
  std::size_t most = 0;
  for (auto& slot : slots_) {
    // Only jobs waiting behind a running one: a worker whose first job has
    // not started is about to start it (moving it would only wake another).
    if (!slot->takes_work() || !slot->front_started()) continue;
    const std::size_t waiting = slot->window.size() - 1;
    if (waiting > most) {
      most = waiting;
      fullest = slot.get();
    }
  }
  if (fullest == nullptr) return false;
  return_unstarted(*fullest);
  return !returned_.empty();
}

void cpu_lane::return_unstarted(worker_slot& slot) {
  std::deque<cpu_job*> unstarted;
  std::vector<cpu_job*> withdrawn;
  slot.take_back(unstarted, withdrawn);
  // Withdrawn jobs ahead of the last one started stay in the window: out
  // with them too, so that whoever empties the window next (a worker's
  // death, a kill, stop()) fails only jobs nobody has resolved.
  slot.remove_withdrawn(withdrawn);
  returned_.insert(returned_.begin(), unstarted.begin(), unstarted.end());
  finish_withdrawn(slot, withdrawn);
}

bool cpu_lane::remove_withdrawn(worker_slot& slot) {
  std::vector<cpu_job*> withdrawn;
  slot.remove_withdrawn(withdrawn);
  finish_withdrawn(slot, withdrawn);
  return !withdrawn.empty();
}

// finish_withdrawn() ends the jobs their owners cancelled in a window (each
// canceller resolved its own future).
void cpu_lane::finish_withdrawn(worker_slot& slot, const std::vector<cpu_job*>& withdrawn) {
  for (cpu_job* job : withdrawn) finish(*job, ending::cancelled);
  update_idle(slot);
}

void cpu_lane::respawn_vacant() {
  if (!broken_.empty()) return;
  const auto now = clock::now();
  for (auto& slot : slots_) {
    if (slot->state != worker_slot::phase::vacant || slot->retry_at > now) continue;
    slot->state = worker_slot::phase::starting;
    if (!zygote_->spawn(slot->index())) {
      lose_zygote(
          "the cpu lane's zygote process is gone, so no worker can be started; create a "
          "new runtime");
      return;
    }
  }
}

void cpu_lane::fail(cpu_job& job, std::exception_ptr reason, ending how, pid_t pid) {
  account(job, how, pid);
  job.result_state().fail_claimed(std::move(reason));
  release(job);
}

// kill_worker() kills the worker: the jobs it never started go back to be
// handed out again; the one it runs fails with reason_for(job).
template <class Reason>
void cpu_lane::kill_worker(worker_slot& slot, Reason reason_for, ending how) {
  if (slot.process.fd() >= 0) slot.process.send_signal(SIGKILL);
  if (slot.state != worker_slot::phase::leaving) count_restart(how);
  return_unstarted(slot);
  while (!slot.window.empty()) {
    cpu_job& job = slot.pop_front();
    fail(job, reason_for(job), how, slot.pid);
  }
  // Its task has ended for the metrics too, before the zygote reports the
  // exit (and the gate is cleared).
  slot.gate().running.store(0, std::memory_order_relaxed);
  set_idle(slot, false);
  slot.state = worker_slot::phase::leaving;
  promote_spare_for(slot);
}

void cpu_lane::break_lane(const std::string& why) {
  if (!broken_.empty()) return;
  broken_ = why;
  for (auto& slot : slots_)
    if (!slot->window.empty())
      kill_worker(
          *slot,
          [&](const cpu_job& job) {
            return std::make_exception_ptr(
                worker_crashed("task '" + job.task().name() + "': " + why, slot->pid, 0, -1));
          },
          ending::failed);
  publish_pids();
}

void cpu_lane::lose_zygote(const std::string& why) {
  break_lane(why);
  // The workers die with the zygote (die_with_parent), and their exits
  // will never be reported: see them off now, so nobody counts them alive.
  for (auto& slot : slots_) {
    if (slot->pid == 0) continue;
    if (slot->process.fd() >= 0) slot->process.send_signal(SIGKILL);
    vacate(*slot);
  }
  publish_pids();
}

void cpu_lane::finish(cpu_job& job, ending how, pid_t pid) noexcept {
  account(job, how, pid);
  release(job);
}

// account() counts how the job ended and traces it: before its future is
// resolved, so whoever waits on it finds both already there.
void cpu_lane::account(const cpu_job& job, ending how, pid_t pid) noexcept {
  count_ending(how);
  if (job.started_ns == 0) return;  // it never ran
  // A job stopped or lost with its worker ended when that was seen, which
  // may be in the pass it started in (pass_ns_ is the pass's start).
  const std::int64_t ended = job.ended_ns != 0 ? job.ended_ns : std::max(pass_ns_, job.started_ns);
  tally_.queue_wait.record(job.started_ns - job.queued_ns);
  tally_.run_time.record(ended - job.started_ns);
  if (trace_.active()) record_slice(job, how, pid, ended);
}

void cpu_lane::release(cpu_job& job) noexcept {
  discard_arguments(job);
  job.drop();
  finished_.fetch_add(1, std::memory_order_seq_cst);
}

void cpu_lane::count_ending(ending how) noexcept {
  // The cpu lane's own endings beyond task_outcome: a timeout, and a crash
  // (counted as a failure).
  if (how == ending::timed_out) return bump(tally_.timed_out);
  tally_.count(how == ending::completed   ? task_outcome::completed
               : how == ending::cancelled ? task_outcome::cancelled
                                          : task_outcome::failed);
}

void cpu_lane::count_restart(ending how) noexcept {
  switch (how) {
    case ending::timed_out:
      bump(restarts_timeout_);
      break;
    case ending::cancelled:
      bump(restarts_cancel_);
      break;
    default:
      bump(restarts_crash_);
      break;
  }
}

void cpu_lane::record_slice(const cpu_job& job, ending how, pid_t pid, std::int64_t end_ns) {
  try {
    trace_.record(first_trace_row + static_cast<std::uint64_t>(pid),
                  "cpu worker pid " + std::to_string(pid), job.task().name().c_str(), "cpu", how,
                  {job.queued_ns, job.started_ns, end_ns});
  } catch (...) {
    // Out of memory for a trace slice: the trace misses it, the task does not.
  }
}

void cpu_lane::add_metrics(cpu_lane_metrics& into) const noexcept {
  tally_.add_to(into);  // the lane counts no starts: its workers' gates tell what runs
  const std::uint64_t refused = refused_.load(std::memory_order_relaxed);
  into.submitted += queued_.load(std::memory_order_acquire) + refused;
  into.failed += refused;
  into.workers += options_.cpu_workers;
  into.workers_alive += workers_alive_.load(std::memory_order_acquire);
  into.restarts_crash += restarts_crash_.load(std::memory_order_acquire);
  into.restarts_timeout += restarts_timeout_.load(std::memory_order_acquire);
  into.restarts_cancel += restarts_cancel_.load(std::memory_order_acquire);
  into.restarts_recycle += restarts_recycle_.load(std::memory_order_acquire);
  settle_depths(into, ended_count(into) + running_now());
}

std::uint64_t cpu_lane::running_now() const noexcept {
  std::uint64_t running = 0;
  for (const auto& slot : slots_) running += slot->gate().running.load(std::memory_order_relaxed);
  return running;
}

void cpu_lane::update_idle(worker_slot& slot) noexcept {
  set_idle(slot, slot.state == worker_slot::phase::serving && !slot.spare && slot.window.empty());
}

// promote_spare_for() gives the work of `leaving` (a worker that stops taking
// jobs) to a spare worker, at once: the spare, already forked and most
// likely ready, takes the jobs queued or taken back, and `leaving` will be
// respawned as the spare.
void cpu_lane::promote_spare_for(worker_slot& leaving) {
  if (leaving.spare) return;
  worker_slot* best = nullptr;
  for (auto& slot : slots_) {
    if (!slot->spare || slot->pid == 0) continue;
    if (slot->state == worker_slot::phase::serving) {
      best = slot.get();
      break;
    }
    if (slot->state == worker_slot::phase::starting && best == nullptr) best = slot.get();
  }
  if (best == nullptr) return;
  best->spare = false;
  leaving.spare = true;
  update_idle(*best);
  publish_pids();
}

void cpu_lane::vacate(worker_slot& slot) noexcept {
  set_idle(slot, false);
  slot.process = ipc::pidfd();
  slot.pid = 0;
  slot.state = worker_slot::phase::vacant;
}

void cpu_lane::set_idle(worker_slot& slot, bool idle) noexcept {
  if (slot.counted_idle == idle) return;
  slot.counted_idle = idle;
  idle_workers_.fetch_add(idle ? 1 : -1, std::memory_order_relaxed);
}

void cpu_lane::publish_pids() {
  std::vector<pid_t> pids;
  unsigned pending = 0;
  for (const auto& slot : slots_) {
    if (slot->spare) continue;  // not a worker until it takes one's place
    if (slot->pid != 0) pids.push_back(slot->pid);
    // A broken lane's zygote may never report the forks it was asked for.
    if (slot->pid == 0 && slot->state == worker_slot::phase::starting && broken_.empty()) ++pending;
  }
  workers_alive_.store(static_cast<unsigned>(pids.size()), std::memory_order_release);
  {
    std::lock_guard lock(pids_mutex_);
    pids_ = std::move(pids);
    pids_pending_ = pending;
  }
  pids_known_.notify_all();
}

cpu_lane::clock::time_point cpu_lane::next_deadline() const noexcept {
  const auto now = clock::now();
  auto wake_at = now + idle_check;
  for (const auto& slot : slots_) {
    if (!slot->window.empty()) {
      const std::int64_t deadline = front_deadline_ns(*slot);
      wake_at = std::min(wake_at, now + busy_check);
      if (deadline != INT64_MAX)
        wake_at = std::min(wake_at, clock::time_point(std::chrono::nanoseconds(deadline)));
    }
    // A broken lane respawns nothing: a vacant slot is no reason to wake.
    if (slot->state == worker_slot::phase::vacant && broken_.empty())
      wake_at = std::min(wake_at, std::max(slot->retry_at, now));
  }
  return wake_at;
}

}  // namespace tandem::detail
