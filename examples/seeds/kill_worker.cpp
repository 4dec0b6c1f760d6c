// kill_worker — the seeds' "kill one subprocess" lesson: `kill -9` one
// worker process while it runs a task. Only that task fails (with
// worker_crashed naming the pid and signal); every other task finishes,
// and a replacement worker is forked. (Python's ProcessPoolExecutor breaks
// here: every pending future gets BrokenProcessPool.)
#include <tandem/tandem.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "common/command_line.hpp"

using namespace std::chrono_literals;

// report_pid() works for a while, then says which worker ran it.
const auto report_pid = tandem::define_task<int(int)>("seeds.report_pid", tandem::cpu, [](int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return static_cast<int>(getpid());
});

const char* const usage =
    "usage: kill_worker\n"
    "Runs 6 tasks on 2 worker processes and kill -9s one worker while it runs\n"
    "a task: only that task fails (worker_crashed) and a replacement worker\n"
    "appears. Exits 1 unless 5 tasks finish and 1 fails.\n";

int run(const examples::no_options&) {
  tandem::runtime rt{tandem::runtime_options{.cpu_workers = 2}};
  const std::vector<pid_t> before = rt.cpu_worker_pids();

  std::vector<tandem::future<int>> tasks;
  for (int i = 0; i < 6; ++i) tasks.push_back(rt.submit(report_pid, 300));
  std::this_thread::sleep_for(100ms);  // the first two are running now
  std::printf("kill -9 %d\n", before.front());
  kill(before.front(), SIGKILL);

  int finished = 0, failed = 0;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    try {
      std::printf("task %zu: ran in worker %d\n", i, tasks[i].get());
      ++finished;
    } catch (const tandem::worker_crashed& crash) {
      std::printf("task %zu: %s\n", i, crash.what());
      ++failed;
    }
  }
  std::printf("%d finished, %d failed; workers before %d %d, now", finished, failed, before[0],
              before[1]);
  for (pid_t pid : rt.cpu_worker_pids()) std::printf(" %d", pid);
  std::printf("\n");
  return finished == 5 && failed == 1 ? 0 : 1;
}

int main(int argc, char** argv) {
  return examples::command_line_main("kill_worker", argc, argv, examples::parse_no_options, usage,
                                     run);
}
