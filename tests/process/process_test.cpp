// run_process: exit codes and signals, timeouts, large outputs, stdin, cwd
// and env, errors that name the program, shell(), streaming callbacks, many
// processes at once, cancel and shutdown — and nothing left behind: no
// child, no zombie, no descriptor, no thread.
#include "tandem/process.hpp"
#include "tandem/runtime.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "support/cpu_tasks.hpp"
#include "support/process_census.hpp"
#include "support/scheduling_report.hpp"

using namespace std::chrono_literals;
using tandem::test::process_exists;

namespace {

const tandem::runtime_options two_threads{.io_threads = 2};

// census() is what this process holds now. A thread is started first, so
// that ThreadSanitizer's helper thread (started with the first thread of
// the process) is counted already.
tandem::test::process_census census() {
  std::thread([] {}).join();
  return {};
}

// expect_nothing_left() checks that, the runtime gone, this process holds
// what it held `before` and has no child, not even a zombie.
void expect_nothing_left(const tandem::test::process_census& before) {
  CHECK(tandem::test::no_children());
  const auto after = tandem::test::process_census::settled(before);
  CHECK(after.fds == before.fds);
  CHECK(after.threads == before.threads);
}

// gone_within() waits up to `limit` for `pid` to stop existing.
bool gone_within(pid_t pid, std::chrono::milliseconds limit) {
  return tandem::test::eventually([&] { return !process_exists(pid); }, limit);
}

std::string numbers_up_to(int last) {
  std::string text;
  for (int i = 1; i <= last; ++i) text += std::to_string(i) + "\n";
  return text;
}

// child_scheduling() is the scheduling of a child that `rt` starts from
// the calling thread.
tandem::test::reported_scheduling child_scheduling(tandem::runtime& rt) {
  const auto report = rt.run_process({"cat", "/proc/self/status", "/proc/self/stat"}).get();
  REQUIRE(report.ok());
  return tandem::test::read_report(report.out);
}

struct temp_dir {
  std::string path;
  temp_dir() {
    char name[] = "/tmp/tandem-process-XXXXXX";
    REQUIRE(mkdtemp(name) != nullptr);
    path = name;
  }
  ~temp_dir() { rmdir(path.c_str()); }
};

// program_tree is a temporary directory of small scripts, each printing
// `says`; it is removed with everything in it.
struct program_tree : temp_dir {
  program_tree() = default;
  program_tree(const program_tree&) = delete;
  program_tree& operator=(const program_tree&) = delete;
  ~program_tree() { std::filesystem::remove_all(path); }

  void add(const std::string& relative, const std::string& says) const {
    const std::filesystem::path file = std::filesystem::path(path) / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << "#!/bin/sh\necho " << says << "\n";
    std::filesystem::permissions(file, std::filesystem::perms::owner_all);
  }
  std::string directory(const std::string& relative) const {
    std::filesystem::create_directories(std::filesystem::path(path) / relative);
    return path + "/" + relative;
  }
};

// host_directory moves this process to `dir` and back when it goes.
class host_directory {
 public:
  explicit host_directory(const std::string& dir) : old_(std::filesystem::current_path()) {
    std::filesystem::current_path(dir);
  }
  host_directory(const host_directory&) = delete;
  host_directory& operator=(const host_directory&) = delete;
  ~host_directory() { std::filesystem::current_path(old_); }

 private:
  std::filesystem::path old_;
};

tandem::process_options in_dir_with_path(const std::string& cwd, const std::string& path) {
  return {.cwd = cwd, .env_extra = {{"PATH", path}}};
}

// host_running_sleep is a forked host process that runs `sleep 30` with
// run_process (through a shell that execs it, to learn its pid) and waits
// for it, with SIGINT at its default action, as a program without a
// handler; bounded by alarm. The sleep, should it outlive the test, is
// killed when this goes.
class host_running_sleep {
 public:
  host_running_sleep() {
    int report[2];
    REQUIRE(pipe(report) == 0);
    host_ = fork();
    REQUIRE(host_ >= 0);
    if (host_ == 0) run(report[1]);
    close(report[1]);
    char text[32] = {};
    const ssize_t n = read(report[0], text, sizeof text - 1);
    close(report[0]);
    sleep_ = n > 0 ? std::atoi(text) : 0;
  }
  host_running_sleep(const host_running_sleep&) = delete;
  host_running_sleep& operator=(const host_running_sleep&) = delete;
  ~host_running_sleep() {
    if (sleep_ > 0 && process_exists(sleep_)) kill(sleep_, SIGKILL);
    if (host_ <= 0) return;
    kill(host_, SIGKILL);
    waitpid(host_, nullptr, 0);
  }

