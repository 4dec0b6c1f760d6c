#include "ipc/error.hpp"

#include <cerrno>
#include <cstring>

namespace tandem::ipc {
namespace {

std::string with_errno(const std::string& what, int error_number) {
  if (error_number == 0) return what;
  return what + ": " + std::strerror(error_number) + " (errno " + std::to_string(error_number) + ")";
}

}  // namespace

ipc_error::ipc_error(const std::string& what, int error_number)
    : std::runtime_error(with_errno(what, error_number)), code_(error_number) {}

void throw_errno(const std::string& what) { throw ipc_error(what, errno); }

std::string size_text(std::size_t bytes) {
  const std::string exact = std::to_string(bytes) + " bytes";
  if (bytes >= (std::size_t{1} << 20) && bytes % (std::size_t{1} << 20) == 0)
    return std::to_string(bytes >> 20) + " MiB (" + exact + ")";
  return exact;
}

}  // namespace tandem::ipc
