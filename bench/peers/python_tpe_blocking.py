"""io_lane's blocking_1000 peer: Python's ThreadPoolExecutor running blocking sleeps.

usage: python_tpe_blocking.py TASKS SLEEP_MS

Creates ThreadPoolExecutor(max_workers=TASKS), submits TASKS calls of
time.sleep(SLEEP_MS / 1000), waits for all of them, and prints one JSON
object {"ms": elapsed} on stdout. The clock starts before the executor is
created and stops once every task finished (interpreter start-up excluded).
Standard library only.
"""
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def main() -> None:
    tasks, sleep_s = int(sys.argv[1]), int(sys.argv[2]) / 1000.0
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=tasks) as pool:
        futures = [pool.submit(time.sleep, sleep_s) for _ in range(tasks)]
        for future in futures:
            future.result()
    print(json.dumps({"ms": (time.perf_counter() - start) * 1000.0, "tasks": tasks}))


if __name__ == "__main__":
    main()
