// affinity.hpp — the lane a submission asks for.
//
//   rt.submit(tandem::io, fn, args...)           the io lane's worker threads
//   rt.submit(tandem::io_blocking, fn, args...)  extra threads for work that
//                                                blocks (sleep, blocking
//                                                syscalls), so it never holds
//                                                up the io lane's workers
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

inline constexpr io_t io{};
inline constexpr io_blocking_t io_blocking{};

}  // namespace tandem
