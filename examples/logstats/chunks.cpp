#include "chunks.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <utility>

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

// last_line_end() is the position just after the last '\n' in
// [begin, limit), or `begin` when there is none. It reads backwards from
// `limit`, a window at a time, so a cut costs one small read.
std::uint64_t last_line_end(const open_file& file, std::uint64_t begin, std::uint64_t limit) {
  char window[4096];
  for (std::uint64_t to = limit; to > begin;) {
    const std::uint64_t from = to - std::min<std::uint64_t>(sizeof window, to - begin);
    const std::size_t n = file.read_at(window, static_cast<std::size_t>(to - from), from);
    if (const void* newline = ::memrchr(window, '\n', n))
      return from + static_cast<std::uint64_t>(static_cast<const char*>(newline) - window) + 1;
    to = from;
  }
  return begin;
}

// next_line_start() is the position just after the first '\n' at or after
// `from`, or `size` when there is none: where the line holding `from` ends.
std::uint64_t next_line_start(const open_file& file, std::uint64_t from, std::uint64_t size) {
  char window[64 * 1024];
  while (from < size) {
    const std::size_t n = file.read_at(window, sizeof window, from);
    if (n == 0) break;
    if (const void* newline = std::memchr(window, '\n', n))
      return from + static_cast<std::uint64_t>(static_cast<const char*>(newline) - window) + 1;
    from += n;
  }
  return size;
}

// next_chunk() is the chunk of `file` (`size` bytes) that starts at
// `begin`, a line's start, and the position the next one starts at.
std::pair<chunk_ref, std::uint64_t> next_chunk(const std::string& path, const open_file& file,
                                               std::uint64_t begin, std::uint64_t size,
                                               std::uint64_t chunk_bytes) {
  if (begin + chunk_bytes >= size) return {{path, begin, size}, size};
  const std::uint64_t limit = begin + chunk_bytes;
  const std::uint64_t end = last_line_end(file, begin, limit);
  if (end != begin) return {{path, begin, end}, end};
  // No line ends within the chunk: the line at `begin` is too long for one.
  // Its start stands for it; the rest of it is never read as lines.
  return {{path, begin, limit}, next_line_start(file, limit, size)};
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
      auto [chunk, next] = next_chunk(path, file, begin, size, chunk_bytes);
      chunks.push_back(std::move(chunk));
      begin = next;
    }
  }
  return chunks;
}

std::size_t read_chunk(const chunk_ref& chunk, std::span<char> into) {
  const std::uint64_t size = chunk.end - chunk.begin;
  if (size > into.size())
    throw std::length_error("logstats: a chunk of " + std::to_string(size) +
                            " bytes for a buffer of " + std::to_string(into.size()));
  return open_file(chunk.path).read_at(into.data(), static_cast<std::size_t>(size), chunk.begin);
}

file_text read_file(const std::string& path) {
  open_file file(path);
  const std::uint64_t size = file.size();
  file_text text{std::make_unique_for_overwrite<char[]>(size), 0};
  text.size = file.read_at(text.bytes.get(), size, 0);
  return text;
}

}  // namespace logstats
