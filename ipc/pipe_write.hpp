// pipe_write.hpp — the one place tandem writes to a pipe whose reader may
// be gone.
//
// write(2) to a pipe with no reader raises SIGPIPE, whose default action
// kills the whole program. A library must neither die of it nor change the
// program's SIGPIPE disposition behind its back, and pipes (unlike sockets)
// have no MSG_NOSIGNAL. So the signal is blocked in the calling thread for
// the one write, and a SIGPIPE that write raised is taken back with
// sigtimedwait before the thread's mask is restored: the program never sees
// it, and a SIGPIPE that was already pending stays pending.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace tandem::ipc {

// write_without_sigpipe() is write(2) that reports a vanished reader as
// -EPIPE instead of raising SIGPIPE. Returns the bytes written, or -errno
// (-EAGAIN on a full non-blocking pipe); EINTR is retried. Thread-safe: it
// changes only the calling thread's signal mask, and restores it.
ssize_t write_without_sigpipe(int fd, const void* data, std::size_t size) noexcept;

}  // namespace tandem::ipc
