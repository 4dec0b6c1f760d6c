"""cpu_lane's C5 peer: multiprocessing.Pool replacing a killed worker.

usage: python_pool_crash.py WORKERS

Starts Pool(WORKERS), makes every worker busy with a long task (each
counts itself in a shared Value once it runs, so we know all are busy),
then SIGKILLs one worker and submits a trivial task. Prints {"ms": ...}:
from just before os.kill() until the trivial task's result is back, which
needs the Pool to notice the death and fork a replacement (the other
workers are still busy). The killed worker's own task is lost: Pool never
resolves it (a known limitation), so it is not waited for; the pool is
terminated and joined on every path.

Pool exposes no worker pids: the victim is read from Pool._pool, a private
attribute that has been stable since Python 2.6. Standard library only.
"""
import json
import multiprocessing
import os
import signal
import sys
import time

started = None
stop = None


def init(started_value, stop_value):
    global started, stop
    started, stop = started_value, stop_value


def hold(max_s):
    with started.get_lock():
        started.value += 1
    deadline = time.monotonic() + max_s
    while not stop.value and time.monotonic() < deadline:
        time.sleep(0.001)
    return 0


def inc(x):
    return x + 1


def wait_until(condition, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for " + what)
        time.sleep(0.0005)


def measure(pool, workers, started_value, stop_value):
    pool.apply(inc, (1,))
    holds = [pool.apply_async(hold, (10,)) for _ in range(workers)]
    wait_until(lambda: started_value.value == workers, 10, "the workers to be busy")
    victim = pool._pool[0].pid
    start = time.perf_counter()
    os.kill(victim, signal.SIGKILL)
    if pool.apply_async(inc, (1,)).get(timeout=30) != 2:
        raise SystemExit("wrong result")
    elapsed = time.perf_counter() - start
    stop_value.value = 1
    return elapsed, holds


def main():
    workers = int(sys.argv[1])
    started_value = multiprocessing.Value("i", 0)
    stop_value = multiprocessing.Value("i", 0)
    pool = multiprocessing.Pool(workers, initializer=init, initargs=(started_value, stop_value))
    try:
        elapsed, _ = measure(pool, workers, started_value, stop_value)
    finally:
        stop_value.value = 1
        pool.terminate()
        pool.join()
    print(json.dumps({"ms": elapsed * 1e3}))


if __name__ == "__main__":
    main()