  pid_t sleep_pid() const { return sleep_; }
  // kill_host() signals the host and returns how it ended.
  int kill_host(int signal) {
    REQUIRE(kill(host_, signal) == 0);
    int status = 0;
    REQUIRE(waitpid(std::exchange(host_, 0), &status, 0) > 0);
    return status;
  }

 private:
  [[noreturn]] static void run(int report) {
    alarm(30);
    signal(SIGINT, SIG_DFL);
    try {
      tandem::runtime rt{two_threads};
      rt.run_process(tandem::shell("echo $$; exec sleep 30"),
                     {.on_stdout =
                          [report](std::string_view pid) {
                            if (write(report, pid.data(), pid.size()) < 0) _exit(2);
                          }})
          .get();
    } catch (...) {
    }
    _exit(1);
  }

  pid_t host_ = 0;
  pid_t sleep_ = 0;
};

}  // namespace

TEST_CASE("exit statuses are results, not exceptions; check() turns them into errors" *
          doctest::timeout(60)) {
  const tandem::test::process_census before = census();
  {
    tandem::runtime rt{two_threads};
    const auto success = rt.run_process({"true"}).get();
    CHECK(success.ok());
    CHECK(success.exit_code == 0);
    CHECK_FALSE(success.signal);
    CHECK(success.args == std::vector<std::string>{"true"});

    const auto three = rt.run_process({"sh", "-c", "echo oops >&2; exit 3"}).get();
    CHECK_FALSE(three.ok());
    CHECK(three.exit_code == 3);
    CHECK(three.err == "oops\n");
    CHECK(three.status_text() == "exited with status 3");
    CHECK_THROWS_WITH_AS(three.check(),
                         "process 'sh -c echo oops >&2; exit 3' exited with status 3: oops",
                         tandem::error);

    CHECK_THROWS_WITH_AS(rt.run_process({"false"}, {.check = true}).get(),
                         doctest::Contains("'false' exited with status 1"), tandem::error);
    CHECK_NOTHROW(rt.run_process({"true"}, {.check = true}).get().check());
  }
  expect_nothing_left(before);
}

TEST_CASE("a process killed by a signal reports the signal" * doctest::timeout(60)) {
  tandem::runtime rt{two_threads};
  const auto segv = rt.run_process({"sh", "-c", "kill -SEGV $$"}).get();
  CHECK(segv.signal == SIGSEGV);
  CHECK_FALSE(segv.exit_code);
  CHECK_FALSE(segv.ok());
  const auto killed = rt.run_process(tandem::shell("kill -9 $$")).get();
  CHECK(killed.signal == SIGKILL);
  CHECK(killed.status_text() == "was killed by signal 9 (Killed)");
}

TEST_CASE("past its timeout a process and its process group are killed: task_timeout" *
          doctest::timeout(60)) {
  const tandem::test::process_census before = census();
  std::string pids;  // the shell's and its background child's
  {
    tandem::runtime rt{two_threads};
    const auto started = std::chrono::steady_clock::now();
    auto f = rt.run_process(
        tandem::shell("sleep 300 & echo $$ $!; wait"),
        {.on_stdout = [&](std::string_view chunk) { pids += chunk; }, .timeout = 300ms});
    CHECK_THROWS_WITH_AS(f.get(), doctest::Contains("ran past its timeout of 300 ms"),
                         tandem::task_timeout);
    CHECK(std::chrono::steady_clock::now() - started < 10s);
  }
  int shell_pid = 0, sleep_pid = 0;
  REQUIRE(std::sscanf(pids.c_str(), "%d %d", &shell_pid, &sleep_pid) == 2);
  CHECK_FALSE(process_exists(shell_pid));
  CHECK(gone_within(sleep_pid, 5000ms));  // reparented on its parent's death: init reaps it
  expect_nothing_left(before);
}

