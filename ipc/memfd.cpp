#include "ipc/memfd.hpp"

#include "ipc/error.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <utility>

namespace tandem::ipc {
namespace {

// number_in() reads the first number in `path`, after `key` when given;
// nullopt when the file is missing or says "max" (no limit).
std::optional<std::uint64_t> number_in(const char* path, const std::string& key = "") {
  std::ifstream file(path);
  for (std::string word; file >> word;) {
    if (!key.empty() && word != key) continue;
    std::uint64_t value = 0;
    if (!key.empty() && !(file >> value)) return std::nullopt;
    if (key.empty() && word.find_first_not_of("0123456789") == std::string::npos)
      value = std::stoull(word);
    else if (key.empty())
      return std::nullopt;
    return value;
  }
  return std::nullopt;
}

// obtainable_bytes() is what the machine (and our memory cgroup, v2 or v1)
// can still give. memfd pages are not overcommit-accounted, so fallocate
// past this does not fail with ENOSPC: it summons the OOM killer, which may
// pick any process. We refuse such a size up front instead.
std::uint64_t obtainable_bytes() {
  std::uint64_t bytes = UINT64_MAX;
  const auto available = number_in("/proc/meminfo", "MemAvailable:");
  const auto swap = number_in("/proc/meminfo", "SwapFree:");
  if (available) bytes = (*available + swap.value_or(0)) * 1024;
  const std::pair<const char*, const char*> cgroups[] = {
      {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"},
      {"/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"}};
  for (const auto& [limit_path, usage_path] : cgroups) {
    const auto limit = number_in(limit_path);
    const auto usage = number_in(usage_path);
    if (limit && usage) bytes = std::min(bytes, *limit > *usage ? *limit - *usage : 0);
  }
  return bytes;
}

}  // namespace

memfd::memfd(const std::string& name, std::size_t size) : size_(size) {
  const std::uint64_t obtainable = obtainable_bytes();
  if (size > obtainable)
    throw ipc_error("memfd \"" + name + "\": cannot reserve " + size_text(size) + ", only " +
                        size_text(obtainable) + " of memory is available",
                    ENOMEM);
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
