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

}  // namespace tandem
