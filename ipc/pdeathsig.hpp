// pdeathsig.hpp — the one place tandem calls prctl, to tie a process's life
// to its parent's.
//
// A worker must not outlive the runtime that forked it. PR_SET_PDEATHSIG
// asks the kernel to signal us when our parent thread exits; because the
// parent may already be gone by the time we ask, die_with_parent() then
// checks getppid() against the parent we expected and raises the signal
// itself, closing that race. tie_to_parent() does the same for a child
// that shares its parent's memory (one made with clone(CLONE_VM)), which may
// only make system calls. adopt_orphans() (PR_SET_CHILD_SUBREAPER) makes
// orphaned descendants ours to reap instead of init's.
#pragma once

#include <sys/types.h>

namespace tandem::ipc {

// die_with_parent() makes the calling process receive `signal` when its
// parent exits; if `expected_parent` is already gone, it raises `signal` at
// once. Call it in the child right after fork. Throws ipc_error if prctl
// fails.
void die_with_parent(pid_t expected_parent, int signal);

// parent_tie is what tie_to_parent() found.
enum class parent_tie { tied, parent_gone, refused };

// tie_to_parent() is die_with_parent() for a child that shares its parent's
// memory and so must not throw, allocate nor raise() (glibc's raise() would
// signal the parent's thread): it makes raw system calls only, and leaves
// the caller to _exit when the parent is already gone (or prctl refused).
parent_tie tie_to_parent(pid_t expected_parent, int signal) noexcept;

// parent_death_signal() is the signal set by die_with_parent(), 0 if none.
int parent_death_signal();

// adopt_orphans() makes this process the reaper of its orphaned
// descendants. Throws ipc_error if prctl fails.
void adopt_orphans();

}  // namespace tandem::ipc
