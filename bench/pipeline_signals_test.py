#!/usr/bin/env python3
"""pipeline_signals_test: bench/pipeline --quick, stopped by a signal.

SIGTERM, and Ctrl-C (SIGINT to its process group), while the Python peer
runs: the benchmark dies of the signal, no process of the peer (its
`timeout`, the interpreter, its pool) is left, and its temporary directory
is gone. The interpreter and its pool are stopped (SIGSTOP) first, so that
a peer left behind stays, rather than finishing its work by itself. Then
Ctrl-C twice while the cleanup waits (the zygote and the workers are
stopped, so the runtime's shutdown waits for them): the second one ends the
benchmark at once, and still leaves no file. TMPDIR points the benchmark
at a scratch directory of this test's own.

usage: pipeline_signals_test.py PATH_TO_PIPELINE
"""
import glob
import os
import signal
import subprocess
import sys
import tempfile
import time

failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def processes():
    """{pid: (process group, command line)} of every process, from /proc."""
    found = {}
    for entry in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            found[int(entry)] = (os.getpgid(int(entry)), cmdline)
        except (ValueError, OSError):
            pass
    return found


def members(group, but=None):
    return [pid for pid, (g, _) in processes().items() if g == group and pid != but]


def wait_until(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return False


def signal_all(pids, signal_number):
    for pid in pids:
        try:
            os.kill(pid, signal_number)
        except OSError:
            pass


def start(pipeline, scratch):
    """The benchmark in a session of its own, as a terminal's foreground job."""
    return subprocess.Popen([pipeline, "--quick"], env=dict(os.environ, TMPDIR=scratch),
                            start_new_session=True, stdout=subprocess.DEVNULL)


def end(bench, leftovers):
    signal_all(leftovers, signal.SIGKILL)
    if bench.poll() is None:
        bench.kill()
        bench.wait()


def peer_group(scratch):
    """The process group of the Python peer, led by its `timeout`, or None."""
    for pid, (_, cmdline) in processes().items():
        if cmdline.startswith("timeout ") and "python_logstats.py" in cmdline and scratch in cmdline:
            return pid
    return None


def stopped_while_peer_runs(pipeline, name, signal_number, send):
    with tempfile.TemporaryDirectory() as scratch:
        bench = start(pipeline, scratch)
        stalled = []
        try:
            check(wait_until(lambda: peer_group(scratch) is not None, 90),
                  "%s: the Python peer runs" % name)
            group = peer_group(scratch)
            time.sleep(0.5)  # its pool starts
            stalled = members(group, but=group)
            signal_all(stalled, signal.SIGSTOP)
            send(bench.pid, signal_number)
            bench.wait(30)
            check(bench.returncode == -signal_number,
                  "%s: the benchmark died of it (%s)" % (name, bench.returncode))
            check(wait_until(lambda: not members(group), 5),
                  "%s: no process of the Python peer is left (%d stalled)" % (name, len(stalled)))
            check(os.listdir(scratch) == [], "%s: no file is left (%s)" % (name, os.listdir(scratch)))
        finally:
            end(bench, stalled)


def second_ctrl_c_ends_the_cleanup(pipeline):
    name = "Ctrl-C twice"
    with tempfile.TemporaryDirectory() as scratch:
        bench = start(pipeline, scratch)
        stopped = []
        try:
            check(wait_until(lambda: glob.glob(os.path.join(scratch, "*", "access-*")), 60),
                  "%s: the benchmark writes its logs" % name)
            stopped = members(bench.pid, but=bench.pid)
            signal_all(stopped, signal.SIGSTOP)
            os.killpg(bench.pid, signal.SIGINT)
            time.sleep(0.3)
            check(bench.poll() is None, "%s: the first waits for the stopped workers" % name)
            second = time.monotonic()
            os.killpg(bench.pid, signal.SIGINT)
            bench.wait(30)
            took = time.monotonic() - second
            check(bench.returncode == -signal.SIGINT and took < 1,
                  "%s: the second ends the benchmark at once (%s after %.2f s)" % (
                      name, bench.returncode, took))
            check(os.listdir(scratch) == [], "%s: no file is left (%s)" % (name, os.listdir(scratch)))
        finally:
            end(bench, stopped)


def main():
    pipeline = sys.argv[1]
    stopped_while_peer_runs(pipeline, "SIGTERM", signal.SIGTERM, os.kill)
    stopped_while_peer_runs(pipeline, "Ctrl-C", signal.SIGINT, os.killpg)
    second_ctrl_c_ends_the_cleanup(pipeline)
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
