// runtime.hpp — tandem::runtime, the one object a program creates.
//
//   tandem::runtime rt;                                 // defaults from the core count
//   auto f = rt.submit(tandem::io, [](int x) { return x * 2; }, 21);
//   auto g = rt.submit(tandem::io_blocking, [] { std::this_thread::sleep_for(1s); });
//   f.get();                                            // 42
//
// Defined tasks (task.hpp) go to the lane they declare; tandem::cpu tasks
// run in pre-forked worker processes (see "The cpu lane" below):
//
//   const auto fib = tandem::define_task<long(int)>("fib", tandem::cpu, slow_fib);
//   tandem::future<long> a = rt.submit(fib, 32);
//   auto c = rt.submit(tandem::submit_options{.timeout = 200ms}, fib, 60);
//
// The io lane is a work-stealing pool of `io_threads` workers: a task
// submitted from outside goes through a global injection queue, a task
// submitted from inside a worker onto that worker's own deque, and idle
// workers steal. Idle workers sleep (no CPU is used at idle). Work that
// blocks is marked with tandem::io_blocking and runs on extra threads, up to
// max_blocking_threads, so it never holds up the workers. The runtime also
// owns a boost::asio::io_context whose completions run on the io lane (see
// io_executor.hpp); an idle io worker waits in its reactor (epoll), so there
// is no reactor thread and an event is handled by the thread that saw it.
//
// The cpu lane is `cpu_workers` worker processes, forked (from a zygote
// that the constructor forks before it starts any thread, so making a
// runtime in a program that already has threads is fine) and fed through
// shared-memory rings. A worker runs one task at a time; a queued task goes
// to the first idle worker, and when every worker is busy up to 256 more
// wait in each worker's ring, so a worker goes from task to task without a
// round trip through the runtime (a worker that falls idle takes over the
// waiting tasks of a busy one). Arguments and results are serialized
// (serialize.hpp); an exception in a task arrives as remote_error. Failure
// is per task: a worker that crashes, exits, or is killed fails only the
// task it was running (worker_crashed) and is replaced — at once, by a
// spare process kept ready (cpu_spare_workers); a task past its timeout
// gets task_timeout and its worker is killed and replaced. Workers
// die with the program; create the runtime on a thread that outlives it
// (PR_SET_PDEATHSIG follows the creating thread). A worker starts with the
// signal state of a fresh process, not the host's: default dispositions,
// nothing blocked, but SIGINT, SIGQUIT, SIGHUP and SIGTERM caught and
// dropped (what a terminal sends its process group, or a service manager
// every process of a service, is the host's to handle: it may let its
// workers finish the tasks in flight; they die with it). A program a task
// starts gets them at their defaults. Stop a worker with SIGKILL.
//
// Thread-safety: every member may be called from any thread, including
// from tasks running on the runtime (except shutdown() and the destructor,
// which must not be called from the runtime's own threads).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <ranges>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <sys/types.h>

#include <vector>

#include "tandem/affinity.hpp"
#include "tandem/detail/cpu_job.hpp"
#include "tandem/detail/describe.hpp"
#include "tandem/detail/lane_hooks.hpp"
#include "tandem/detail/map_state.hpp"
#include "tandem/detail/shared_object.hpp"
#include "tandem/future.hpp"
#include "tandem/metrics.hpp"
#include "tandem/process.hpp"
#include "tandem/serialize.hpp"
#include "tandem/task.hpp"

namespace boost::asio {
class io_context;
}

