#include "runtime/process_spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string_view>

#include "ipc/error.hpp"
#include "ipc/vfork_exec.hpp"
#include "runtime/spawner_thread.hpp"
#include "tandem/errors.hpp"

extern char** environ;

namespace tandem::detail {
namespace {

// execvp's PATH when the environment has none.
constexpr std::string_view default_path = "/bin:/usr/bin";
constexpr std::size_t longest_command_text = 200;

[[noreturn]] void cannot_run(const std::string& program, const std::string& why) {
  throw error("cannot run '" + program + "': " + why);
}

[[noreturn]] void cannot_run_errno(const std::string& program, const std::string& what,
                                   int error_number) {
  cannot_run(program, what + std::strerror(error_number));
}

void check_text(const std::string& text, const std::string& what, const std::string& program) {
  if (text.find('\0') != std::string::npos)
    cannot_run(program, what + " contains a NUL byte, which a C string cannot carry");
}

void check_environment(const process_environment& vars, const std::string& program) {
  for (const auto& [name, value] : vars) {
    if (name.empty() || name.find('=') != std::string::npos)
      cannot_run(program, "environment variable name '" + name + "' is empty or contains '='");
    check_text(name, "environment variable name '" + name + "'", program);
    check_text(value, "the value of environment variable '" + name + "'", program);
  }
}

// moved_above_stdio() keeps `fd` from being 0, 1 or 2 (a host that closed
// its stdio gets those numbers back from pipe2), where the child's dup2
// onto its own 0, 1 and 2 could overwrite it.
owned_fd moved_above_stdio(owned_fd fd, const std::string& program) {
  if (fd.get() > 2) return fd;
  const int moved = fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0) cannot_run_errno(program, "fcntl(F_DUPFD_CLOEXEC): ", errno);
  return owned_fd(moved);
}

struct pipe_ends {
  owned_fd read;
  owned_fd write;
};

pipe_ends make_pipe(const std::string& program) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) cannot_run_errno(program, "pipe2: ", errno);
  owned_fd read_end(fds[0]), write_end(fds[1]);
  return {moved_above_stdio(std::move(read_end), program),
          moved_above_stdio(std::move(write_end), program)};
}

process_environment host_environment() {
  process_environment vars;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view text(*entry);
    const auto equals = text.find('=');
    if (equals != std::string_view::npos && equals > 0)
      vars.emplace(text.substr(0, equals), text.substr(equals + 1));
  }
  return vars;
}

process_environment child_environment(const process_options& options) {
  process_environment vars = options.env ? *options.env : host_environment();
  for (const auto& [name, value] : options.env_extra) vars[name] = value;
  return vars;
}

std::vector<std::string> environment_strings(const process_environment& vars) {
  std::vector<std::string> strings;
  strings.reserve(vars.size());
  for (const auto& [name, value] : vars) strings.push_back(name + "=" + value);
  return strings;
}

bool executable_file(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) == 0;
}

bool relative(std::string_view path) { return !path.starts_with('/'); }

// seen_from() is `path` as a child started in `cwd` sees it: the child
// chdirs before exec, so a relative path is taken from `cwd` (itself taken
// from the host's working directory), not from the host's.
std::string seen_from(const std::string& cwd, const std::string& path) {
  if (cwd.empty() || !relative(path)) return path;
  return cwd + "/" + path;
}

// in_directory() names the directory a relative `path` is taken from, for
// messages; empty when that is the host's own.
std::string in_directory(const std::string& cwd, std::string_view path) {
  if (cwd.empty() || !relative(path)) return "";
  return "from working directory '" + cwd + "'";
}

std::string_view path_variable(const process_environment& vars) {
  const auto path = vars.find("PATH");
  return path != vars.end() ? std::string_view(path->second) : default_path;
}

// path_entries() splits PATH at its colons; an empty entry stays (it means
// the current directory).
std::vector<std::string_view> path_entries(std::string_view dirs) {
  std::vector<std::string_view> entries;
  for (std::size_t start = 0; start <= dirs.size();) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    entries.push_back(dirs.substr(start, end - start));
    start = end + 1;
  }
  return entries;
}

// found_in_path() is the first executable file `name` in PATH's `entries`
// as seen from `cwd`, named as the child, after its chdir, must name it.
std::optional<std::string> found_in_path(const std::string& name,
                                         const std::vector<std::string_view>& entries,
                                         const std::string& cwd) {
  for (const std::string_view dir : entries) {
    std::string candidate = (dir.empty() ? std::string(".") : std::string(dir)) + "/" + name;
    if (executable_file(seen_from(cwd, candidate))) return candidate;
  }
  return std::nullopt;
}

// relative_entries_note() says where PATH's relative entries were looked
// in, when that was not the host's working directory.
std::string relative_entries_note(const std::vector<std::string_view>& entries,
                                  const std::string& cwd) {
  if (cwd.empty() || std::none_of(entries.begin(), entries.end(), relative)) return "";
  return "; relative entries taken from working directory '" + cwd + "'";
}

