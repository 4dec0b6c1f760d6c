#include "tandem/errors.hpp"

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
    : error("task '" + task + "' threw " + type_name + " in its worker process" +
            (message.empty() ? std::string() : ": " + message)),
      type_name_(type_name),
      message_(message) {}

worker_crashed::worker_crashed(const std::string& what, pid_t pid, int signal, int exit_code)
    : error(what), pid_(pid), signal_(signal), exit_code_(exit_code) {}

payload_too_large::payload_too_large(const std::string& what, std::size_t size, std::size_t limit)
    : error(what), size_(size), limit_(limit) {}

channel_closed::channel_closed()
    : error("tandem::channel: send on a closed channel (close() was called); nothing was sent") {}

}  // namespace tandem
