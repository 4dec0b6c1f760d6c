// asymmetric_fence.hpp — the two halves of a store-to-load fence, split
// unevenly between two sides: the one place tandem calls membarrier(2).
//
// A Dekker pair (doorbell.hpp: one side stores data then loads the parked
// bit, the other stores the bit then loads the data) needs a full fence on
// each side between its store and its load. On x86 that is a locked
// instruction, which waits until every earlier store has reached the cache:
// a producer publishing a frame waits for the lines the consumer is reading
// to come back, a round trip between cores per publish. The side that runs
// often (the producer) can instead take light_fence(), which only stops the
// compiler, if the side that runs rarely (a consumer about to sleep) takes
// heavy_fence(): Linux's MEMBARRIER_CMD_GLOBAL_EXPEDITED, after which every
// thread of every registered process has run a full barrier, or was not
// running (and a switch is one). So either the light side's store was
// visible before the heavy side's load, or its load comes after the heavy
// side's store.
//
// Registration is per process, survives fork (not exec), and is done by
// the first call of asymmetric_fences_available(): call it in the process
// that builds the shared structure, before it forks the peers that use it.
// A light side in a process that is not registered is not covered.
#pragma once

#include <atomic>

namespace tandem::ipc {

// asymmetric_fences_available() is true when the kernel has
// MEMBARRIER_CMD_GLOBAL_EXPEDITED and this process is registered for it.
// The first call asks the kernel and registers; later calls return the
// answer.
bool asymmetric_fences_available() noexcept;

// light_fence() is the frequent side's half: the compiler keeps the store
// before the load; the processor may still swap them, which heavy_fence()
// on the other side makes harmless.
inline void light_fence() noexcept { std::atomic_signal_fence(std::memory_order_seq_cst); }

// heavy_fence() is the rare side's half, a system call of a few
// microseconds that interrupts the cores running registered processes.
// False when the kernel refused, or asymmetric fences are not available:
// the light sides are then not ordered.
bool heavy_fence() noexcept;

}  // namespace tandem::ipc