namespace tandem {

class io_executor;

namespace detail {
class pipeline_engine;
}

// runtime_options configures a runtime; every field has a sensible default.
struct runtime_options {
  // io_threads is the io lane's worker count; 0 means one per core.
  unsigned io_threads = 0;
  // max_blocking_threads bounds the threads running tandem::io_blocking
  // tasks at once (at least 1); further blocking tasks wait in a queue. A
  // blocking task that waits for another blocking task holds its thread
  // meanwhile (blocking threads run nothing else while they wait): with all
  // of them waiting so, the queued ones never start, as in Python's
  // ThreadPoolExecutor. Wait on the io lane (or co_await) instead.
  unsigned max_blocking_threads = 512;
  // blocking_idle_timeout is how long an idle blocking thread is kept.
  std::chrono::milliseconds blocking_idle_timeout{10'000};

  // cpu_workers is the cpu lane's worker process count; 0 means one per core.
  unsigned cpu_workers = 0;
  // cpu_spare_workers are processes forked and made ready beside the
  // workers but given no task: when a worker crashes, is killed, times out
  // or retires, a spare takes its place at once (no fork on the tasks'
  // path) and a new spare is forked in the background. They are not in
  // cpu_worker_pids(). 0: a replacement is forked when one is needed.
  unsigned cpu_spare_workers = 1;
  // max_tasks_per_worker: a worker that has served this many tasks is
  // replaced between tasks; 0 means never.
  std::uint64_t max_tasks_per_worker = 0;
  // max_worker_rss: a worker whose private resident memory grew past this
  // many bytes is replaced between tasks; 0 means no limit.
  std::size_t max_worker_rss = 0;
  // worker_init is a defined task run once in each new worker before it
  // takes tasks (open files, warm caches). If it throws, the cpu lane stops
  // taking tasks: every cpu future holds worker_crashed naming the error.
  task_ref<void()> worker_init{};
  // default_timeout limits how long a cpu task may run when its submission
  // names no timeout; zero means no limit.
  std::chrono::nanoseconds default_timeout{0};
  // cpu_payload_bytes sizes the shared heaps that carry arguments and
  // results too large for a ring frame (16 KiB): one for the arguments of
  // all workers and one per worker for results. A larger payload fails with
  // payload_too_large. Pages are only used as payloads touch them.
  std::size_t cpu_payload_bytes = std::size_t{128} << 20;
  // shared_memory_bytes sizes the space where the runtime's cross-process
  // objects live (shared<T>, channel<T>, process_mutex and the other
  // primitives of shared.hpp, channel.hpp, sync.hpp). Pages are only used
  // as objects touch them.
  std::size_t shared_memory_bytes = std::size_t{64} << 20;
  // metrics: count and time tasks for metrics() (metrics.hpp). Cheap
  // enough to leave on; off, the io lane and the blocking pool report only
  // submissions (the cpu lane counts anyway: see metrics.hpp).
  bool metrics = true;
  // thread_slice is the scheduling slice the runtime's own threads (io
  // workers, blocking threads, the cpu lane's dispatcher) ask the kernel for: shorter than the
  // default slice that worker processes keep (about 1.4 ms on 2 cores), so an io thread that wakes
  // preempts a busy worker at once instead of waiting for its slice to end (measured: io p99 about
  // 15% lower while the cpu lane is saturated). Linux 6.12 and later honour it (EEVDF custom
  // slices); earlier kernels ignore it. 0.1 to 100 ms, or zero to leave the kernel's default; a
  // thread whose policy is not SCHED_OTHER (inherited from the thread that made the runtime) keeps
  // its own.
  std::chrono::microseconds thread_slice{100};
  // realtime_priority, 1 to 99, runs the io workers and the cpu lane's
  // dispatcher under SCHED_RR at that priority, so they take a core from
  // the worker processes (and every other ordinary process) the moment they
  // have work; thread_slice then does not apply to them. A slice alone
  // cannot do that: the kernel owes time to a worker that waited and makes
  // an io thread that just served a burst wait for it, up to a scheduler
  // tick (measured on 2 vCPUs with the cpu lane saturated: the server
  // example's io p99 grew 1.5x under load in a full bench run, 1.6-3.3x in
  // shorter ones, with realtime_priority 1; 10-15x without). Costs: a
  // real-time thread's yield leaves its core to real-time threads only, so
  // an idle io worker's search for work (up to 50 us) and its short waits
  // spin against the ordinary processes on that core; and an io task that
  // computes for long holds its core from them, up to the kernel's
  // real-time throttling (sched_rt_runtime_us). Blocking threads stay
  // ordinary (their tasks may compute), and what these threads start gets
  // SCHED_OTHER at nice 0 (the kernel's reset on fork), even in a process
  // run at a higher nice. Needs CAP_SYS_NICE or an RLIMIT_RTPRIO at least
  // this high, and real-time time in the process's cgroup: else the
  // constructor throws tandem::error (a thread refused only later, should
  // the limits drop meanwhile, keeps ordinary scheduling). Zero, the
  // default: ordinary scheduling.
  int realtime_priority = 0;
};

// submit_options are per-submission settings of a defined task.
struct submit_options {
  // timeout limits how long the task may run in a cpu worker (from the
  // moment a worker takes it): past it the worker is killed and replaced,
  // and the future holds task_timeout. Zero: runtime_options'
  // default_timeout. A task with a timeout always runs on the cpu lane,
  // where it can be stopped; a tandem::io task cannot take one.
  std::chrono::nanoseconds timeout{0};
};

// map_options are the settings of one runtime::map().
struct map_options {
  // chunk is how many elements travel together: one job, one frame each way,
  // run one after another by one worker. Zero: the element count over 4 x
  // cpu_workers, rounded up (as Python's Pool.map), at most 4096; or 256
  // for a range of unknown size.
  std::size_t chunk = 0;
  // timeout limits how long one chunk may run in a worker (see
  // submit_options::timeout). Zero: runtime_options' default_timeout,
  // which then too applies to a whole chunk, as max_tasks_per_worker
  // counts chunks.
  std::chrono::nanoseconds timeout{0};
};

// shutdown_mode says what happens to queued work at shutdown.
enum class shutdown_mode {
  drain,   // run everything queued (and what it spawns), then stop
  cancel,  // queued tasks never run; their futures hold task_cancelled
};
inline constexpr shutdown_mode drain = shutdown_mode::drain;
inline constexpr shutdown_mode cancel = shutdown_mode::cancel;

namespace detail {

// as_remote calls a defined task that tandem::any sent to the io lane: an
// exception it throws becomes the remote_error a worker would have sent.
template <class Signature>
class as_remote;
template <class R, class... A>
class as_remote<R(A...)> {
 public:
  explicit as_remote(const task_ref<R(A...)>& task) noexcept : task_(task) {}

