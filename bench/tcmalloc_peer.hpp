// tcmalloc_peer.hpp — runs one of a benchmark's own workloads again in a
// child process of the same binary, with gperftools' tcmalloc (Debian's
// libtcmalloc-minimal4) preloaded in place of glibc's malloc.
//
// Why: an Asio coroutine costs several small allocations (its frame, the
// frames and operations of what it awaits) that one thread makes and
// another frees. glibc's malloc returns such a block to the arena of the
// thread that allocated it, under that arena's lock, and its lock never
// spins: on two cores with three busy threads, most of those frees and
// mallocs end in futex calls (bench/io_lane.cpp, timers_100k). A
// thread-caching allocator frees into the freeing thread's own cache. The
// row it adds shows what the allocator costs, beside the in-process (glibc)
// row, in one run.
#pragma once

#include <string>
#include <vector>

#include "harness.hpp"

namespace tandem::bench {

// tcmalloc_child_flag is argv[1] of such a child; the rest of argv is the
// workload's, as the parent gave it to add_tcmalloc_peer().
inline constexpr const char* tcmalloc_child_flag = "--tcmalloc-child";

// add_tcmalloc_peer() appends `impl`, which runs this binary as
// `<self> --tcmalloc-child ARGS...` with tcmalloc preloaded and returns the
// figures the child printed (a flat JSON object, as the Python peers do),
// or records in `h` why it is skipped (tcmalloc is not installed).
void add_tcmalloc_peer(harness& h, std::vector<implementation>& impls, const std::string& impl,
                       const std::vector<std::string>& args);

// running_on_tcmalloc() is true in a process whose malloc is tcmalloc's.
// A child checks it first: the loader only warns when it cannot preload,
// and a figure taken on glibc must never pass for a tcmalloc one.
bool running_on_tcmalloc();

}  // namespace tandem::bench