TEST_CASE("100 MiB on stdout while stderr is written before and after: exact, no deadlock" *
          doctest::timeout(180)) {
  tandem::runtime rt{two_threads};
  constexpr std::size_t mib = std::size_t{1} << 20;
  const auto r = rt.run_process(tandem::shell("head -c 1048576 /dev/zero >&2; "
                                              "head -c 104857600 /dev/zero; "
                                              "head -c 1048576 /dev/zero >&2"))
                     .get();
  CHECK(r.ok());
  CHECK(r.out.size() == 100 * mib);
  CHECK(r.err.size() == 2 * mib);
  CHECK(r.out.find_first_not_of('\0') == std::string::npos);
}

TEST_CASE("stdin_data round-trips through cat; without it the child reads end-of-file" *
          doctest::timeout(60)) {
  tandem::runtime rt{two_threads};
  std::string data;
  for (int i = 0; data.size() < (std::size_t{3} << 20); ++i) data += std::to_string(i) + ",";
  CHECK(rt.run_process({"cat"}, {.stdin_data = data}).get().out == data);
  CHECK(rt.run_process({"cat"}).get().out.empty());
}

TEST_CASE("a child that does not read its stdin neither blocks nor kills the host (SIGPIPE)" *
          doctest::timeout(60)) {
  tandem::runtime rt{two_threads};
  const std::string data(std::size_t{8} << 20, 'x');
  for (int i = 0; i < 5; ++i) CHECK(rt.run_process({"true"}, {.stdin_data = data}).get().ok());
  CHECK(rt.run_process({"head", "-c", "10"}, {.stdin_data = data}).get().out == "xxxxxxxxxx");
}

TEST_CASE("cwd sets the working directory; a missing one is an error naming it" *
          doctest::timeout(60)) {
  tandem::runtime rt{two_threads};
  const temp_dir dir;
  CHECK(rt.run_process({"pwd"}, {.cwd = dir.path}).get().out == dir.path + "\n");
  const std::string missing = dir.path + "/nope";
  CHECK_THROWS_WITH_AS(rt.run_process({"pwd"}, {.cwd = missing}).get(),
                       doctest::Contains(("cannot run 'pwd': working directory '" + missing +
                                          "': No such file or directory")
                                             .c_str()),
                       tandem::error);
}

TEST_CASE("relative PATH entries and program paths are taken from cwd, as cd cwd && exec" *
          doctest::timeout(60)) {
  tandem::runtime rt{two_threads};
  const program_tree tree;
  tree.add("pathdir/bin/hello", "pathdir");
  tree.add("pathdir/tool", "tool");
  tree.add("pathdir/sub/tool", "sub-tool");
  const std::string pathdir = tree.path + "/pathdir";
  const host_directory host(tree.path);  // which has no bin/hello of its own

  const auto hello = [&](const tandem::process_options& options) {
    return rt.run_process({"hello"}, options).get().out;
  };
  CHECK(hello(in_dir_with_path(pathdir, "bin:/usr/bin:/bin")) == "pathdir\n");
  CHECK(hello(in_dir_with_path(pathdir + "/bin", ":/usr/bin:/bin")) == "pathdir\n");
  CHECK(hello(in_dir_with_path(pathdir + "/bin", "/usr/bin:/bin:")) == "pathdir\n");
  CHECK(hello(in_dir_with_path("pathdir", "bin:/usr/bin:/bin")) == "pathdir\n");
  CHECK(hello(in_dir_with_path("", "pathdir/bin:/usr/bin")) == "pathdir\n");  // no cwd: the host's
  CHECK(rt.run_process({"./tool"}, {.cwd = pathdir}).get().out == "tool\n");
  CHECK(rt.run_process({"sub/tool"}, {.cwd = pathdir}).get().out == "sub-tool\n");
  CHECK(rt.run_process({pathdir + "/tool"}, {.cwd = "/"}).get().out == "tool\n");
}

