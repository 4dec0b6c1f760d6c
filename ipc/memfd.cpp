#include "ipc/memfd.hpp"

#include "ipc/error.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace tandem::ipc {

memfd::memfd(const std::string& name, std::size_t size) : size_(size) {
  fd_ = memfd_create(name.c_str(), MFD_CLOEXEC);
  if (fd_ < 0) throw_errno("memfd_create(\"" + name + "\")");
  // fallocate, not ftruncate: a sparse file would accept any size and fail
  // later with SIGBUS when a page cannot be found.
  const int rc = fallocate(fd_, 0, 0, static_cast<off_t>(size));
  if (rc != 0) {
    const int saved = errno;
    close();
    throw ipc_error("memfd \"" + name + "\": cannot reserve " + size_text(size), saved);
  }
}

memfd::memfd(memfd&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), size_(std::exchange(other.size_, 0)) {}

memfd& memfd::operator=(memfd&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

memfd::~memfd() { close(); }

void memfd::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace tandem::ipc
