#include "tcmalloc_peer.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <stdexcept>

#include "python_peer.hpp"

namespace tandem::bench {

namespace {

constexpr const char* tcmalloc_library = "libtcmalloc_minimal.so.4";

std::string self_path() {
  char path[4096];
  const ssize_t length = readlink("/proc/self/exe", path, sizeof path - 1);
  if (length <= 0) throw std::runtime_error("cannot read /proc/self/exe");
  return std::string(path, static_cast<std::size_t>(length));
}

// child_command() is the shell command that runs this binary as a child
// with `args`, under tcmalloc, bounded in time like the Python peers.
std::string child_command(const std::vector<std::string>& args) {
  std::string command = std::string("LD_PRELOAD=") + tcmalloc_library + " timeout -k 5 120 '" +
                        self_path() + "' " + tcmalloc_child_flag;
  for (const auto& arg : args) command += " " + arg;
  return command;
}

}  // namespace

bool running_on_tcmalloc() { return dlsym(RTLD_DEFAULT, "tc_malloc") != nullptr; }

void add_tcmalloc_peer(harness& h, std::vector<implementation>& impls, const std::string& impl,
                       const std::vector<std::string>& args) {
  try {
    run_command(child_command({"check"}) + " 2>/dev/null");
  } catch (const std::exception&) {
    h.skip(impl, std::string(tcmalloc_library) +
                     " could not be preloaded (Debian package libtcmalloc-minimal4)");
    return;
  }
  impls.push_back(
      process_peer(impl, [command = child_command(args)] { return run_command(command); }));
}

}  // namespace tandem::bench