  template <class... U>
  requires std::invocable < const task_ref<R(A...)>
  &, U... > R operator()(U&&... args) const {
    try {
      return task_(std::forward<U>(args)...);
    } catch (...) {
      rethrow_as_remote(task_.name());
    }
  }
  const std::string& name() const noexcept { return task_.name(); }

 private:
  task_ref<R(A...)> task_;
};

// bound_task is a submitted callable with its arguments, fused with the
// state of its future: one allocation per submission. The lane holds one
// reference and the future the other.
template <class R, class Fn, class Args>
class bound_task final : public state<R>, public task_node {
 public:
  template <class F, class... A>
  bound_task(std::uint32_t runtime_id, F&& fn, A&&... args)
      : state<R>(runtime_id, 2), fn_(std::forward<F>(fn)), args_(std::forward<A>(args)...) {}

  task_outcome run() noexcept override {
    auto outcome = task_outcome::cancelled;
    if (this->try_claim())
      outcome = fulfil<R>(*this,
                          [this]() -> decltype(auto) { return std::apply(fn_, std::move(args_)); });
    this->release();
    return outcome;
  }
  const char* trace_name() const noexcept override {
    if constexpr (is_task_ref<Fn>::value || is_instance_v<Fn, as_remote>)
      return fn_.name().c_str();
    else
      return "io task";
  }
  void abandon(std::exception_ptr reason) noexcept override {
    this->try_fail(std::move(reason));
    this->release();
  }

 private:
  Fn fn_;
  Args args_;
};

// apply_item() calls fn with the arguments one element of a submit_many()
// range holds: the element itself for a task of one parameter, else the
// members of a tuple-like element (std::tuple, std::pair, std::array).
template <class... A, class Fn, class Item>
void apply_item(Fn&& fn, Item&& item) {
  if constexpr (sizeof...(A) == 1 && std::is_constructible_v<std::decay_t<A>..., Item&&>)
    fn(std::forward<Item>(item));
  else
    std::apply(std::forward<Fn>(fn), std::forward<Item>(item));
}

}  // namespace detail

class runtime {
 public:
  // runtime() starts the io lane (io_threads workers, which also drive the
  // Asio reactor). Options that mean nothing, or threads, processes or
  // memory the system will not give, throw tandem::error naming them.
  runtime();
  explicit runtime(const runtime_options& options);
  // ~runtime() is shutdown(tandem::drain).
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  // submit() runs fn(args...) on the io lane and returns the future of its
  // result (a returned future is unwrapped). Arguments are decay-copied, as
  // by std::thread. After shutdown began the future holds runtime_stopped.
  template <class F, class... Args>
  requires std::invocable < std::decay_t<F>
  &, std::decay_t<Args>... > auto submit(io_t, F&& fn, Args&&... args) {
    return submit_to(detail::lane_kind::io, std::forward<F>(fn), std::forward<Args>(args)...);
  }
  // submit(tandem::io_blocking, ...) is submit() for work that blocks its
  // thread; it runs on a blocking thread, never on an io-lane worker.
  template <class F, class... Args>
  requires std::invocable < std::decay_t<F>
  &, std::decay_t<Args>... > auto submit(io_blocking_t, F&& fn, Args&&... args) {
    return submit_to(detail::lane_kind::io_blocking, std::forward<F>(fn),
                     std::forward<Args>(args)...);
  }

