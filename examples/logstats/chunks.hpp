// chunks.hpp — log files cut into chunks that end at line ends, so each
// chunk can be parsed on its own.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <tandem/serialize.hpp>

namespace logstats {

// chunk_ref names the bytes [begin, end) of a file: whole lines.
struct chunk_ref {
  std::string path;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

// chunk_text is a chunk's bytes. Not a std::string: a string is
// zero-filled before it is read into, which at hundreds of MiB costs about
// as much as the read itself.
struct chunk_text {
  std::unique_ptr<char[]> bytes;
  std::size_t size = 0;

  std::string_view view() const { return {bytes.get(), size}; }
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
chunk_text read_chunk(const chunk_ref& chunk);

// read_file() is a whole file's text (a blocking read).
chunk_text read_file(const std::string& path);

}  // namespace logstats

// chunk_text crosses processes as its length and bytes, copied once.
template <>
struct tandem::serializer<logstats::chunk_text> {
  static void write(tandem::writer& out, const logstats::chunk_text& text) {
    out.write(static_cast<std::uint64_t>(text.size));
    out.bytes(text.bytes.get(), text.size);
  }
  static logstats::chunk_text read(tandem::reader& in) {
    const std::size_t size = in.count(1);
    const auto piece = in.take(size);
    logstats::chunk_text text{std::make_unique_for_overwrite<char[]>(size), size};
    if (size != 0) std::memcpy(text.bytes.get(), piece.data(), size);
    return text;
  }
};
