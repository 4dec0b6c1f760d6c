"""bench/pipeline's python_ppe peer: logstats with concurrent.futures.

usage: python_logstats.py DIR FILES WORKERS LINES MALFORMED BYTES_SENT

Reads the first FILES of DIR/*.log (by name) in this process, in 4 MiB
chunks cut at line ends; parses and aggregates each chunk in a
ProcessPoolExecutor of WORKERS processes into logstats' report fields
(requests by status code, path, endpoint and hour, bytes sent, distinct
clients, latency histograms in logstats' buckets, overall and per
endpoint); merges the parts here as they come, with at most 2 * WORKERS
chunks in flight. The pool is started and has served a task before the
clock starts; the clock stops once everything is merged. Prints
{"mib_per_s": ...}. Exits 1 when the lines, malformed lines or bytes sent
it counted differ from LINES, MALFORMED and BYTES_SENT (the C++ loop's on
the same files), so a wrong parse is never timed as a fast one. Standard
library only; the pool uses Python's default start method.
"""
import datetime
import json
import os
import re
import sys
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

CHUNK_BYTES = 4 << 20
BUCKETS = 64 + 32 * 32  # logstats' latency_histogram
MONTHS = {m.encode(): i + 1 for i, m in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}
EPOCH = datetime.date(1970, 1, 1).toordinal()
ID = re.compile(rb"(?<![A-Za-z])[0-9]+")


def bucket_of(micros):
    """logstats' bucket: exact below 64 us, then 32 per power of two."""
    if micros < 64:
        return micros
    shift = micros.bit_length() - 6
    return min(64 + (shift - 1) * 32 + (micros >> shift) - 32, BUCKETS - 1)


def new_stats():
    return {"lines": 0, "malformed": 0, "bytes_sent": 0, "status": Counter(),
            "paths": Counter(), "hourly": Counter(), "clients": set(),
            "latency": [0] * BUCKETS, "endpoints": {}}


def hours_of(stamp, days):
    """'[12/Mar/2024:10:15:32' as hours since the epoch; days caches dates."""
    date, hour = stamp[1:12], int(stamp[13:15])
    if date not in days:
        day, month, year = date.split(b"/")
        days[date] = datetime.date(int(year), MONTHS[month], int(day)).toordinal() - EPOCH
    return days[date] * 24 + hour


def fields(line, days):
    """(client, hour, path, status, bytes, micros), or None if malformed."""
    f = line.split(b" ")
    if len(f) != 11 or not f[3].startswith(b"[") or f[10].find(b".") != len(f[10]) - 4:
        return None
    try:
        a, b, c, d = (int(x) for x in f[0].split(b"."))
        millis, fraction = f[10].split(b".")
        status = int(f[8])
        parsed = ((a << 24) | (b << 16) | (c << 8) | d, hours_of(f[3], days), f[6], status,
                  int(f[9]), int(millis) * 1000 + int(fraction))
    except (ValueError, KeyError):
        return None
    return parsed if 100 <= status < 1000 else None


def endpoint(path, names):
    """The path without its query, ids as {id}; names caches them."""
    if path not in names:
        names[path] = ID.sub(b"{id}", path.split(b"?", 1)[0]).decode()
    return names[path]


def count(stats, parsed, names):
    client, hour, path, status, sent, micros = parsed
    stats["status"][status] += 1
    stats["paths"][path] += 1
    stats["hourly"][hour] += 1
    stats["clients"].add(client)
    stats["bytes_sent"] += sent
    bucket = bucket_of(micros)
    stats["latency"][bucket] += 1
    e = stats["endpoints"].setdefault(endpoint(path, names), [0, 0, [0] * BUCKETS])
    e[0] += 1
    e[1] += 500 <= status < 600
    e[2][bucket] += 1


def parse(text):
    stats, days, names = new_stats(), {}, {}
    for line in text.split(b"\n"):
        if not line:
            continue
        stats["lines"] += 1
        parsed = fields(line, days)
        if parsed is None:
            stats["malformed"] += 1
        else:
            count(stats, parsed, names)
    return stats


def add_histogram(into, part):
    for i, n in enumerate(part):
        into[i] += n


def merge(total, part):
    for key in ("lines", "malformed", "bytes_sent"):
        total[key] += part[key]
    for key in ("status", "paths", "hourly"):
        total[key].update(part[key])
    total["clients"] |= part["clients"]
    add_histogram(total["latency"], part["latency"])
    for name, (requests, errors, latency) in part["endpoints"].items():
        e = total["endpoints"].setdefault(name, [0, 0, [0] * BUCKETS])
        e[0] += requests
        e[1] += errors
        add_histogram(e[2], latency)


def chunks(files):
    """Each file's text in pieces of about CHUNK_BYTES, cut after a line."""
    for path in files:
        with open(path, "rb") as f:
            rest = b""
            while block := f.read(CHUNK_BYTES):
                text = rest + block
                cut = text.rfind(b"\n") + 1
                rest = text[cut:]
                if cut:
                    yield text[:cut]
            if rest:
                yield rest


def analyze(pool, files, workers):
    total, running = new_stats(), set()
    for text in chunks(files):
        if len(running) >= 2 * workers:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                merge(total, future.result())
        running.add(pool.submit(parse, text))
    for future in running:
        merge(total, future.result())
    return total


def main():
    folder, first, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    expected = [int(a) for a in sys.argv[4:7]]
    names = sorted(n for n in os.listdir(folder) if n.endswith(".log"))[:first]
    files = [os.path.join(folder, n) for n in names]
    mib = sum(os.path.getsize(f) for f in files) / (1 << 20)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(parse, b"") for _ in range(2 * workers)]:
            future.result()
        start = time.perf_counter()
        total = analyze(pool, files, workers)
        elapsed = time.perf_counter() - start
    got = [total["lines"], total["malformed"], total["bytes_sent"]]
    if got != expected:
        raise SystemExit(f"python_logstats: counted {got}, the loop {expected}")
    print(json.dumps({"mib_per_s": mib / elapsed, "clients": len(total["clients"])}))


if __name__ == "__main__":
    main()