  // submit(task, args...) runs a defined task on the lane it declares: a
  // cpu worker (tandem::cpu), the io lane (tandem::io), or whichever starts
  // it soonest (tandem::any: an idle cpu worker, else an idle io worker,
  // else the cpu lane's queue). An exception that a tandem::any task throws
  // reaches the future as remote_error (type name and what()) on either
  // lane, so catching it does not depend on the lane picked; a tandem::io
  // task's exception, or any task's under submit(tandem::io, ...), arrives
  // as itself. Arguments convert implicitly to the task's parameter types.
  // Never throws: every error lands in the future.
  // Backpressure: cpu arguments over 16 KiB (encoded) go through the shared
  // argument heap (runtime_options::cpu_payload_bytes); while it is full,
  // submit() waits for running tasks to free room, as a bounded queue's
  // producer does. So do not submit such a task from a task that the
  // running ones wait for, and on the io lane prefer io_blocking for it.
  template <class R, class... A, class... U>
  requires(sizeof...(U) == sizeof...(A)) &&
      (std::convertible_to<U&&, std::decay_t<A>> &&
       ...) future<R> submit(const task_ref<R(A...)>& task, U&&... args) {
    return submit(submit_options{}, task, std::forward<U>(args)...);
  }
  template <class R, class... A, class... U>
  requires(sizeof...(U) == sizeof...(A)) &&
      (std::convertible_to<U&&, std::decay_t<A>> &&
       ...) future<R> submit(const submit_options& options, const task_ref<R(A...)>& task,
                             U&&... args) {
    const bool timed = options.timeout > std::chrono::nanoseconds::zero();
    switch (task.default_affinity()) {
      case affinity::io:
        if (timed)
          return make_exceptional_future<R>(std::make_exception_ptr(
              error("task '" + task.name() +
                    "' runs on the io lane, where a timeout cannot stop it; define it with "
                    "tandem::cpu or tandem::any to give it a timeout")));
        return submit(tandem::io, task, std::forward<U>(args)...);
      case affinity::any:
        if (!timed && !detail::prefers_cpu_lane(*scheduler_))
          return submit(tandem::io, detail::as_remote<R(A...)>(task), std::forward<U>(args)...);
        [[fallthrough]];
      case affinity::cpu:
        break;
    }
    return submit_cpu(options.timeout, task, std::forward<U>(args)...);
  }
  // submit(tandem::cpu, task, args...) runs a defined task in a worker
  // process whatever it declares; submit(tandem::io, task, args...) (the
  // overload above for any callable) runs it on the io lane.
  template <class R, class... A, class... U>
  requires(sizeof...(U) == sizeof...(A)) &&
      (std::convertible_to<U&&, std::decay_t<A>> &&
       ...) future<R> submit(cpu_t, const task_ref<R(A...)>& task, U&&... args) {
    return submit_cpu(std::chrono::nanoseconds::zero(), task, std::forward<U>(args)...);
  }
  // submit_many() submits `task` once per element of `items` and returns
  // the futures in the same order. An element is the task's argument (for
  // a task of one parameter) or a tuple-like of its arguments:
  //
  //   std::vector<int> ns(10'000);  std::iota(ns.begin(), ns.end(), 0);
  //   auto futures = rt.submit_many(fib, ns);
  //   auto sums = rt.submit_many(add, std::vector<std::pair<int, int>>{{1, 2}, {3, 4}});
  //
  // Routing and options are submit()'s. A batch bound for the cpu lane is
  // queued at once and wakes the lane once, then spreads over the workers
  // like single submissions (one future per task: a task fails alone).
  // For many small tasks it is the fast way in. Never throws for a task's
  // sake: each error lands in its own future.
  template <class R, class... A, std::ranges::input_range Items>
  std::vector<future<R>> submit_many(const task_ref<R(A...)>& task, Items&& items) {
    return submit_many(submit_options{}, task, std::forward<Items>(items));
  }
  template <class R, class... A, std::ranges::input_range Items>
  std::vector<future<R>> submit_many(const submit_options& options, const task_ref<R(A...)>& task,
                                     Items&& items) {
    const bool timed = options.timeout > std::chrono::nanoseconds::zero();
    if (task.default_affinity() == affinity::cpu ||
        (task.default_affinity() == affinity::any && timed))
      return submit_cpu_many(options.timeout, task, std::forward<Items>(items));
    std::vector<future<R>> futures;
    for (auto&& item : items)
      detail::apply_item<A...>(
          [&](auto&&... args) {
            futures.push_back(submit(options, task, std::forward<decltype(args)>(args)...));
          },
          std::forward<decltype(item)>(item));
    return futures;
  }
  // submit_many(tandem::cpu, task, items) is submit_many() in worker
  // processes whatever the task declares.
  template <class R, class... A, std::ranges::input_range Items>
  std::vector<future<R>> submit_many(cpu_t, const task_ref<R(A...)>& task, Items&& items) {
    return submit_cpu_many(std::chrono::nanoseconds::zero(), task, std::forward<Items>(items));
  }