TEST_CASE("a program not found from cwd is an error naming that working directory" *
          doctest::timeout(60)) {
  tandem::runtime rt{two_threads};
  const program_tree tree;
  tree.add("pathdir/bin/hello", "pathdir");
  tree.add("pathdir/tool", "tool");
  const std::string empty = tree.directory("empty");
  const host_directory host(tree.path + "/pathdir");  // where the host would wrongly find both

  CHECK_THROWS_WITH_AS(
      rt.run_process({"hello"}, in_dir_with_path(empty, "bin:/usr/bin:/bin")).get(),
      ("cannot run 'hello': no executable of that name in PATH (bin:/usr/bin:/bin); relative "
       "entries taken from working directory '" +
       empty + "'")
          .c_str(),
      tandem::error);
  CHECK_THROWS_WITH_AS(
      rt.run_process({"./tool"}, {.cwd = empty}).get(),
      ("cannot run './tool': from working directory '" + empty + "': No such file or directory")
          .c_str(),
      tandem::error);
  CHECK_THROWS_WITH_AS(rt.run_process({"hello"}, in_dir_with_path(empty, "/nonexistent")).get(),
                       "cannot run 'hello': no executable of that name in PATH (/nonexistent)",
                       tandem::error);
  CHECK(tandem::test::no_children());
}

TEST_CASE("env replaces the environment, env_extra adds to it; PATH comes from the result" *
          doctest::timeout(60)) {
  tandem::runtime rt{two_threads};
  CHECK(rt.run_process({"/usr/bin/env"}, {.env = tandem::process_environment{{"A", "1"}}})
            .get()
            .out == "A=1\n");
  const auto extended =
      rt.run_process({"env"}, {.env_extra = {{"TANDEM_EXTRA", "two words"}}}).get().out;
  CHECK(extended.find("TANDEM_EXTRA=two words\n") != std::string::npos);
  CHECK(extended.find("PATH=") != std::string::npos);  // the host's, kept
  CHECK_THROWS_WITH_AS(
      rt.run_process({"env"}, {.env = tandem::process_environment{{"PATH", "/nonexistent"}}}).get(),
      "cannot run 'env': no executable of that name in PATH (/nonexistent)", tandem::error);
}

TEST_CASE("a program that cannot be run is a tandem::error naming it" * doctest::timeout(60)) {
  tandem::runtime rt{two_threads};
  CHECK_THROWS_WITH_AS(rt.run_process({"tandem-no-such-program", "x"}).get(),
                       doctest::Contains("cannot run 'tandem-no-such-program'"), tandem::error);
  CHECK_THROWS_WITH_AS(rt.run_process({"/nonexistent/prog"}).get(),
                       "cannot run '/nonexistent/prog': No such file or directory", tandem::error);
  const temp_dir dir;
  const std::string script = dir.path + "/not-executable";
  std::fclose(std::fopen(script.c_str(), "w"));
  CHECK_THROWS_WITH_AS(rt.run_process({script}).get(), doctest::Contains("Permission denied"),
                       tandem::error);
  unlink(script.c_str());
  CHECK(tandem::test::no_children());
}

TEST_CASE("bad arguments land in the future, never thrown by run_process" * doctest::timeout(60)) {
  tandem::runtime rt{two_threads};
  auto empty = rt.run_process({});
  CHECK(empty.is_ready());
  CHECK_THROWS_WITH_AS(empty.get(), doctest::Contains("argument list is empty"), tandem::error);
  CHECK_THROWS_WITH_AS(rt.run_process({""}).get(), doctest::Contains("program name"),
                       tandem::error);
  CHECK_THROWS_WITH_AS(rt.run_process({"echo", std::string("a\0b", 3)}).get(),
                       doctest::Contains("argument 1 contains a NUL byte"), tandem::error);
  CHECK_THROWS_WITH_AS(rt.run_process({"env"}, {.env_extra = {{"A=B", "1"}}}).get(),
                       doctest::Contains("'A=B' is empty or contains '='"), tandem::error);
}

