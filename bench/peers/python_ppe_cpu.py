"""cpu_lane's python_ppe peer: concurrent.futures.ProcessPoolExecutor.

usage: python_ppe_cpu.py WORKERS MODE ARGS...

  roundtrip ROUNDS GAP_US   one task in flight: submit(inc, i).result(), ROUNDS
                            times, sleeping GAP_US microseconds before each
                            (0: hot); prints p50_us, p99_us
  throughput TASKS          submit TASKS calls of inc, then result() each;
                            prints tasks_per_s
  batch CHUNKS CHUNK        map(inc, range(CHUNKS * CHUNK), chunksize=CHUNK);
                            prints tasks_per_s counting items
  copy BYTES                submit(echo, a bytes object of BYTES).result();
                            prints ms
  sharedmem BYTES           a multiprocessing.shared_memory block of BYTES:
                            submit(touch, its name).result(), where touch
                            attaches it and flips its first and last byte;
                            prints ms
  startup                   ProcessPoolExecutor(WORKERS) created and its first
                            result received; prints ms
  efficiency TARGET_MS      a pure-Python loop calibrated to TARGET_MS in this
                            process (single_ms), then 4 of them on WORKERS
                            workers (wall_ms); prints efficiency =
                            4 * single_ms / (WORKERS * wall_ms)

Every mode but startup warms the pool up first (its workers are started
and have run a task), and times only the work itself: interpreter start-up
and imports are never counted. Prints one JSON object on stdout. Standard
library only; the pool uses Python's default start method.
"""
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import resource_tracker, shared_memory


def inc(x):
    return x + 1


def echo(data):
    return data


def burn(iterations):
    x = iterations
    for _ in range(iterations):
        x = (x * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
    return x


def percentile(values, p):
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # nearest rank, as the harness
    return ordered[min(rank, len(ordered)) - 1]


def warm_pool(workers):
    pool = ProcessPoolExecutor(max_workers=workers)
    for future in [pool.submit(inc, i) for i in range(4 * workers)]:
        future.result()
    return pool


def roundtrip(pool, rounds, gap_us):
    latencies = []
    for i in range(rounds):
        if gap_us:
            time.sleep(gap_us / 1e6)
        start = time.perf_counter()
        if pool.submit(inc, i).result() != i + 1:
            raise SystemExit("wrong result")
        latencies.append((time.perf_counter() - start) * 1e6)
    return {"p50_us": percentile(latencies, 50), "p99_us": percentile(latencies, 99)}


def throughput(pool, tasks):
    start = time.perf_counter()
    futures = [pool.submit(inc, i) for i in range(tasks)]
    total = sum(future.result() for future in futures)
    elapsed = time.perf_counter() - start
    if total != tasks * (tasks + 1) // 2:
        raise SystemExit("wrong result")
    return {"tasks_per_s": tasks / elapsed, "tasks": tasks}


def batch(pool, chunks, chunk):
    items = chunks * chunk
    start = time.perf_counter()
    total = sum(pool.map(inc, range(items), chunksize=chunk))
    elapsed = time.perf_counter() - start
    if total != items * (items + 1) // 2:
        raise SystemExit("wrong result")
    return {"tasks_per_s": items / elapsed, "items": items}


def copy(pool, size):
    data = bytes(range(256)) * (size // 256)
    start = time.perf_counter()
    back = pool.submit(echo, data).result()
    elapsed = time.perf_counter() - start
    if back != data:
        raise SystemExit("wrong result")
    return {"ms": elapsed * 1e3}


def touch(name):
    block = shared_memory.SharedMemory(name=name)
    block.buf[0] ^= 0xFF
    block.buf[block.size - 1] ^= 0xFF
    block.close()
    return name


def sharedmem(pool, size):
    block = shared_memory.SharedMemory(create=True, size=size)
    try:
        start = time.perf_counter()
        pool.submit(touch, block.name).result()
        elapsed = time.perf_counter() - start
        if block.buf[0] != 0xFF:
            raise SystemExit("wrong result")
    finally:
        block.close()
        block.unlink()
    return {"ms": elapsed * 1e3}


def startup(workers):
    start = time.perf_counter()
    pool = ProcessPoolExecutor(max_workers=workers)
    pool.submit(inc, 1).result()
    elapsed = time.perf_counter() - start
    pool.shutdown()
    return {"ms": elapsed * 1e3}


def timed_burn(iterations):
    start = time.perf_counter()
    burn(iterations)
    return time.perf_counter() - start


def efficiency(pool, workers, target_ms):
    iterations = 100_000
    for _ in range(3):  # scale to the target, twice refined
        iterations = max(1, int(iterations * (target_ms / 1e3) / timed_burn(iterations)))
    single = timed_burn(iterations)
    start = time.perf_counter()
    for future in [pool.submit(burn, iterations) for _ in range(4)]:
        future.result()
    wall = time.perf_counter() - start
    return {"efficiency": 4 * single / (workers * wall), "single_ms": single * 1e3,
            "wall_ms": wall * 1e3}


def main():
    workers, mode, args = int(sys.argv[1]), sys.argv[2], [int(a) for a in sys.argv[3:]]
    if mode == "startup":
        print(json.dumps(startup(workers)))
        return
    if mode == "sharedmem":
        # Started before the workers, the resource tracker is theirs too,
        # and a worker's attach registers the block's name there again (one
        # entry, gone with the creator's unlink). Else each worker starts a
        # tracker of its own (a Python process, inside the timing) that
        # warns of a leak and unlinks the block when the worker exits.
        resource_tracker.ensure_running()
    with warm_pool(workers) as pool:
        if mode == "roundtrip":
            figures = roundtrip(pool, *args)
        elif mode == "throughput":
            figures = throughput(pool, *args)
        elif mode == "batch":
            figures = batch(pool, *args)
        elif mode == "copy":
            figures = copy(pool, *args)
        elif mode == "sharedmem":
            figures = sharedmem(pool, *args)
        elif mode == "efficiency":
            figures = efficiency(pool, workers, *args)
        else:
            raise SystemExit("unknown mode " + mode)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
