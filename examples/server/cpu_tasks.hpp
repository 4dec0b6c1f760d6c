// cpu_tasks.hpp — the work the server sends to tandem's cpu lane, defined
// once by name before any runtime exists (a worker process cannot receive
// a closure).
#pragma once

#include <tandem/task.hpp>

#include <cstdint>

namespace server {

// fib() is the n-th Fibonacci number the doubly recursive way, on purpose:
// a known amount of pure cpu work (fib(20) is ~20,000 calls).
long fib(int n);

// hash_generated() is the 64-bit FNV-1a hash of `mib` MiB of generated
// bytes (byte i is the top 8 bits of the 32-bit product i * 0x9e3779b1),
// so a client can check the answer without sending the bytes.
std::uint64_t hash_generated(int mib);

// The defined tasks behind /cpu/fib, /cpu/hash, /cpu/crash and /cpu/hang.
// crash_task dies of SIGSEGV; hang_task spins until its timeout kills it.
extern const tandem::task_ref<long(int)> fib_task;
extern const tandem::task_ref<std::uint64_t(int)> hash_task;
extern const tandem::task_ref<int()> crash_task;
extern const tandem::task_ref<int()> hang_task;

// lower_priority_task is the workers' runtime_options::worker_init: each
// worker lowers its scheduling priority (nice 10) so that, when the cores
// are all busy, the io lane's threads still get them first and requests
// that only wait keep their latency while cpu requests queue.
extern const tandem::task_ref<void()> lower_priority_task;

}  // namespace server
