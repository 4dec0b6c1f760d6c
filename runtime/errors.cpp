#include "tandem/errors.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <string_view>

#include "tandem/detail/describe.hpp"

namespace tandem {

task_cancelled::task_cancelled()
    : error("task cancelled before it started: future::cancel() was called; the task never ran") {}

task_cancelled::task_cancelled(const std::string& what) : error(what) {}

runtime_stopped::runtime_stopped()
    : error(
          "runtime stopped: the task was submitted after shutdown began (or its runtime is gone); "
          "submit before calling shutdown() or destroying the runtime") {}

broken_promise::broken_promise()
    : error(
          "broken promise: the producer of this future (a tandem::promise or a coroutine) was "
          "destroyed without setting a value") {}

remote_error::remote_error(const std::string& task, const std::string& type_name,
                           const std::string& message)
    : error("task '" + task + "' threw " + type_name +
            (message.empty() ? std::string() : ": " + message)),
      type_name_(type_name),
      message_(message) {}

worker_crashed::worker_crashed(const std::string& what, pid_t pid, int signal, int exit_code)
    : error(what), pid_(pid), signal_(signal), exit_code_(exit_code) {}

payload_too_large::payload_too_large(const std::string& what, std::size_t size, std::size_t limit)
    : error(what), size_(size), limit_(limit) {}

channel_closed::channel_closed()
    : error("tandem::channel: send on a closed channel (close() was called); nothing was sent") {}

namespace detail {

namespace {

// cut() shortens `text` to at most max_error_text bytes, marking the cut.
// It cuts before a UTF-8 continuation byte never, so no character is split.
void cut(std::string& text) {
  if (text.size() <= max_error_text) return;
  constexpr std::string_view mark = "\u2026";  // …
  std::size_t end = max_error_text - mark.size();
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  text += mark;
}

}  // namespace

std::string type_name(const std::type_info& type) {
  int status = 0;
  const std::unique_ptr<char, void (*)(void*)> readable(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
  return status == 0 && readable ? readable.get() : type.name();
}

std::pair<std::string, std::string> describe_current_exception() {
  const std::type_info* type = abi::__cxa_current_exception_type();
  std::string name = type ? type_name(*type) : "an unknown exception";
  std::string message;
  try {
    throw;
  } catch (const std::exception& e) {
    message = e.what();
  } catch (...) {
  }
  cut(name);
  cut(message);
  return {std::move(name), std::move(message)};
}

void rethrow_as_remote(const std::string& task) {
  auto [type, message] = describe_current_exception();
  throw remote_error(task, type, message);
}

}  // namespace detail

}  // namespace tandem
