// affinity.hpp — the lane a submission asks for.
//
//   rt.submit(tandem::io, fn, args...)           the io lane's worker threads
//   rt.submit(tandem::io_blocking, fn, args...)  extra threads for work that
//                                                blocks (sleep, blocking
//                                                syscalls), so it never holds
//                                                up the io lane's workers
//   rt.submit(tandem::cpu, task, args...)        a pre-forked worker process
//                                                (defined tasks only: see task.hpp)
//
// A defined task also carries a default affinity (tandem::io, tandem::cpu or
// tandem::any) that rt.submit(task, args...) follows. tandem::any lets the
// scheduler pick the lane that starts the task soonest; an exception it
// throws arrives as tandem::remote_error on either lane.
//
// Blocking work is marked where it is submitted: tandem never guesses.
#pragma once

namespace tandem {

struct io_t {
  explicit constexpr io_t() = default;
};
struct io_blocking_t {
  explicit constexpr io_blocking_t() = default;
};

struct cpu_t {
  explicit constexpr cpu_t() = default;
};
struct any_t {
  explicit constexpr any_t() = default;
};

inline constexpr io_t io{};
inline constexpr io_blocking_t io_blocking{};
inline constexpr cpu_t cpu{};
inline constexpr any_t any{};

// affinity is a defined task's default lane, as a value.
enum class affinity { io, cpu, any };

constexpr affinity affinity_of(io_t) noexcept { return affinity::io; }
constexpr affinity affinity_of(cpu_t) noexcept { return affinity::cpu; }
constexpr affinity affinity_of(any_t) noexcept { return affinity::any; }

}  // namespace tandem
