"""io_lane's timers_100k peer: asyncio tasks each awaiting one timer.

usage: python_asyncio_timers.py TASKS SLEEP_MS

Inside one event loop, starts TASKS tasks that each await
asyncio.sleep(SLEEP_MS / 1000), waits for all of them, and prints one JSON
object {"ms": elapsed} on stdout, timed from the first task's creation to
the last one's completion (interpreter and loop start-up excluded).
Standard library only.
"""
import asyncio
import json
import sys
import time


async def run(tasks: int, sleep_s: float) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(asyncio.create_task(asyncio.sleep(sleep_s)) for _ in range(tasks)))
    return (time.perf_counter() - start) * 1000.0


def main() -> None:
    tasks, sleep_s = int(sys.argv[1]), int(sys.argv[2]) / 1000.0
    print(json.dumps({"ms": asyncio.run(run(tasks, sleep_s)), "tasks": tasks}))


if __name__ == "__main__":
    main()