// program_path() is where execvp, run after `cd cwd`, would find `name`:
// itself when it has a '/' (exec takes a relative one from `cwd`, after the
// chdir), else the first executable file of that name in the child's PATH.
std::string program_path(const std::string& name, const process_environment& vars,
                         const std::string& cwd) {
  if (name.find('/') != std::string::npos) return name;
  const std::string_view dirs = path_variable(vars);
  const auto entries = path_entries(dirs);
  if (auto found = found_in_path(name, entries, cwd)) return *std::move(found);
  cannot_run(name, "no executable of that name in PATH (" + std::string(dirs) + ")" +
                       relative_entries_note(entries, cwd));
}

// exec_failure_context() says which file exec was given, where the program
// name alone does not: the PATH entry found, the directory a relative path
// is taken from.
std::string exec_failure_context(const std::string& program, const std::string& path,
                                 const std::string& cwd) {
  std::string context = path == program ? "" : path;
  const std::string directory = in_directory(cwd, path);
  if (!directory.empty()) context += (context.empty() ? "" : " ") + directory;
  return context.empty() ? context : context + ": ";
}

void check_directory(const std::string& cwd, const std::string& program) {
  if (cwd.empty()) return;
  struct stat info {};
  if (stat(cwd.c_str(), &info) != 0)
    cannot_run_errno(program, "working directory '" + cwd + "': ", errno);
  if (!S_ISDIR(info.st_mode)) cannot_run(program, "working directory '" + cwd + "' is not one");
}

// c_strings() is the NULL-terminated array of pointers exec wants. exec
// does not write through them; the const_cast only meets its signature.
std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (const std::string& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

// start_failure_context() says what went wrong where `step`, a step of
// starting the child, failed: exec (see exec_failure_context()), the chdir
// into cwd, or another step of the set-up.
std::string start_failure_context(ipc::exec_step step, const std::string& program,
                                  const std::string& path, const std::string& cwd) {
  switch (step) {
    case ipc::exec_step::exec:
      return exec_failure_context(program, path, cwd);
    case ipc::exec_step::chdir:
      return "working directory '" + cwd + "': ";
    default:
      return std::string(ipc::step_name(step)) + ": ";
  }
}

// watch() opens the pidfd of a child just started. Should that fail (out
// of descriptors), the child is killed and reaped before the error goes
// on, since nothing else would ever reap it.
child_process watch(pid_t pid, const std::string& program) {
  try {
    return child_process(ipc::pidfd(pid));
  } catch (const ipc::ipc_error& failure) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    cannot_run_errno(program, "pidfd_open: ", failure.code());
  }
}

}  // namespace

owned_fd& owned_fd::operator=(owned_fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

owned_fd::~owned_fd() {
  if (fd_ >= 0) ::close(fd_);
}

child_process::~child_process() {
  if (pidfd_.fd() < 0 || reaped_) return;
  kill_group();
  reap();
}

void child_process::kill_group() const noexcept {
  if (reaped_) return;
  ::kill(-pidfd_.pid(), SIGKILL);
  pidfd_.send_signal(SIGKILL);
}

std::optional<ipc::exit_status> child_process::reap() noexcept {
  reaped_ = true;
  try {
    for (;;) {
      if (auto status = pidfd_.try_reap()) return status;
      pidfd_.exited(std::chrono::hours(1));
    }
  } catch (const ipc::ipc_error&) {
    return std::nullopt;  // ECHILD: not ours to reap any more
  }
}

void check_arguments(const std::vector<std::string>& args, const process_options& options) {
  if (args.empty())
    throw error("run_process: the argument list is empty; it needs at least the program to run");
  const std::string& program = args.front();
  if (program.empty()) throw error("run_process: the program name (args[0]) is empty");
  for (std::size_t i = 0; i < args.size(); ++i)
    check_text(args[i], "argument " + std::to_string(i), program);
  check_text(options.cwd, "the working directory", program);
  if (options.env) check_environment(*options.env, program);
  check_environment(options.env_extra, program);
}

spawned_child spawn_child(spawner_thread& spawner, const std::vector<std::string>& args,
                          const process_options& options) {
  const std::string& program = args.front();
  const process_environment vars = child_environment(options);
  check_directory(options.cwd, program);
  const std::string path = program_path(program, vars, options.cwd);
  pipe_ends in = make_pipe(program), out = make_pipe(program), err = make_pipe(program);
  const std::vector<char*> argv = c_strings(args);
  const std::vector<std::string> environment = environment_strings(vars);
  const std::vector<char*> envp = c_strings(environment);
  const ipc::exec_result started = spawner.start({
      .path = path.c_str(),
      .argv = argv.data(),
      .envp = envp.data(),
      .stdio = {in.read.get(), out.write.get(), err.write.get()},
      .cwd = options.cwd.empty() ? nullptr : options.cwd.c_str(),
  });
  if (started.failed != ipc::exec_step::none)
    cannot_run_errno(program, start_failure_context(started.failed, program, path, options.cwd),
                     started.error);
  return {watch(started.pid, program), std::move(in.write), std::move(out.read),
          std::move(err.read)};
}

std::string command_text(const std::vector<std::string>& args) {
  std::string text;
  for (const std::string& arg : args) {
    if (!text.empty()) text += ' ';
    text += arg;
    if (text.size() > longest_command_text) return text.substr(0, longest_command_text) + "...";
  }
  return text;
}

}  // namespace tandem::detail
