// subprocess_capture — running other programs with tandem::runtime::run_process.
//
// Each run_process() call returns a future at once; the programs run side
// by side while the io lane reads their output (no thread waits for them).
// A non-zero exit status is part of the result, not an exception; what
// stops a program from starting at all (it does not exist) is an error in
// its future, and a timeout kills the program.
#include <tandem/tandem.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "common/command_line.hpp"

using namespace std::chrono_literals;

namespace {

void print(const char* what, tandem::future<tandem::process_result> run) {
  try {
    const tandem::process_result r = run.get();
    const std::string& said = r.ok() ? r.out : r.err;  // a failing program says why on stderr
    std::printf("%-27s %s: %s", what, r.status_text().c_str(), said.c_str());
  } catch (const tandem::error& e) {  // could not run, or timed out
    std::printf("%-27s error: %s\n", what, e.what());
  }
}

}  // namespace

const char* const usage =
    "usage: subprocess_capture\n"
    "Runs a few programs with rt.run_process (one missing, one failing, one\n"
    "past its timeout) and prints their captured output and exit statuses.\n";

int run(const examples::no_options&) {
  tandem::runtime rt{tandem::runtime_options{.io_threads = 2}};

  // Started together; each future is read when its turn comes.
  auto uname = rt.run_process({"uname", "-s"});
  auto count = rt.run_process(tandem::shell("printf 'b\\na\\nb\\n' | sort -u | wc -l"));
  auto fails = rt.run_process({"ls", "/no/such/dir"});  // exits with status 2, says why on stderr
  auto missing = rt.run_process({"no-such-program-here"});
  auto slow = rt.run_process({"sleep", "10"}, {.timeout = 200ms});
  auto fed = rt.run_process({"tr", "a-z", "A-Z"}, {.stdin_data = "shout this\n"});

  print("uname -s", std::move(uname));
  print("sh: sort -u | wc -l", std::move(count));
  print("ls /no/such/dir", std::move(fails));
  print("no-such-program-here", std::move(missing));
  print("sleep 10 (200 ms timeout)", std::move(slow));
  print("tr a-z A-Z < 'shout this'", std::move(fed));

  // Output can also be streamed as it comes instead of kept.
  std::size_t lines = 0;
  rt.run_process({"seq", "1", "1000"}, {.on_stdout =
                                            [&](std::string_view chunk) {
                                              for (char c : chunk) lines += c == '\n';
                                            }})
      .get();
  std::printf("%-27s %zu lines\n", "seq 1 1000, streamed", lines);
  return 0;
}

int main(int argc, char** argv) {
  return examples::command_line_main("subprocess_capture", argc, argv, examples::parse_no_options,
                                     usage, run);
}
