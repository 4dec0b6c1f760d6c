// whole_file.hpp — files written whole or not at all. The bytes go to
// PATH.partial beside PATH, renamed to PATH once written and closed, so a
// write that fails or is interrupted never leaves a cut-short (or empty)
// PATH to be read as if it were complete. logstats writes its generated
// logs and its report so.
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace logstats {

// partial_suffix is what a file's name carries while it is being written.
inline constexpr std::string_view partial_suffix = ".partial";

// check_whole_file() throws unless write_whole_file() could write `path`
// now, so that a path that cannot be written fails before the work whose
// result goes there: a `path` that exists must be a regular file, and
// `path`.partial must be creatable. It never blocks (a FIFO is refused,
// not opened) and leaves nothing behind. Throws std::runtime_error naming
// `path` and the reason.
void check_whole_file(const std::string& path);

// write_whole_file() writes `path` through `path`.partial: `write` fills the
// stream and returns false when a write failed (errno set); the file is then
// closed and renamed to `path`, replacing it. On any failure the partial
// file is removed and std::runtime_error names `path` and the reason. A
// `path` that exists and is not a regular file is refused.
void write_whole_file(const std::string& path, const std::function<bool(std::FILE*)>& write);

}  // namespace logstats
