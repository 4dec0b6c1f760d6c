#include "runtime/cpu_worker.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "ipc/error.hpp"
#include "runtime/lane_tally.hpp"
#include "runtime/task_registry.hpp"
#include "runtime/worker_protocol.hpp"
#include "tandem/detail/describe.hpp"

namespace tandem::detail {

namespace {

ipc::channel* current_completions = nullptr;

// How long an idle worker spins before it parks (some 10-25 microseconds,
// by the CPU's pause): a parent that submits again within this window
// reaches a worker that is still awake; longer would hold a core that
// others need on a small machine.
constexpr std::uint32_t idle_spins = 600;
constexpr auto liveness_check = std::chrono::milliseconds(250);
// rss_probe reads this process's private resident memory (/proc/self/statm).
class rss_probe {
 public:
  rss_probe() : fd_(open("/proc/self/statm", O_RDONLY | O_CLOEXEC)) {}
  ~rss_probe() {
    if (fd_ >= 0) close(fd_);
  }
  std::size_t resident_bytes() const {
    char text[128] = {};
    if (fd_ < 0 || pread(fd_, text, sizeof text - 1, 0) <= 0) return 0;
    unsigned long total = 0, resident = 0, shared = 0;
    if (std::sscanf(text, "%lu %lu %lu", &total, &resident, &shared) != 3) return 0;
    // Shared pages (the segment, the program's own code) are not the
    // worker's growth: count what is private to it.
    return (resident - std::min(resident, shared)) *
           static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  }

 private:
  int fd_;
};

class worker {
 public:
  explicit worker(const worker_setup& setup)
      : setup_(setup), in_(setup.submissions, setup.argument_heap), out_(setup.completions) {}

  [[noreturn]] void serve() {
    current_completions = &setup_.completions;
    setup_.completions.heap().format();  // ours from now on
    if (!run_init()) _exit(0);
    post(to_parent::ready, 0, {});
    publish();
    for (;;) {
      const ipc::decoded frame = in_.read({idle_spins, liveness_check});
      if (frame.error == ipc::frame_error::empty) {
        if (getppid() != setup_.zygote) _exit(0);
        continue;
      }
      // The parent wrote a frame we cannot read: nothing sane is left to do.
      if (frame.error != ipc::frame_error::none) _exit(71);
      const std::uint32_t number = frame_number(frame.id);
      const bool mine = setup_.gate.try_start(number, steady_now_ns());
      if (mine) {
        run(frame);
        setup_.gate.finish(number, steady_now_ns());
      }
      in_.consume(frame);
      if (!mine) continue;  // taken back by the parent: no reply
      ++served_;
      // A retiring worker says so in the same publish as its last reply, so
      // the parent never hands it another task.
      const std::string retiring = retirement_reason();
      if (!retiring.empty()) post_encoded(to_parent::retiring, 0, retiring);
      publish();
      if (!retiring.empty()) _exit(0);
    }
  }

 private:
  // result_refused is the sink's own payload_too_large: the result does not
  // fit the heap. A task may throw payload_too_large itself (from a nested
  // encoding, say): that one is the task's exception, like any other.
  class result_refused : public payload_too_large {
   public:
    using payload_too_large::payload_too_large;
  };

  // sink hands the task's encoded result room in the ring or the heap.
  class sink final : public result_sink {
   public:
    sink(ipc::channel_writer& out, std::size_t heap_bytes) : out_(out), heap_bytes_(heap_bytes) {}
    std::span<std::byte> reserve(std::size_t length) override {
      if (length <= out_.max_inline()) {
        small_.resize(length);
        return small_;
      }
      const std::size_t limit = largest_payload(heap_bytes_);
      if (length > limit) throw result_refused("", length, limit);
      if (!(block_ = out_.allocate(length, {0, std::chrono::seconds(10)})))
        throw error("the worker's result heap had no room for " + ipc::size_text(length) +
                    " for 10 s: the runtime is not taking this worker's results");
      return block_.bytes();
    }
    bool on_heap() const noexcept { return bool(block_); }
    ipc::shm_buffer& block() noexcept { return block_; }
    std::span<const std::byte> small() const noexcept { return small_; }

   private:
    ipc::channel_writer& out_;
    std::size_t heap_bytes_;
    std::vector<std::byte> small_;
    ipc::shm_buffer block_;
  };

  bool run_init() {
    if (!setup_.options.worker_init) return true;
    try {
      sink discard(out_, setup_.completions.heap().bytes().size());
      setup_.options.worker_init.entry().invoke({}, discard);
      return true;
    } catch (...) {
      const auto [type, message] = describe_current_exception();
      post_encoded(to_parent::init_failed, 0, type, message);
      publish();
      return false;
    }
  }

  void run(const ipc::decoded& frame) {
    const std::uint32_t wire = frame_task(frame.id);
    const task_entry* task = task_at(wire & ~each_task_bit);
    if (task == nullptr) return post(to_parent::unknown, frame.id, {});
    sink result(out_, setup_.completions.heap().bytes().size());
    try {
      if (wire & each_task_bit)
        task->invoke_each(frame.payload, result);
      else
        task->invoke(frame.payload, result);
    } catch (const result_refused& e) {
      return post_encoded(to_parent::too_large, frame.id, std::uint64_t{e.size()},
                          std::uint64_t{e.limit()});
    } catch (const arguments_unreadable& e) {
      return post_encoded(to_parent::unreadable, frame.id, std::string(e.what()));
    } catch (...) {
      const auto [type, message] = describe_current_exception();
      return post_encoded(to_parent::thrown, frame.id, type, message);
    }
    if (result.on_heap())
      out_.post(static_cast<std::uint16_t>(to_parent::value), frame.id, std::move(result.block()),
                forever);
    else
      post(to_parent::value, frame.id, result.small());
  }

  template <class... T>
  void post_encoded(to_parent kind, std::uint64_t id, const T&... values) {
    std::vector<std::byte> payload(encoded_size(values...));
    writer(payload).write(values...);
    post(kind, id, payload);
  }

  // post() queues a reply frame; publish() makes the queued ones visible
  // and wakes the parent's dispatcher.
  void post(to_parent kind, std::uint64_t id, std::span<const std::byte> payload) {
    out_.post(static_cast<std::uint16_t>(kind), id, payload, forever);
  }
  void publish() {
    out_.flush();
    // With no next task queued, give the core away once: the thread
    // waiting for this reply may share it (a parked worker is often woken
    // onto its submitter's core), and it takes the reply itself while it
    // waits (cpu_lane::help()). Then wake the dispatcher only for replies
    // nobody took.
    if (in_.try_read().error == ipc::frame_error::empty) sched_yield();
    if (!out_.consumed()) setup_.signal.notify_reply();
  }

  std::string retirement_reason() const {
    const auto& options = setup_.options;
    if (options.max_tasks_per_worker != 0 && served_ >= options.max_tasks_per_worker)
      return "served max_tasks_per_worker tasks";
    if (options.max_worker_rss != 0 && rss_.resident_bytes() > options.max_worker_rss)
      return "private resident memory above max_worker_rss";
    return {};
  }

  static constexpr ipc::wait_policy forever{idle_spins, std::chrono::nanoseconds(-1)};

  const worker_setup& setup_;
  ipc::ring_reader in_;
  ipc::channel_writer out_;
  std::uint64_t served_ = 0;
  rss_probe rss_;
};

}  // namespace

void serve_as_worker(const worker_setup& setup) { worker(setup).serve(); }

ipc::channel* this_worker_completions() noexcept { return current_completions; }

}  // namespace tandem::detail
