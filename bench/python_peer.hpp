// python_peer.hpp — runs a Python peer script from bench/peers/ and reads
// the figures it measured itself.
//
// A script prints one flat JSON object of numbers on stdout, e.g.
// {"ms": 12.5} or {"p50_us": 80.1, "p99_us": 140.2}, timed inside Python so
// that interpreter start-up is never counted. The script runs as a child
// process, which is reaped before run_python() returns, also when it fails,
// and which is sent SIGTERM if the benchmark dies first (Ctrl-C, SIGTERM, a
// crash): no peer outlives its benchmark.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "harness.hpp"

namespace tandem::bench {

// python_available() is false when no python3 was found at configure time:
// the Python peers are then skipped with a printed line.
bool python_available();

// run_command() runs a shell command, one program and its arguments (the
// shell execs it, so that it is the process sent SIGTERM should the
// benchmark die), that prints such a JSON object and returns its figures;
// throws std::runtime_error (with the command and its output) when the
// command fails or prints no figure.
figures run_command(const std::string& command);

// process_peer() is implementation `impl` that runs `run` (a peer in a
// process of its own) after a 5 ms pause that lets the previous
// implementation's processes go idle.
implementation process_peer(const std::string& impl, std::function<figures()> run);

// run_python() runs bench/peers/`script` with `args` and returns every
// "name": number pair of the JSON object it printed. Throws
// std::runtime_error (with the command and its output) when the script
// fails or prints no figure: no figure is made up.
figures run_python(const std::string& script, const std::vector<std::string>& args);

// add_python() appends to `impls` a process_peer() that runs `script` with
// `args`, or, without python3, records in `h` why it is skipped.
void add_python(harness& h, std::vector<implementation>& impls, const std::string& impl,
                const std::string& script, const std::vector<std::string>& args);

}  // namespace tandem::bench
