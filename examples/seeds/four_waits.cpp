// four_waits — the seeds' first lesson: four calls that each block for
// half a second take the time of one when they run side by side.
//
// Python: four threads doing time.sleep(0.5) finish in ~0.5 s, not 2 s.
// tandem: mark blocking work tandem::io_blocking; it runs on the io
// lane's blocking threads, never on a worker that other tasks need.
#include <tandem/tandem.hpp>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "common/command_line.hpp"

using namespace std::chrono_literals;
using stopwatch = std::chrono::steady_clock;

namespace {

double seconds_since(stopwatch::time_point start) {
  return std::chrono::duration<double>(stopwatch::now() - start).count();
}

void blocking_call() { std::this_thread::sleep_for(500ms); }  // a slow service, a disk

}  // namespace

const char* const usage =
    "usage: four_waits\n"
    "Makes four calls that each block for 0.5 s, one by one, then side by side\n"
    "as io_blocking tasks, and prints both times. Exits 1 unless side by side\n"
    "is faster.\n";

int run(const examples::no_options&) {
  tandem::runtime rt;

  auto start = stopwatch::now();
  for (int i = 0; i < 4; ++i) blocking_call();
  const double one_by_one = seconds_since(start);

  start = stopwatch::now();
  std::vector<tandem::future<void>> calls;
  for (int i = 0; i < 4; ++i) calls.push_back(rt.submit(tandem::io_blocking, blocking_call));
  for (auto& call : calls) call.get();
  const double side_by_side = seconds_since(start);

  std::printf("4 blocking calls one by one:   %.2f s\n", one_by_one);
  std::printf("4 blocking calls side by side: %.2f s\n", side_by_side);
  return side_by_side < one_by_one ? 0 : 1;
}

int main(int argc, char** argv) {
  return examples::command_line_main("four_waits", argc, argv, examples::parse_no_options, usage,
                                     run);
}
