// cpu_job.hpp — one submission to the cpu lane, as the lane sees it. Not
// part of the public API.
//
// The job is fused with the state of its future (one allocation): the lane
// holds one reference, the future the other. The submitting thread encodes
// the arguments straight into the job (small) or into the lane's shared
// argument heap (large, no further copy); the lane's dispatcher claims the
// state when it queues the job in a worker's window, and resolves it from
// the worker's reply, or with the error that ended it. Until the worker
// starts it, cancel() can still withdraw it there (run_gate.hpp): the
// canceller then resolves it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>

#include "tandem/detail/lane_hooks.hpp"
#include "tandem/detail/state.hpp"
#include "tandem/serialize.hpp"
#include "tandem/task.hpp"

namespace tandem::detail {

// Encoded arguments up to this size travel inside the job and the worker's
// ring; larger ones in the lane's shared argument heap.
inline constexpr std::size_t cpu_inline_argument_bytes = std::size_t{16} << 10;

// argument_bytes holds encoded arguments that travel inline: up to 40
// bytes inside the job itself (most tasks take a few numbers: no
// allocation), more on the free store.
class argument_bytes {
 public:
  std::span<std::byte> resize(std::size_t length) {
    if (length > local_.size()) large_ = std::make_unique<std::byte[]>(length);
    length_ = length;
    return {data(), length};
  }
  std::span<const std::byte> bytes() const noexcept {
    return {length_ > local_.size() ? large_.get() : local_.data(), length_};
  }

 private:
  std::byte* data() noexcept { return length_ > local_.size() ? large_.get() : local_.data(); }

  std::array<std::byte, 40> local_;
  std::size_t length_ = 0;
  std::unique_ptr<std::byte[]> large_;
};

// shared_block names a block of the lane's shared argument heap.
struct shared_block {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

class cpu_job {
 public:
  cpu_job(const task_entry& task, std::chrono::nanoseconds timeout) noexcept
      : task_(task), timeout_(timeout) {}
  cpu_job(const cpu_job&) = delete;
  cpu_job& operator=(const cpu_job&) = delete;

  virtual state_base& result_state() noexcept = 0;
  // deliver() decodes a worker's encoded result into the (claimed) state.
  virtual void deliver(std::span<const std::byte> payload) noexcept = 0;
  // drop() gives up the lane's reference.
  virtual void drop() noexcept = 0;

  const task_entry& task() const noexcept { return task_; }
  // timeout() is how long the task may run in a worker; zero: no limit.
  std::chrono::nanoseconds timeout() const noexcept { return timeout_; }

  // Encoded arguments: inline_arguments, or (on_heap) a shared block.
  argument_bytes inline_arguments;
  shared_block heap_arguments;
  bool on_heap = false;
  // runs_each: the arguments are a chunk of calls (runtime::map()), which
  // the worker runs with task_entry::invoke_each().
  bool runs_each = false;

  // kill_requested is set by future::cancel(tandem::kill_running).
  std::atomic<bool> kill_requested{false};
  // Where the job waits in a worker's window, if it does (set and cleared
  // by the lane; future::cancel() reads it to withdraw the job). in_transit:
  // the lane holds it, claimed, outside every window (about to offer it,
  // or taken back from one); withdrawn_in_transit: its owner cancelled it
  // there, and the lane only lets it go; claiming: the lane is claiming it
  // (in transit next, or 0 if its owner had cancelled it).
  static constexpr std::uint64_t in_transit = ~std::uint64_t{0};
  static constexpr std::uint64_t withdrawn_in_transit = in_transit - 1;
  static constexpr std::uint64_t claiming = in_transit - 2;
  std::atomic<std::uint64_t> window_ticket{0};

  // When the job was queued, and when a worker started and ended it
  // (steady clock, ns), for the runtime's metrics and traces; 0 until then
  // (the run times are known once the job left its worker's window).
  std::int64_t queued_ns = 0;
  std::int64_t started_ns = 0;
  std::int64_t ended_ns = 0;

 protected:
  ~cpu_job() = default;

 private:
  const task_entry& task_;
  std::chrono::nanoseconds timeout_;
};

template <class R>
class cpu_call final : public state<R>, public cpu_job {
 public:
  cpu_call(std::uint32_t runtime_id, const task_entry& task, std::chrono::nanoseconds timeout)
      : state<R>(runtime_id, 2), cpu_job(task, timeout) {}

  state_base& result_state() noexcept override { return *this; }
  void drop() noexcept override { this->release(); }

  void deliver(std::span<const std::byte> payload) noexcept override {
    std::exception_ptr error = exception_of([&] {
      reader in(payload);
      if constexpr (std::is_void_v<R>) {
        in.finish();
        this->emplace_claimed();
      } else {
        R value = in.read<R>();
        in.finish();
        this->emplace_claimed(std::move(value));
      }
    });
    if (error) this->fail_claimed(std::move(error));
  }

  bool withdraw() noexcept override { return withdraw_cpu_job(this->runtime_id(), *this); }
  bool help_lane(help_step step) noexcept override {
    return help_cpu_lane(this->runtime_id(), step);
  }

  bool stop_running() noexcept override {
    if (this->is_ready()) return false;
    kill_requested.store(true, std::memory_order_release);
    wake_cpu_lane(this->runtime_id());
    return true;
  }
};

}  // namespace tandem::detail
