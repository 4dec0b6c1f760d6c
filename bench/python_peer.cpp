#include "python_peer.hpp"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <thread>

namespace tandem::bench {

namespace {

// parse_figures() reads the `"name": number` pairs of a flat JSON object.
figures parse_figures(const std::string& text) {
  figures got;
  std::size_t at = 0;
  while ((at = text.find('"', at)) != std::string::npos) {
    const std::size_t end = text.find('"', at + 1);
    if (end == std::string::npos) break;
    std::size_t value = text.find_first_not_of(" \t", end + 1);
    if (value == std::string::npos || text[value] != ':') {
      at = end + 1;
      continue;
    }
    const char* number = text.c_str() + value + 1;
    char* stop = nullptr;
    const double parsed = std::strtod(number, &stop);
    if (stop != number) got[text.substr(at + 1, end - at - 1)] = parsed;
    at = end + 1;
  }
  return got;
}

}  // namespace

bool python_available() {
#ifdef TANDEM_PYTHON3
  return true;
#else
  return false;
#endif
}

figures run_command(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  std::string output;
  char chunk[256];
  while (pipe && std::fgets(chunk, sizeof chunk, pipe.get())) output += chunk;
  const int status = pipe ? pclose(pipe.release()) : -1;
  figures got = parse_figures(output);
  if (status != 0 || got.empty())
    throw std::runtime_error("peer process failed (status " + std::to_string(status) +
                             "): " + command + "\noutput: " + output);
  return got;
}

implementation process_peer(const std::string& impl, std::function<figures()> run) {
  return {impl, [run = std::move(run)] {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            return run();
          }};
}

figures run_python(const std::string& script, const std::vector<std::string>& args) {
#ifdef TANDEM_PYTHON3
  // multiprocessing.Pool can hang for good after a worker is killed (in
  // terminate(), past the script's own timeouts): bounded, a hang is a
  // failed peer, never a stuck benchmark.
  std::string command = std::string("timeout -k 5 120 '") + TANDEM_PYTHON3 + "' '" +
                        TANDEM_BENCH_PEERS_DIR + "/" + script + "'";
  for (const auto& arg : args) command += " " + arg;
  return run_command(command);
#else
  (void)args;
  throw std::runtime_error("python peer " + script + " run without python3");
#endif
}

void add_python(harness& h, std::vector<implementation>& impls, const std::string& impl,
                const std::string& script, const std::vector<std::string>& args) {
  if (!python_available()) {
    h.skip(impl, "python3 was not found when configuring");
    return;
  }
  impls.push_back(process_peer(impl, [script, args] { return run_python(script, args); }));
}

}  // namespace tandem::bench
