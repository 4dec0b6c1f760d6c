#include "chunks.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace logstats {

namespace {

// open_file is a read-only descriptor, closed on scope exit; every failure
// names the file and the reason.
class open_file {
 public:
  explicit open_file(const std::string& path) : path_(path), fd_(::open(path.c_str(), O_RDONLY)) {
    if (fd_ < 0) fail("open");
  }
  open_file(const open_file&) = delete;
  open_file& operator=(const open_file&) = delete;
  ~open_file() { ::close(fd_); }

  std::uint64_t size() const {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail("stat");
    return static_cast<std::uint64_t>(st.st_size);
  }
  // read_at() fills `length` bytes from `offset` (fewer only at the end).
  std::size_t read_at(char* out, std::size_t length, std::uint64_t offset) const {
    std::size_t got = 0;
    while (got < length) {
      const ssize_t n = ::pread(fd_, out + got, length - got, static_cast<off_t>(offset + got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("read");
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    return got;
  }

 private:
  [[noreturn]] void fail(const char* what) const {
    throw std::runtime_error(std::string("cannot ") + what + " " + path_ + ": " +
                             std::strerror(errno));
  }

  std::string path_;
  int fd_;
};

// line_end_from() is the position just after the first '\n' at or after
// `from`, or `size` when there is none.
std::uint64_t line_end_from(const open_file& file, std::uint64_t from, std::uint64_t size) {
  char window[4096];
  while (from < size) {
    const std::size_t n = file.read_at(window, sizeof window, from);
    if (n == 0) break;
    if (const void* newline = std::memchr(window, '\n', n))
      return from + static_cast<std::uint64_t>(static_cast<const char*>(newline) - window) + 1;
    from += n;
  }
  return size;
}

chunk_text read_range(const std::string& path, std::uint64_t begin, std::uint64_t end) {
  open_file file(path);
  chunk_text text{std::make_unique_for_overwrite<char[]>(end - begin), 0};
  text.size = file.read_at(text.bytes.get(), end - begin, begin);
  return text;
}

}  // namespace

std::vector<std::string> list_logs(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().extension() == ".log")
      files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

std::uint64_t total_bytes(const std::vector<std::string>& files) {
  std::uint64_t total = 0;
  for (const auto& path : files) total += std::filesystem::file_size(path);
  return total;
}

std::vector<chunk_ref> plan_chunks(const std::vector<std::string>& files,
                                   std::uint64_t chunk_bytes) {
  std::vector<chunk_ref> chunks;
  for (const auto& path : files) {
    open_file file(path);
    const std::uint64_t size = file.size();
    for (std::uint64_t begin = 0; begin < size;) {
      // The '\n' may sit on the last byte of the nominal chunk: look from it.
      const std::uint64_t end =
          begin + chunk_bytes >= size ? size : line_end_from(file, begin + chunk_bytes - 1, size);
      chunks.push_back({path, begin, end});
      begin = end;
    }
  }
  return chunks;
}

chunk_text read_chunk(const chunk_ref& chunk) {
  return read_range(chunk.path, chunk.begin, chunk.end);
}

chunk_text read_file(const std::string& path) {
  return read_range(path, 0, std::filesystem::file_size(path));
}

}  // namespace logstats
