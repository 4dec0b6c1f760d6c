// errors.hpp — every error a tandem user can meet.
//
// All derive from tandem::error (itself a std::runtime_error), so one
// `catch (const tandem::error&)` sees them all. Each message says what
// happened and what the caller can do about it.
#pragma once

#include <stdexcept>
#include <string>

namespace tandem {

// error is the base of every exception tandem throws or stores in a future.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// task_cancelled is stored in the future of a task that was cancelled before
// it started — by future::cancel() or by shutdown(tandem::cancel).
class task_cancelled : public error {
 public:
  task_cancelled();
  explicit task_cancelled(const std::string& what);
};

// runtime_stopped is stored in the future of a submission made after
// shutdown began, and of a continuation whose runtime no longer exists.
class runtime_stopped : public error {
 public:
  runtime_stopped();
};

// broken_promise is stored when the producer of a value was destroyed
// without setting it (a tandem::promise, or a coroutine frame).
class broken_promise : public error {
 public:
  broken_promise();
};

}  // namespace tandem
