"""primitives' Python peers: multiprocessing.Queue, Pipe and Value.

usage: python_mp_primitives.py MODE ARGS...

  queue MESSAGES            a child Process puts MESSAGES ints on a
                            multiprocessing.Queue, this process gets them;
                            prints msgs_per_s
  pipe MESSAGES             the same over a multiprocessing.Pipe
                            (send/recv); prints msgs_per_s
  counter WORKERS ROUNDS    WORKERS processes each add 1 to a shared
                            multiprocessing.Value ROUNDS times, under
                            get_lock(); prints increments_per_s

The clock starts once the child processes exist (they wait on an Event),
so process start-up is not counted. Prints one JSON object on stdout.
Standard library only.
"""
import json
import multiprocessing as mp
import sys
import time


def put_all(queue, ready, go, count):
    ready.set()
    go.wait()
    for i in range(count):
        queue.put(i)


def send_all(connection, ready, go, count):
    ready.set()
    go.wait()
    for i in range(count):
        connection.send(i)


def add_locked(value, ready, go, rounds):
    ready.set()
    go.wait()
    for _ in range(rounds):
        with value.get_lock():
            value.value += 1


def timed_stream(target, channel, receive, count):
    ready, go = mp.Event(), mp.Event()
    child = mp.Process(target=target, args=(channel, ready, go, count))
    child.start()
    ready.wait()
    start = time.perf_counter()
    go.set()
    total = 0
    for _ in range(count):
        total += receive()
    elapsed = time.perf_counter() - start
    child.join()
    if total != count * (count - 1) // 2:
        raise SystemExit("wrong sum")
    return {"msgs_per_s": count / elapsed}


def counter(workers, rounds):
    value = mp.Value("q", 0)
    go = mp.Event()
    readies = [mp.Event() for _ in range(workers)]
    children = [mp.Process(target=add_locked, args=(value, r, go, rounds)) for r in readies]
    for c in children:
        c.start()
    for r in readies:
        r.wait()
    start = time.perf_counter()
    go.set()
    for c in children:
        c.join()
    elapsed = time.perf_counter() - start
    if value.value != workers * rounds:
        raise SystemExit("lost increments")
    return {"increments_per_s": workers * rounds / elapsed}


def main():
    mode = sys.argv[1]
    if mode == "queue":
        queue = mp.Queue()
        result = timed_stream(put_all, queue, queue.get, int(sys.argv[2]))
    elif mode == "pipe":
        receiving, sending = mp.Pipe(duplex=False)
        result = timed_stream(send_all, sending, receiving.recv, int(sys.argv[2]))
    elif mode == "counter":
        result = counter(int(sys.argv[2]), int(sys.argv[3]))
    else:
        raise SystemExit("unknown mode " + mode)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
