// fork_join — the seeds' os.fork() / os.wait() lesson: start several
// children, let each end with its own status, and collect them all.
//
// In tandem the children are cpu tasks in worker processes and their
// "exit status" is their result; when_all joins them. A child that really
// exits (exit(3)) is reported as worker_crashed with that exit code — and
// its worker is replaced, so the other children are not disturbed.
#include <tandem/tandem.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common/command_line.hpp"

const auto child = tandem::define_task<int(int)>("seeds.child", tandem::cpu, [](int n) {
  if (n == 3) std::exit(3);  // a child that exits the hard way
  return n * 10;             // its status
});

const char* const usage =
    "usage: fork_join\n"
    "Starts five \"children\" as cpu tasks in worker processes and joins their\n"
    "statuses with when_all; one calls exit(3) and is reported with exit code 3.\n"
    "Exits 1 unless exactly that one child exited.\n";

int run(const examples::no_options&) {
  tandem::runtime rt;
  std::vector<tandem::future<int>> children;
  for (int n = 0; n < 5; ++n) children.push_back(rt.submit(child, n));

  auto joined = tandem::when_all(std::move(children)).get();  // waits for every child
  int exited = 0;
  for (std::size_t n = 0; n < joined.size(); ++n) {
    try {
      std::printf("child %zu returned status %d\n", n, joined[n].get());
    } catch (const tandem::worker_crashed& exit) {
      std::printf("child %zu exited with code %d (pid %d)\n", n, exit.exit_code(), exit.pid());
      exited += exit.exit_code() == 3;
    }
  }
  return exited == 1 ? 0 : 1;
}

int main(int argc, char** argv) {
  return examples::command_line_main("fork_join", argc, argv, examples::parse_no_options, usage,
                                     run);
}
