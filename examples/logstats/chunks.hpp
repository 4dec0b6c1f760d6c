// chunks.hpp — log files cut into chunks that end at line ends, so each
// chunk can be parsed on its own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace logstats {

// chunk_ref names the bytes [begin, end) of a file: whole lines.
struct chunk_ref {
  std::string path;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

// list_logs() is every *.log file in `dir`, sorted by name.
std::vector<std::string> list_logs(const std::string& dir);

// total_bytes() is the size of the files together.
std::uint64_t total_bytes(const std::vector<std::string>& files);

// plan_chunks() cuts each file into chunks of about `chunk_bytes`, each
// ending just after a '\n' (or at the end of its file). It reads only a few
// bytes around each cut.
std::vector<chunk_ref> plan_chunks(const std::vector<std::string>& files,
                                   std::uint64_t chunk_bytes);

// read_chunk() is the chunk's text (a blocking read).
std::string read_chunk(const chunk_ref& chunk);

// read_file() is a whole file's text (a blocking read).
std::string read_file(const std::string& path);

}  // namespace logstats
