// chunks.hpp — log files cut into chunks that end at line ends, so each
// chunk can be parsed on its own.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace logstats {

// chunk_ref names the bytes [begin, end) of a file: whole lines.
struct chunk_ref {
  std::string path;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

// file_text is a whole file's bytes. Not a std::string: a string is
// zero-filled before it is read into, which at hundreds of MiB costs about
// as much as the read itself.
struct file_text {
  std::unique_ptr<char[]> bytes;
  std::size_t size = 0;

  std::string_view view() const { return {bytes.get(), size}; }
};

// list_logs() is every *.log file in `dir`, sorted by name.
std::vector<std::string> list_logs(const std::string& dir);

// total_bytes() is the size of the files together.
std::uint64_t total_bytes(const std::vector<std::string>& files);

// plan_chunks() cuts each file into chunks of at most `chunk_bytes`, each
// ending just after its last whole line (or at the end of its file), so a
// chunk always fits a buffer of `chunk_bytes`. It reads only a few bytes
// before each cut. A line longer than `chunk_bytes` cannot be in a chunk
// whole: its first `chunk_bytes` bytes are a chunk of their own and the
// rest of it is skipped, so it counts as one line, an over-long one
// (max_line_bytes in log_stats.hpp), as when the file is read whole.
std::vector<chunk_ref> plan_chunks(const std::vector<std::string>& files,
                                   std::uint64_t chunk_bytes);

// read_chunk() reads the chunk into `into` (a blocking read) and returns
// its size; `into` must hold the whole chunk.
std::size_t read_chunk(const chunk_ref& chunk, std::span<char> into);

// read_file() is a whole file's text (a blocking read).
file_text read_file(const std::string& path);

}  // namespace logstats
