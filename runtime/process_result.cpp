#include <string_view>

#include "ipc/pidfd.hpp"
#include "runtime/process_spawn.hpp"
#include "tandem/errors.hpp"
#include "tandem/process.hpp"

namespace tandem {
namespace {

// last_line() is the last non-empty line of `text` (a failing program's
// error message is usually there), or "".
std::string_view last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  const auto newline = text.find_last_of('\n');
  return newline == std::string_view::npos ? text : text.substr(newline + 1);
}

}  // namespace

std::string process_result::status_text() const {
  if (signal) return ipc::describe({true, *signal});
  if (exit_code) return ipc::describe({false, *exit_code});
  return "has no exit status";
}

void process_result::check() const {
  if (ok()) return;
  std::string what = "process '" + detail::command_text(args) + "' " + status_text();
  if (const std::string_view line = last_line(err); !line.empty()) what += ": " + std::string(line);
  throw error(what);
}

}  // namespace tandem
