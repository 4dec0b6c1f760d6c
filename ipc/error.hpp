// error.hpp — how ipc/ reports a set-up failure.
//
// Set-up (mapping a segment, carving rings, opening a pidfd) throws
// ipc_error naming what failed, the size asked for and the errno text, so a
// caller can tell "out of memory" from "not permitted" without a debugger.
// Per-frame problems are never thrown: the frame reader returns them as a
// frame_error value (see frame.hpp).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace tandem::ipc {

// ipc_error is thrown by constructors and set-up calls of ipc/ only.
class ipc_error : public std::runtime_error {
 public:
  ipc_error(const std::string& what, int error_number);
  explicit ipc_error(const std::string& what) : ipc_error(what, 0) {}

  // code() is the errno the failing call reported, or 0 when none applies.
  int code() const noexcept { return code_; }

 private:
  int code_;
};

// throw_errno() throws ipc_error for `what` with the current errno.
[[noreturn]] void throw_errno(const std::string& what);

// size_text() spells a byte count for messages ("64 MiB (67108864 bytes)").
std::string size_text(std::size_t bytes);

}  // namespace tandem::ipc