TEST_CASE("shell() runs /bin/sh -c; without it a '|' is just an argument" * doctest::timeout(60)) {
  tandem::runtime rt{two_threads};
  CHECK(rt.run_process(tandem::shell("printf 'a\\nb\\nc\\n' | grep -c .")).get().out == "3\n");
  CHECK(rt.run_process({"echo", "a | grep b"}).get().out == "a | grep b\n");
}

TEST_CASE("callbacks get each stream in order, whole, one call at a time, not in the result" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 4}};
  std::string out, err;
  std::atomic<int> inside{0};
  bool overlapped = false;
  auto collect = [&](std::string& into) {
    return [&](std::string_view chunk) {
      overlapped |= ++inside > 1;
      into += chunk;
      --inside;
    };
  };
  const auto r = rt.run_process(tandem::shell("seq 1 100000; seq 1 50000 >&2; seq 100001 200000"),
                                {.on_stdout = collect(out), .on_stderr = collect(err)})
                     .get();
  CHECK(r.ok());
  CHECK(r.out.empty());
  CHECK(r.err.empty());
  CHECK(out == numbers_up_to(200000));
  CHECK(err == numbers_up_to(50000));
  CHECK_FALSE(overlapped);
}

TEST_CASE("a callback that throws kills the process; the future holds its exception" *
          doctest::timeout(60)) {
  const tandem::test::process_census before = census();
  {
    tandem::runtime rt{two_threads};
    auto f = rt.run_process(
        {"yes"}, {.on_stdout = [](std::string_view) { throw std::runtime_error("seen enough"); }});
    CHECK_THROWS_WITH_AS(f.get(), "seen enough", std::runtime_error);
  }
  expect_nothing_left(before);
}

TEST_CASE("50 processes at once all finish with their own output" * doctest::timeout(120)) {
  const tandem::test::process_census before = census();
  {
    tandem::runtime rt{two_threads};
    std::vector<tandem::future<tandem::process_result>> runs;
    for (int i = 0; i < 50; ++i)
      runs.push_back(
          rt.run_process({"sh", "-c", "echo $1; echo e$1 >&2", "sh", std::to_string(i)}));
    for (int i = 0; i < 50; ++i) {
      const auto r = runs[i].get();
      CHECK(r.out == std::to_string(i) + "\n");
      std::string err = "e";  // appended: GCC 12 warns falsely on "e" + std::to_string(i)
      err += std::to_string(i) + "\n";
      CHECK(r.err == err);
    }
  }
  expect_nothing_left(before);
}

TEST_CASE("the child gets pipes and no other descriptor, a clean signal state, its own group" *
          doctest::timeout(60)) {
  tandem::runtime rt{two_threads};
  const int inheritable = open("/dev/null", O_RDONLY);  // no O_CLOEXEC: closefrom must catch it
  REQUIRE(dup2(inheritable, 100) == 100);
  CHECK(rt.run_process({"ls", "/proc/self/fd"}).get().out == "0\n1\n2\n3\n");  // 3: ls's own
  close(100);
  close(inheritable);

  struct sigaction ignore {
  }, old{};
  ignore.sa_handler = SIG_IGN;
  REQUIRE(sigaction(SIGPIPE, &ignore, &old) == 0);
  sigset_t usr1, old_mask;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  REQUIRE(pthread_sigmask(SIG_BLOCK, &usr1, &old_mask) == 0);
  const auto status = rt.run_process({"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"}).get();
  REQUIRE(pthread_sigmask(SIG_SETMASK, &old_mask, nullptr) == 0);
  REQUIRE(sigaction(SIGPIPE, &old, nullptr) == 0);
  unsigned long long blocked = 1, ignored = 1;
  REQUIRE(std::sscanf(status.out.c_str(), "SigBlk: %llx SigIgn: %llx", &blocked, &ignored) == 2);
  CHECK(blocked == 0);
  CHECK(ignored == 0);  // glibc's internal 32 and 33 included

  const auto group = rt.run_process(tandem::shell("cut -d' ' -f1,5 /proc/$$/stat")).get().out;
  const auto space = group.find(' ');
  REQUIRE(space != std::string::npos);
  CHECK(group.substr(0, space) + "\n" == group.substr(space + 1));  // pgid == pid
}

