#include "runtime/process_runner.hpp"

#include <fcntl.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string_view>
#include <utility>

#include "ipc/pipe_write.hpp"
#include "runtime/scheduler.hpp"
#include "tandem/errors.hpp"

namespace tandem::detail {
namespace {

namespace asio = boost::asio;

constexpr std::size_t smallest_read = std::size_t{64} << 10;
constexpr std::size_t largest_read = std::size_t{1} << 20;
constexpr std::size_t read_burst = std::size_t{4} << 20;

// adopted() is a descriptor that owns `fd` (which stays owned by `fd`
// should the descriptor fail to register with the reactor).
asio::posix::stream_descriptor adopted(const asio::strand<process_executor>& ex, owned_fd fd) {
  asio::posix::stream_descriptor d(ex);
  d.assign(fd.get());
  fd.release();
  return d;
}

}  // namespace

bool process_call::stop_running() noexcept {
  if (is_ready()) return false;
  const auto runner = runner_.lock();
  if (!runner) return false;  // resolving right now
  try {
    runner->stop(stop_reason::kill_running);
  } catch (...) {
    return false;
  }
  return true;
}

process_runner::output::output(const strand& ex, owned_fd fd, const output_callback& callback)
    : pipe(adopted(ex, std::move(fd))), sink(callback) {
  pipe.non_blocking(true);  // read_ready() reads until the pipe is empty
}

process_runner::process_runner(scheduler& sched, process_call& call, std::vector<std::string> args,
                               process_options options, spawned_child child)
    : sched_(sched),
      call_(call),
      args_(std::move(args)),
      options_(std::move(options)),
      child_(std::move(child.process)),
      strand_(process_executor(sched)),
      stdin_(adopted(strand_, std::move(child.stdin_pipe))),
      out_(strand_, std::move(child.stdout_pipe), options_.on_stdout),
      err_(strand_, std::move(child.stderr_pipe), options_.on_stderr),
      timer_(strand_),
      exit_watch_(strand_, child_.fd()) {
  stdin_.non_blocking(true);  // feed_stdin() writes itself
}

process_runner::~process_runner() {
  sched_.processes().delist(*this);
  exit_watch_.release();
  if (!exited_) child_.kill_group();  // ended before the child did: it must not outlive us
  settle(child_.reap());
  sched_.processes().release();
}

// start() lists the runner before it begins, so a shutdown(cancel) in
// between stops it (halt() then runs before begin(), which copes), and
// hands its only reference to the strand, so the runner ends in a handler
// on the io lane, never on the caller's thread.
void process_runner::start(std::shared_ptr<process_runner> runner) {
  runner->sched_.processes().enlist(*runner);
  process_runner& self = *runner;
  asio::post(self.strand_, [runner = std::move(runner)] { runner->begin(); });
}

void process_runner::stop(std::shared_ptr<process_runner> runner, stop_reason why) {
  const strand on = runner->strand_;
  asio::post(on, [self = std::move(runner), why] { self->halt(self->stop_error(why)); });
}

void process_runner::begin() {
  wait_readable(out_);
  wait_readable(err_);
  watch_exit();
  feed_stdin();
  arm_timeout();
}

// wait_readable() waits for output (or end-of-file) on `stream`.
void process_runner::wait_readable(output& stream) {
  stream.pipe.async_wait(asio::posix::stream_descriptor::wait_read,
                         [self = shared_from_this(), &stream](boost::system::error_code ec) {
                           if (ec) return self->close_output(stream);  // cancelled by halt()
                           self->read_ready(stream);
                         });
}

// read_ready() reads what the pipe holds now, then waits for more: one
// wake-up takes all a fast writer wrote meanwhile, not one write's worth.
// A burst is bounded so a child that writes without end cannot keep the
// strand from running its timeout or the other stream.
void process_runner::read_ready(output& stream) {
  boost::system::error_code ec;
  std::size_t burst = 0;
  while (!ec && !failure_ && burst < read_burst) {
    const std::size_t n = read_once(stream, ec);
    burst += n;
    if (n > 0) deliver(stream);
  }
  stream.total += burst;
  if (stream.total >= largest_read) enlarge_pipe(stream);
  if (failure_ || (ec && ec != asio::error::would_block))
    return close_output(stream);  // stopped, end-of-file, or a broken pipe
  wait_readable(stream);
}

// enlarge_pipe() gives a stream that has carried 1 MiB a 1 MiB pipe, so a
// child writing a lot wakes us (and waits for us) 16 times less often.
// Small outputs keep the default 64 KiB: pipe capacity counts against the
// user's pipe-user-pages limit, past which every new pipe of that user is
// made tiny. Failing to enlarge costs only speed.
void process_runner::enlarge_pipe(output& stream) noexcept {
  if (std::exchange(stream.enlarged, true)) return;
  fcntl(stream.pipe.native_handle(), F_SETPIPE_SZ, static_cast<int>(largest_read));
}

// read_once() reads into the tail of stream.data, so captured output is
// read where it stays (no copy per chunk; the string grows geometrically,
// and so do the reads, from 64 KiB to 1 MiB).
std::size_t process_runner::read_once(output& stream, boost::system::error_code& ec) {
  const std::size_t kept = stream.data.size();
  const std::size_t room = std::clamp(kept, smallest_read, largest_read);
  stream.data.resize(kept + room);
  const std::size_t n = stream.pipe.read_some(asio::buffer(stream.data.data() + kept, room), ec);
  stream.data.resize(kept + n);
  return n;
}

void process_runner::deliver(output& stream) {
  if (!stream.sink) return;  // captured: it stays in stream.data
  if (auto error = exception_of([&] { stream.sink(std::string_view(stream.data)); }))
    halt(std::move(error));
  stream.data.clear();
}

void process_runner::close_output(output& stream) {
  boost::system::error_code ignored;
  stream.pipe.close(ignored);
  stream.open = false;
  finish_if_done();
}

// feed_stdin() writes what the pipe takes now and waits for room for the
// rest; a child that stops reading (EPIPE) simply gets no more.
void process_runner::feed_stdin() {
  const std::string& data = options_.stdin_data;
  while (stdin_written_ < data.size() && !failure_) {
    const ssize_t n = ipc::write_without_sigpipe(
        stdin_.native_handle(), data.data() + stdin_written_, data.size() - stdin_written_);
    if (n == -EAGAIN) return wait_stdin_writable();
    if (n < 0) break;
    stdin_written_ += static_cast<std::size_t>(n);
  }
  boost::system::error_code ignored;
  stdin_.close(ignored);  // end-of-file for the child
}

void process_runner::wait_stdin_writable() {
  stdin_.async_wait(asio::posix::stream_descriptor::wait_write,
                    [self = shared_from_this()](boost::system::error_code ec) {
                      if (!ec) self->feed_stdin();  // else closed by halt() or finish_if_done()
                    });
}

void process_runner::watch_exit() {
  exit_watch_.async_wait(asio::posix::stream_descriptor::wait_read,
                         [self = shared_from_this()](boost::system::error_code) {
                           self->exited_ = true;
                           self->finish_if_done();
                         });
}

void process_runner::arm_timeout() {
  const auto now = std::chrono::steady_clock::now();
  const auto timeout = options_.timeout;
  if (timeout <= std::chrono::nanoseconds::zero()) return;
  if (timeout >= std::chrono::steady_clock::time_point::max() - now) return;  // never comes
  timer_.expires_at(now + timeout);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->halt(self->stop_error(stop_reason::timeout));
  });
}

