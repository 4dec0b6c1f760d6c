#include "runtime/task_registry.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/worker_protocol.hpp"

namespace tandem::detail {

namespace {

struct registry {
  std::mutex mutex;
  std::vector<std::unique_ptr<task_entry>> tasks;
  unsigned live_runtimes = 0;
};

// Never destroyed: tasks are defined during static initialization and a
// runtime may outlive other statics at exit.
registry& the_registry() {
  static registry* const instance = new registry;
  return *instance;
}

}  // namespace

void register_task(std::unique_ptr<task_entry> entry) {
  auto& r = the_registry();
  std::lock_guard lock(r.mutex);
  if (r.live_runtimes != 0)
    throw error("tandem::define_task(\"" + entry->name() +
                "\") called while a tandem::runtime exists: its worker processes could never "
                "know the task; define every task before creating a runtime (at namespace scope)");
  for (const auto& known : r.tasks)
    if (known->name() == entry->name())
      throw error("tandem::define_task(\"" + entry->name() +
                  "\"): a task of that name is already defined; task names must be unique");
  // A task number leaves the top bit of its frame's task field free.
  if (r.tasks.size() >= each_task_bit)
    throw error("tandem::define_task(\"" + entry->name() + "\"): too many tasks defined");
  entry->set_index(static_cast<std::uint32_t>(r.tasks.size()));
  r.tasks.push_back(std::move(entry));
}

const task_entry* find_task_entry(std::string_view name) noexcept {
  auto& r = the_registry();
  std::lock_guard lock(r.mutex);
  for (const auto& known : r.tasks)
    if (known->name() == name) return known.get();
  return nullptr;
}

const task_entry* task_at(std::uint32_t index) noexcept {
  // No lock: while a runtime (and so a worker) exists, the list is frozen.
  auto& r = the_registry();
  return index < r.tasks.size() ? r.tasks[index].get() : nullptr;
}

std::size_t task_count() noexcept {
  auto& r = the_registry();
  std::lock_guard lock(r.mutex);
  return r.tasks.size();
}

runtime_hold::runtime_hold() {
  auto& r = the_registry();
  std::lock_guard lock(r.mutex);
  ++r.live_runtimes;
}

runtime_hold::~runtime_hold() {
  auto& r = the_registry();
  std::lock_guard lock(r.mutex);
  --r.live_runtimes;
}

}  // namespace tandem::detail