  // map() runs `task` on every element of `items` in worker processes,
  // whatever the task declares, and resolves to the results in input order
  // (concurrent.futures' Executor.map with a chunksize):
  //
  //   std::vector<int> ns(200'000);  std::iota(ns.begin(), ns.end(), 0);
  //   std::vector<long> fibs = rt.map(fib, ns).get();
  //
  // Elements are as for submit_many(). They travel in chunks (see
  // map_options): a chunk is one cpu job, so the per-task costs of the lane
  // (a frame each way, a wake-up, a future) are paid per chunk, and
  // runtime::metrics() counts chunks. A call that throws fails alone, but
  // the future then holds the error of the first failed element in input
  // order (as remote_error); a chunk that cannot finish (its worker crashed
  // or was killed, its timeout passed, shutdown) fails its elements with
  // that error. The future resolves once every chunk has ended, whatever
  // failed; cancel() withdraws the chunks not yet started and returns true
  // if there were any (the future then resolves once the running ones end,
  // holding task_cancelled unless an earlier element failed);
  // cancel(kill_running) also stops the running ones. Never throws for a
  // chunk's sake (an argument that cannot be encoded, a chunk too large for
  // the shared heap: the future holds it); memory runs out only as for any
  // container.
  template <class R, class... A, std::ranges::input_range Items>
  future<std::vector<R>> map(const task_ref<R(A...)>& task, Items&& items,
                             const map_options& options = {}) {
    static_assert(!std::is_void_v<R>,
                  "tandem::runtime::map() gathers results, and a void task returns none: "
                  "submit_many() runs it once per element");
    if (!task) return empty_task_future<std::vector<R>>();
    const std::size_t chunk = map_chunk(options.chunk, items);
    auto* gather = new detail::map_state<R>(id_, task.name());
    auto result = detail::access::adopt<std::vector<R>>(gather);
    std::vector<std::tuple<std::decay_t<A>...>> calls;
    auto send = [&] {
      future<detail::each_outcomes<R>> part;
      if (detail::cpu_job* job = new_encoded_job(
              options.timeout, task.entry(), part, [] {}, [&](writer& out) { out.write(calls); })) {
        job->runs_each = true;
        detail::submit_cpu(*scheduler_, *job);
      }
      gather->add(std::move(part), calls.size());
      calls.clear();
    };
    try {
      for (auto&& item : items) {
        detail::apply_item<A...>(
            [&](auto&&... args) { calls.emplace_back(std::forward<decltype(args)>(args)...); },
            std::forward<decltype(item)>(item));
        if (calls.size() == chunk) send();
      }
      if (!calls.empty()) send();
    } catch (...) {
      // Nobody will see the state: the chunks sent need not run.
      gather->withdraw();
      gather->seal();
      throw;
    }
    gather->seal();
    return result;
  }

