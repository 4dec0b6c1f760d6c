#include "whole_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace logstats {

namespace {

[[noreturn]] void cannot_write(const std::string& path, int error) {
  throw std::system_error(error, std::generic_category(), "cannot write " + path);
}

std::string partial_name(const std::string& path) { return path + std::string(partial_suffix); }

// refuse_unless_regular() throws when `path` exists and is not a regular
// file. The partial file is renamed over `path`, which would replace a
// FIFO, a device or a socket rather than write into it (as root, /dev/null
// itself), and opening a FIFO to check it would wait for a reader.
void refuse_unless_regular(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw std::runtime_error(
        "cannot write " + path +
        ": not a regular file (the file is written beside it and renamed over it)");
}

}  // namespace

void check_whole_file(const std::string& path) {
  refuse_unless_regular(path);
  // O_EXCL: the check creates a file of its own or none, and never truncates
  // one found under the partial name (a leftover, or a link to a file
  // elsewhere: with O_CREAT, O_EXCL follows no link). O_NONBLOCK: a FIFO
  // found there fails to open instead of waiting for a reader.
  const std::string partial = partial_name(path);
  const int fd =
      ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NONBLOCK, 0666);
  if (fd >= 0) {
    ::close(fd);
    ::unlink(partial.c_str());
    return;
  }
  // Something is there already: the folder must at least let us replace it.
  const auto slash = partial.rfind('/');
  const std::string folder = slash == std::string::npos ? "." : partial.substr(0, slash + 1);
  if (errno != EEXIST || ::access(folder.c_str(), W_OK | X_OK) != 0) cannot_write(path, errno);
}

void write_whole_file(const std::string& path, const std::function<bool(std::FILE*)>& write) {
  refuse_unless_regular(path);
  const std::string partial = partial_name(path);
  // A leftover partial file of ours is replaced; a link there is not
  // followed (O_EXCL with O_CREAT follows none).
  ::unlink(partial.c_str());
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  std::FILE* file = fd < 0 ? nullptr : ::fdopen(fd, "wb");
  if (file == nullptr) {
    const int error = errno;
    if (fd >= 0) {
      ::close(fd);
      std::remove(partial.c_str());
    }
    cannot_write(path, error);
  }
  bool written = false;
  try {
    written = write(file);
  } catch (...) {
    std::fclose(file);
    std::remove(partial.c_str());
    throw;
  }
  const int write_errno = errno;
  // Buffered output meets a full disk only when it is flushed.
  const bool closed = std::fclose(file) == 0;
  if (written && closed && std::rename(partial.c_str(), path.c_str()) == 0) return;
  const int error = written ? errno : write_errno;  // fclose's or rename's
  std::remove(partial.c_str());
  cannot_write(path, error);
}

}  // namespace logstats