TEST_CASE("cancel() cannot stop a running process; cancel(kill_running) kills it" *
          doctest::timeout(60)) {
  const tandem::test::process_census before = census();
  {
    tandem::runtime rt{two_threads};
    auto f = rt.run_process({"sleep", "30"});
    CHECK_FALSE(f.cancel());
    const auto started = std::chrono::steady_clock::now();
    CHECK(f.cancel(tandem::kill_running));
    CHECK_THROWS_WITH_AS(f.get(), doctest::Contains("'sleep 30' cancelled while running"),
                         tandem::task_cancelled);
    CHECK(std::chrono::steady_clock::now() - started < 10s);
    auto done = rt.run_process({"true"});
    done.wait();
    CHECK_FALSE(done.cancel(tandem::kill_running));
  }
  expect_nothing_left(before);
}

TEST_CASE("shutdown(cancel) kills running processes at once; every future resolves" *
          doctest::timeout(60)) {
  const tandem::test::process_census before = census();
  std::vector<tandem::future<tandem::process_result>> runs;
  {
    tandem::runtime rt{two_threads};
    for (int i = 0; i < 3; ++i) runs.push_back(rt.run_process({"sleep", "30"}));
    std::this_thread::sleep_for(100ms);
    const auto started = std::chrono::steady_clock::now();
    rt.shutdown(tandem::cancel);
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    for (auto& f : runs) CHECK(f.is_ready());
  }
  for (auto& f : runs)
    CHECK_THROWS_WITH_AS(f.get(), doctest::Contains("shut down with tandem::cancel"),
                         tandem::task_cancelled);
  expect_nothing_left(before);
}

// shutdown(cancel) once held the table's lock while it let go of a runner
// whose child was already killed and reaped: the runner's destructor then
// waited for that lock, on the shutting-down thread itself. The window is
// short, so this takes many runners through it, on a busy machine.
TEST_CASE("shutdown(cancel) of many running processes, again and again, never deadlocks" *
          doctest::timeout(120)) {
  const tandem::test::process_census before = census();
  for (int round = 0; round < 20; ++round) {
    std::vector<tandem::future<tandem::process_result>> runs;
    tandem::runtime rt{two_threads};
    for (int i = 0; i < 8; ++i) runs.push_back(rt.run_process({"sleep", "30"}));
    std::this_thread::sleep_for(std::chrono::milliseconds(round % 4 * 5));
    rt.shutdown(tandem::cancel);
    for (auto& f : runs) CHECK_THROWS_AS(f.get(), tandem::task_cancelled);
  }
  expect_nothing_left(before);
}

TEST_CASE("shutdown(drain) waits for running processes and their continuations" *
          doctest::timeout(60)) {
  tandem::future<std::string> out;
  {
    tandem::runtime rt{two_threads};
    out = rt.run_process(tandem::shell("sleep 0.3; echo done")).then([](tandem::process_result r) {
      return r.out;
    });
  }
  CHECK(out.get() == "done\n");
  CHECK(tandem::test::no_children());
}

TEST_CASE("a host killed by SIGKILL takes its running process with it" * doctest::timeout(60)) {
  host_running_sleep host;
  REQUIRE(host.sleep_pid() > 0);
  REQUIRE(process_exists(host.sleep_pid()));
  const int status = host.kill_host(SIGKILL);
  CHECK(WIFSIGNALED(status));
  CHECK(gone_within(host.sleep_pid(), 2000ms));
}

