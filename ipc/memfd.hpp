// memfd.hpp — the one place tandem calls memfd_create.
//
// A memfd is anonymous memory with a file descriptor: it has no name in any
// file system (so nothing to leak in /dev/shm after a crash and nothing
// another local user can open), it is freed when the last descriptor and
// the last mapping go, and it can be handed to a process that was not forked
// from us. It is always created close-on-exec so an exec'd child does not
// inherit it by accident.
#pragma once

#include <cstddef>
#include <string>

namespace tandem::ipc {

// memfd owns one memfd descriptor of a fixed size. Move-only; not
// thread-safe (one owner). Construction throws ipc_error naming the size
// and errno when the memory cannot be had.
class memfd {
 public:
  // memfd() creates the descriptor (`name` shows in /proc/PID/maps only)
  // and reserves `size` bytes with fallocate, so a size that the machine
  // cannot give fails here, not later with SIGBUS on first touch. A size
  // above what the machine and our memory cgroup can give now is refused
  // before fallocate (ENOMEM): memfd pages escape overcommit accounting, so
  // such a fallocate would wake the OOM killer instead of failing.
  memfd(const std::string& name, std::size_t size);
  memfd(memfd&& other) noexcept;
  memfd& operator=(memfd&& other) noexcept;
  memfd(const memfd&) = delete;
  memfd& operator=(const memfd&) = delete;
  ~memfd();

  int fd() const noexcept { return fd_; }
  std::size_t size() const noexcept { return size_; }

 private:
  void close() noexcept;

  int fd_ = -1;
  std::size_t size_ = 0;
};

}  // namespace tandem::ipc
