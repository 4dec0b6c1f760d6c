// errors.hpp — every error a tandem user can meet.
//
// All derive from tandem::error (itself a std::runtime_error), so one
// `catch (const tandem::error&)` sees them all. Each message says what
// happened and what the caller can do about it.
#pragma once

#include <sys/types.h>

#include <cstddef>
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

// remote_error is stored in the future of a cpu task whose function threw in
// the worker process: the exception itself cannot cross processes, so its
// type name and what() travel instead. A tandem::any task that the
// scheduler ran on the io lane reports its exception the same way, so the
// error does not depend on the lane picked (see runtime::submit()).
class remote_error : public error {
 public:
  remote_error(const std::string& task, const std::string& type_name, const std::string& message);
  // type_name() is the thrown type, demangled ("std::invalid_argument").
  // Each of type_name() and message() is at most 400 bytes: a longer one is
  // cut on a UTF-8 character boundary and ends with "…" (U+2026).
  const std::string& type_name() const noexcept { return type_name_; }
  // message() is the thrown exception's what() ("" for a non-std exception).
  const std::string& message() const noexcept { return message_; }

 private:
  std::string type_name_;
  std::string message_;
};

// worker_crashed is stored in the future of the cpu task a worker process
// was running when it died (a signal such as SIGSEGV or SIGKILL, a call to
// exit(), or a broken frame it wrote). Only that task fails; the worker is
// replaced and the other tasks go on.
class worker_crashed : public error {
 public:
  worker_crashed(const std::string& what, pid_t pid, int signal, int exit_code);
  pid_t pid() const noexcept { return pid_; }
  // signal() is the signal that ended the worker, 0 if it was not a signal.
  int signal() const noexcept { return signal_; }
  // exit_code() is the worker's exit status when it exited, else -1.
  int exit_code() const noexcept { return exit_code_; }

 private:
  pid_t pid_;
  int signal_;
  int exit_code_;
};

// task_timeout is stored in the future of a cpu task that ran longer than
// its timeout: its worker was killed and replaced.
class task_timeout : public error {
 public:
  using error::error;
};

// payload_too_large is stored in the future of a cpu task whose argument or
// result does not fit the shared heap that carries it
// (runtime_options::cpu_payload_bytes).
class payload_too_large : public error {
 public:
  payload_too_large(const std::string& what, std::size_t size, std::size_t limit);
  std::size_t size() const noexcept { return size_; }
  std::size_t limit() const noexcept { return limit_; }

 private:
  std::size_t size_;
  std::size_t limit_;
};

// unknown_task is thrown when a task is looked up by a name (or a
// signature) that was never defined, and stored when a worker is asked to
// run a task it does not know.
class unknown_task : public error {
 public:
  using error::error;
};

// channel_closed is thrown by a send on a tandem::channel that was closed
// (channel.hpp), including a send that was waiting for room when it closed.
class channel_closed : public error {
 public:
  channel_closed();
};

}  // namespace tandem
