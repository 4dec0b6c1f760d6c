// lane_hooks.cpp — the entry points that header templates call into.
#include "tandem/detail/lane_hooks.hpp"

#include <cstdint>
#include <cstdio>
#include <exception>

#include "runtime/runtime_registry.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/thread_role.hpp"
#include "tandem/errors.hpp"
#include "tandem/io_executor.hpp"

namespace tandem::detail {

namespace {
// Initial-exec: every task reads the role, and the default model for a
// shared library would make each read a call to __tls_get_addr.
[[gnu::tls_model("initial-exec")]] constinit thread_local thread_role role{};
}  // namespace

thread_role& current_thread_role() noexcept { return role; }

std::uint32_t current_runtime_id() noexcept { return current_thread_role().runtime_id; }

bool post_to_current_worker(task_node* task) noexcept {
  io_worker* self = current_thread_role().worker;
  if (!self) return false;
  self->lane().push(task);
  return true;
}

void post_continuation(std::uint32_t runtime_id, task_node* task) noexcept {
  const thread_role& role = current_thread_role();
  if (role.worker && (runtime_id == 0 || role.runtime_id == runtime_id)) {
    role.worker->lane().push(task);
  } else if (runtime_id == 0) {
    task->run();
  } else if (role.owner && role.runtime_id == runtime_id) {
    role.owner->submit(lane_kind::io, task);  // our own thread: accepted while draining
  } else if (!submit_to_registered(runtime_id, task)) {
    task->abandon(std::make_exception_ptr(runtime_stopped()));
  }
}

bool runtime_accepts_continuations(std::uint32_t runtime_id) noexcept {
  return runtime_id != 0 && is_registered(runtime_id);
}

void submit_cpu(scheduler& sched, cpu_job& job) noexcept { sched.submit_cpu(job); }

void submit_cpu_batch(scheduler& sched, std::span<cpu_job* const> jobs) noexcept {
  sched.submit_cpu_batch(jobs);
}

std::span<std::byte> reserve_arguments(scheduler& sched, cpu_job& job, std::size_t length) {
  return sched.cpu().reserve_arguments(job, length);
}

void refuse_cpu_job(scheduler& sched, cpu_job& job) noexcept {
  sched.cpu().discard_arguments(job);
  sched.cpu().count_refused();
}

bool prefers_cpu_lane(scheduler& sched) noexcept {
  return sched.cpu().has_idle_worker() || !sched.io().has_idle_worker();
}

void wake_cpu_lane(std::uint32_t runtime_id) noexcept { wake_registered_cpu_lane(runtime_id); }

bool help_cpu_lane(std::uint32_t runtime_id, help_step step) noexcept {
  return help_registered_cpu_lane(runtime_id, step);
}

bool withdraw_cpu_job(std::uint32_t runtime_id, cpu_job& job) noexcept {
  return withdraw_registered_cpu_job(runtime_id, job);
}

void submit_task(scheduler& sched, lane_kind lane, task_node* task) noexcept {
  sched.submit(lane, task);
}

// How much of an io worker's stack (8 MiB by default) may be in use when a
// function runs inline: room for a hundred or more nested dispatches, far
// from the end of even a small stack.
constexpr std::uintptr_t inline_stack_budget = 256 * 1024;

bool may_run_inline(std::uint32_t runtime_id) noexcept {
  const thread_role& role = current_thread_role();
  // drive_reactor() clears runtime_id while the worker runs completions.
  // A worker of that runtime has set its owner by then: it runs tasks.
  if (!role.worker || role.runtime_id != runtime_id || !role.owner || role.owner->cancelling())
    return false;
  // Stacks grow down; on another stack the difference is out of range.
  const auto here = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
  return here <= role.stack_top && role.stack_top - here < inline_stack_budget;
}

bool on_runtime_thread(std::uint32_t runtime_id) noexcept {
  const thread_role& role = current_thread_role();
  return role.runtime_id == runtime_id ||
         (role.worker && role.worker->lane().runtime_id() == runtime_id);
}

boost::asio::execution_context& executor_context(scheduler& sched) noexcept {
  return sched.io_context();
}

void report_escaped_exception(std::exception_ptr escaped) noexcept {
  try {
    std::rethrow_exception(escaped);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tandem: an exception escaped a handler on the io executor: %s\n",
                 e.what());
  } catch (...) {
    std::fprintf(stderr,
                 "tandem: an exception of unknown type escaped a handler on the io executor\n");
  }
}

}  // namespace tandem::detail