TEST_CASE("a host killed by SIGINT (no handler) takes its running process with it" *
          doctest::timeout(60)) {
  host_running_sleep host;
  REQUIRE(host.sleep_pid() > 0);
  const int status = host.kill_host(SIGINT);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGINT);
  CHECK(gone_within(host.sleep_pid(), 2000ms));
}

// Children are started by one thread, which the first run_process() call
// starts with its own scheduling: a later child must still get its caller's.
TEST_CASE("a child gets the CPU affinity of the thread calling run_process, not the first's" *
          doctest::timeout(60)) {
  cpu_set_t allowed;
  REQUIRE(sched_getaffinity(0, sizeof allowed, &allowed) == 0);
  if (CPU_COUNT(&allowed) < 2) {
    MESSAGE("skipped: this thread may run on one CPU only");
    return;
  }
  int first_cpu = 0;
  while (!CPU_ISSET(first_cpu, &allowed)) ++first_cpu;
  tandem::runtime rt{two_threads};
  std::thread([&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first_cpu, &one);
    REQUIRE(sched_setaffinity(0, sizeof one, &one) == 0);
    CHECK(child_scheduling(rt).cpus == std::to_string(first_cpu));
  }).join();
  CHECK(child_scheduling(rt).cpus == tandem::test::this_threads_cpus());
}

TEST_CASE("a child gets the nice value of the thread calling run_process, not the first's" *
          doctest::timeout(60)) {
  tandem::runtime rt{two_threads};
  const int own_nice = tandem::test::this_threads_nice();
  CHECK(child_scheduling(rt).nice == own_nice);
  const int nicer = std::min(own_nice + 5, 19);
  std::thread([&] {
    REQUIRE(setpriority(PRIO_PROCESS, 0, nicer) == 0);  // this thread's alone
    CHECK(child_scheduling(rt).nice == nicer);
  }).join();
}

// The first caller here leaves the runtime's spawner thread at nice -3,
// which a clone() child of it would keep.
TEST_CASE("under SCHED_RESET_ON_FORK a child gets no negative nice value, as from fork()" *
          doctest::timeout(60)) {
  tandem::runtime rt{two_threads};
  const auto at_nice_minus_3 = [&](int policy) {
    const sched_param no_priority{};
    REQUIRE(sched_setscheduler(0, policy, &no_priority) == 0);
    return setpriority(PRIO_PROCESS, 0, -3) == 0;
  };
  bool privileged = false;
  std::thread([&] {
    privileged = at_nice_minus_3(SCHED_OTHER);
    if (privileged) CHECK(child_scheduling(rt).nice == -3);
  }).join();
  if (!privileged) {
    MESSAGE("skipped: a negative nice value needs CAP_SYS_NICE");
    return;
  }
  std::thread([&] {
    REQUIRE(at_nice_minus_3(SCHED_OTHER | SCHED_RESET_ON_FORK));
    CHECK(child_scheduling(rt).nice == 0);
  }).join();
}

// A child dies with the thread that started it (PR_SET_PDEATHSIG), so
// run_process must not start it on the caller's thread.
TEST_CASE("a process started from a thread that then exits runs to its end" *
          doctest::timeout(60)) {
  tandem::runtime rt{two_threads};
  tandem::future<tandem::process_result> run;
  std::thread([&] { run = rt.run_process(tandem::shell("sleep 0.5; echo done")); }).join();
  const tandem::process_result result = run.get();
  CHECK(result.exit_code == 0);
  CHECK(result.out == "done\n");
}

TEST_CASE("get() on a process inside an io task works on a single io thread" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 1}};
  auto nested = rt.submit(tandem::io, [&rt] { return rt.run_process({"echo", "hi"}).get().out; });
  CHECK(nested.get() == "hi\n");
}

TEST_CASE("run_process after shutdown began is refused with runtime_stopped" *
          doctest::timeout(60)) {
  tandem::runtime rt{two_threads};
  rt.shutdown();
  CHECK_THROWS_AS(rt.run_process({"true"}).get(), tandem::runtime_stopped);
}
