// cpu_tasks.cpp — the cpu tasks' bodies and their definitions.
#include "cpu_tasks.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <system_error>

namespace server {
namespace {

constexpr int worker_nice = 10;

int crash_now() {
  std::raise(SIGSEGV);  // a bug in native code: only this worker dies
  return 0;
}

int spin_forever() {
  // Every volatile write is a side effect, so the loop is not undefined
  // behaviour and the compiler keeps it; only the timeout ends it.
  volatile std::uint64_t spins = 0;
  for (;;) spins = spins + 1;
}

void lower_priority() {
  if (setpriority(PRIO_PROCESS, 0, worker_nice) != 0)
    throw std::system_error(errno, std::generic_category(), "setpriority");
}

}  // namespace

long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

std::uint64_t hash_generated(int mib) {
  constexpr std::uint64_t fnv_offset = 0xcbf29ce484222325, fnv_prime = 0x100000001b3;
  const std::uint32_t bytes = std::uint32_t(mib) << 20;
  std::uint64_t hash = fnv_offset;
  for (std::uint32_t i = 0; i < bytes; ++i) {
    hash ^= (i * 0x9e3779b1u) >> 24;
    hash *= fnv_prime;
  }
  return hash;
}

const tandem::task_ref<long(int)> fib_task =
    tandem::define_task<long(int)>("server.fib", tandem::cpu, fib);
const tandem::task_ref<std::uint64_t(int)> hash_task =
    tandem::define_task<std::uint64_t(int)>("server.hash", tandem::cpu, hash_generated);
const tandem::task_ref<int()> crash_task =
    tandem::define_task<int()>("server.crash", tandem::cpu, crash_now);
const tandem::task_ref<int()> hang_task =
    tandem::define_task<int()>("server.hang", tandem::cpu, spin_forever);
const tandem::task_ref<void()> lower_priority_task =
    tandem::define_task<void()>("server.lower_priority", tandem::cpu, lower_priority);

}  // namespace server