// halt() kills the child and stops all I/O but the exit watch: the child's
// death ends the runner, whatever its children do with the pipes.
void process_runner::halt(std::exception_ptr reason) {
  if (finished_ || failure_) return;
  failure_ = std::move(reason);
  child_.kill_group();
  boost::system::error_code ignored;
  stdin_.close(ignored);
  out_.pipe.cancel(ignored);
  err_.pipe.cancel(ignored);
  timer_.cancel();
}

// finish_if_done() ends what is still pending once the child has exited
// and both pipes are at end-of-file: the timer, and stdin should a child
// of the child still hold its read end without reading.
void process_runner::finish_if_done() {
  if (finished_ || !exited_ || out_.open || err_.open) return;
  finished_ = true;
  boost::system::error_code ignored;
  stdin_.close(ignored);
  timer_.cancel();
}

void process_runner::settle(const std::optional<ipc::exit_status>& status) noexcept {
  if (failure_) {
    call_.fail_claimed(failure_);
  } else if (!status) {
    call_.fail_claimed(std::make_exception_ptr(
        error("process '" + command_text(args_) +
              "' ended, but its exit status was taken by someone else: does this program "
              "ignore SIGCHLD or call waitpid(-1)?")));
  } else {
    fulfil(call_, [&] { return result(*status); });
  }
  call_.release();
}

process_result process_runner::result(const ipc::exit_status& status) {
  process_result done;
  done.args = args_;
  if (status.signaled)
    done.signal = status.number;
  else
    done.exit_code = status.number;
  done.out = std::move(out_.data);
  done.err = std::move(err_.data);
  if (options_.check) done.check();
  return done;
}

std::exception_ptr process_runner::stop_error(stop_reason why) const {
  const std::string process = "process '" + command_text(args_) + "'";
  switch (why) {
    case stop_reason::kill_running:
      return std::make_exception_ptr(task_cancelled(
          process + " cancelled while running (tandem::kill_running): it was killed"));
    case stop_reason::shutdown:
      return std::make_exception_ptr(
          task_cancelled(process + " killed: the runtime was shut down with tandem::cancel"));
    case stop_reason::timeout:
      break;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout);
  return std::make_exception_ptr(task_timeout(process + " ran past its timeout of " +
                                              std::to_string(ms.count()) +
                                              " ms: it was killed with its process group"));
}

future<process_result> start_process(scheduler& sched, std::uint32_t runtime_id,
                                     std::vector<std::string> args, process_options options) {
  try {
    check_arguments(args, options);
  } catch (...) {
    return make_exceptional_future<process_result>(std::current_exception());
  }
  if (!sched.reserve_process())
    return make_exceptional_future<process_result>(std::make_exception_ptr(runtime_stopped()));
  auto* call = new process_call(runtime_id);
  auto result = access::adopt<process_result>(call);
  call->try_claim();  // running from here on: cancel() can no longer win
  std::shared_ptr<process_runner> runner;
  try {
    spawned_child child = spawn_child(sched.spawner(), args, options);
    runner = std::make_shared<process_runner>(sched, *call, std::move(args), std::move(options),
                                              std::move(child));
  } catch (...) {
    call->fail_claimed(std::current_exception());
    call->release();
    sched.processes().release();
    return result;
  }
  call->watch(runner);
  process_runner::start(std::move(runner));
  return result;
}

}  // namespace tandem::detail