  // A closure cannot travel to a worker process: tandem::cpu takes only
  // tasks made by tandem::define_task (task.hpp).
  template <class F, class... Args>
  requires(!detail::is_task_ref<std::remove_cvref_t<F>>::value) void submit(
      cpu_t, F&& closure_not_a_defined_task, Args&&... args) = delete;

  // run_process() starts the program args[0] (looked up in PATH when it
  // has no '/') with the arguments args[1...] and returns the future of
  // how it ended: exit code or signal, and its stdout and stderr (see
  // process.hpp for the options and what the child inherits). Its pipes
  // and its exit are watched on the io lane, so a running process holds no
  // thread. Never throws: an empty argument list, a NUL byte in an
  // argument, a missing program or cwd is a tandem::error in the future;
  // past options.timeout it holds task_timeout; after shutdown began (from
  // outside the runtime) runtime_stopped.
  //
  // The process is running once run_process() returns, so future::cancel()
  // returns false; cancel(tandem::kill_running) kills it (SIGKILL to its
  // process group) and the future holds task_cancelled (or the result, if
  // it ended first). shutdown(tandem::drain) waits for running processes,
  // shutdown(tandem::cancel) kills them (task_cancelled); either way every
  // child is reaped and its pipes closed when shutdown() returns.
  future<process_result> run_process(std::vector<std::string> args, process_options options = {});

  // cpu_worker_pids() are the process ids of the cpu lane's workers now
  // (a replaced worker's pid changes). The constructor does not wait for
  // the zygote to fork the workers: a call waits (about a millisecond) for
  // the pids of workers being forked.
  std::vector<pid_t> cpu_worker_pids() const;

  // shutdown() stops accepting submissions from outside the runtime, then
  // drains or cancels what is queued (see shutdown_mode), waits for running
  // tasks, stops every thread and abandons outstanding Asio operations.
  // When it returns every future the runtime produced is resolved. A later
  // call does nothing but wait until the first has finished (from another
  // thread, or the destructor): so a thread that a draining task waits for
  // must not call it. Must not be called from the runtime's own threads.
  void shutdown(shutdown_mode mode = drain);

  // io_executor() is an Asio executor: Asio I/O objects and co_spawn'ed
  // coroutines made with it run their completions on the io lane.
  tandem::io_executor io_executor() const;
  // io_context() is the Asio context behind io_executor().
  boost::asio::io_context& io_context() const;

  // metrics() is a snapshot of what each lane has done and is doing (see
  // metrics.hpp); to_prometheus(rt.metrics()) serves it to Prometheus.
  metrics_snapshot metrics() const;

  // start_trace() begins recording one slice per task (name, lane, outcome,
  // start and duration) on one row per io thread, blocking thread and cpu
  // worker process; stop_trace() ends it and writes Chrome trace-event JSON
  // to `path` (open it in Perfetto or chrome://tracing). Tasks queued
  // before start_trace() are not recorded. start_trace() throws
  // tandem::error if a trace is running; stop_trace() if none is, or if
  // `path` cannot be written (the trace then goes on, for another call).
  void start_trace();
  void stop_trace(const std::string& path);

  // options() are the options in force (defaults filled in).
  const runtime_options& options() const noexcept;

 private:
  friend class detail::object_handle;  // places objects in the runtime's space
  // The pipeline engine makes run()'s future one of this runtime's (id_),
  // so that its continuations run on this runtime's io lane.
  friend class detail::pipeline_engine;

  template <class R, class... A, class... U>
  future<R> submit_cpu(std::chrono::nanoseconds timeout, const task_ref<R(A...)>& task,
                       U&&... args) {
    future<R> result;
    if (detail::cpu_job* job = new_cpu_job(
            timeout, task, result, [] {}, std::forward<U>(args)...))
      detail::submit_cpu(*scheduler_, *job);
    return result;
  }

  // new_cpu_job() makes the cpu job of task(args...), its arguments encoded,
  // and sets `result` to its future; nullptr when encoding failed (the
  // future holds why). before_heap() runs first when the arguments are too
  // large to travel inline: reserving room in the shared heap may wait for
  // queued jobs to finish.
  template <class R, class... A, class BeforeHeap, class... U>
  detail::cpu_job* new_cpu_job(std::chrono::nanoseconds timeout, const task_ref<R(A...)>& task,
                               future<R>& result, BeforeHeap&& before_heap, U&&... args) {
    if (!task) {
      result = empty_task_future<R>();
      return nullptr;
    }
    return new_encoded_job(timeout, task.entry(), result, before_heap,
                           [&](writer& out) { out.write<std::decay_t<A>...>(args...); });
  }

  // new_encoded_job() is new_cpu_job() for arguments that encode(out)
  // writes (called twice: to count the bytes, then to write them).
  template <class R, class BeforeHeap, class Encode>
  detail::cpu_job* new_encoded_job(std::chrono::nanoseconds timeout,
                                   const detail::task_entry& entry, future<R>& result,
                                   BeforeHeap&& before_heap, Encode&& encode) {
    auto* job = new detail::cpu_call<R>(id_, entry, timeout);
    result = detail::access::adopt<R>(static_cast<detail::state<R>*>(job));
    try {
      writer counter;
      encode(counter);
      if (counter.size() > detail::cpu_inline_argument_bytes) before_heap();
      writer out(detail::reserve_arguments(*scheduler_, *job, counter.size()));
      encode(out);
      return job;
    } catch (...) {
      detail::refuse_cpu_job(*scheduler_, *job);
      job->try_fail(std::current_exception());
      job->drop();
      return nullptr;
    }
  }

  // submit_cpu_many() is submit_many() on the cpu lane: the jobs are queued
  // in groups of up to 256, one wake-up of its dispatcher per group.
  template <class R, class... A, class Items>
  std::vector<future<R>> submit_cpu_many(std::chrono::nanoseconds timeout,
                                         const task_ref<R(A...)>& task, Items&& items) {
    constexpr std::size_t group = 256;
    std::vector<future<R>> futures;
    if constexpr (std::ranges::sized_range<Items>) futures.reserve(std::ranges::size(items));
    std::vector<detail::cpu_job*> pending;
    pending.reserve(group);  // so adding a made job never throws
    // Queue what is pending before a job waits for heap room: the pending
    // jobs may hold the very room it waits for.
    auto flush = [&] {
      detail::submit_cpu_batch(*scheduler_, pending);
      pending.clear();
    };
    try {
      for (auto&& item : items) {
        future<R>& result = futures.emplace_back();
        detail::apply_item<A...>(
            [&](auto&&... args) {
              if (detail::cpu_job* job = new_cpu_job(timeout, task, result, flush,
                                                     std::forward<decltype(args)>(args)...))
                pending.push_back(job);
              if (pending.size() == group) flush();
            },
            std::forward<decltype(item)>(item));
      }
    } catch (...) {
      flush();  // out of memory: what was made still runs and resolves
      throw;
    }
    flush();
    return futures;
  }

  // empty_task_future() is the future of a submission of an empty task_ref.
  template <class T>
  static future<T> empty_task_future() {
    return make_exceptional_future<T>(std::make_exception_ptr(error(detail::empty_task_ref)));
  }

  // map_chunk() is map()'s chunk size (see map_options::chunk). The cap
  // keeps a default chunk of small elements well within the shared heaps.
  template <class Items>
  std::size_t map_chunk(std::size_t asked, Items& items) const {
    if (asked != 0) return asked;
    if constexpr (std::ranges::sized_range<Items>) {
      const auto count = static_cast<std::size_t>(std::ranges::size(items));
      const std::size_t parts = 4 * std::max(1u, options().cpu_workers);
      return std::clamp<std::size_t>((count + parts - 1) / parts, 1, 4096);
    }
    return 256;
  }

  template <class F, class... Args>
  auto submit_to(detail::lane_kind lane, F&& fn, Args&&... args) {
    using Fn = std::decay_t<F>;
    using Tuple = std::tuple<std::decay_t<Args>...>;
    using R = detail::unwrapped_t<std::invoke_result_t<Fn&, std::decay_t<Args>...>>;
    auto* task =
        new detail::bound_task<R, Fn, Tuple>(id_, std::forward<F>(fn), std::forward<Args>(args)...);
    auto result = detail::access::adopt<R>(task);
    detail::submit_task(*scheduler_, lane, task);
    return result;
  }

  std::unique_ptr<detail::scheduler> scheduler_;
  std::uint32_t id_;
};

}  // namespace tandem
