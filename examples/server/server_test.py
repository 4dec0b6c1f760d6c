#!/usr/bin/env python3
"""server_test: starts examples/server on an ephemeral port and checks every
endpoint, the refusals (bad parameters, another method with its Allow
header, malformed HTTP, a Transfer-Encoding other than chunked, huge headers
and bodies, slow clients), a crash (500, then the server still serves), a
hang (504), /metrics, a graceful SIGTERM (the request in flight is answered,
exit status 0, no process of the server's left), and the trace it writes
then (--trace), and that a --trace path it cannot write (a FIFO nobody
reads included) stops it at start.

usage: server_test.py PATH_TO_SERVER
"""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

READ_TIMEOUT_MS = 600
TIMEOUT_MS = 500
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def start(server, mode):
    proc = subprocess.Popen(
        [server, "--port", "0", "--timeout-ms", str(TIMEOUT_MS),
         "--read-timeout-ms", str(READ_TIMEOUT_MS), "--grace-ms", "5000", *mode],
        stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    match = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not match:
        proc.kill()
        sys.exit("server did not say where it listens: %r" % line)
    return proc, int(match.group(1))


def request(port, path, method="GET", headers=None):
    """Returns the status, Content-Type and body, and every header if `headers` is a dict."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path)
        res = conn.getresponse()
        if headers is not None:
            headers.update(res.getheaders())
        return res.status, res.getheader("Content-Type"), res.read().decode("ascii")
    finally:
        conn.close()


def get_json(port, path, method="GET"):
    status, ctype, body = request(port, path, method)
    check(ctype == "application/json", "%s %s is JSON (%s)" % (method, path, ctype))
    return status, json.loads(body)


def raw_exchange(port, data, pause=0.0):
    """Sends `data` (then waits `pause` s), returns all the server sent until it closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        time.sleep(pause)
        received = b""
        while chunk := s.recv(65536):
            received += chunk
        return received


def status_and_json(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.1 ") else 0
    return status, (json.loads(body) if body else None)


def fnv1a_of_generated(mib):
    """The server's hash_generated(), in Python: FNV-1a over byte i = (i * 0x9e3779b1 mod 2^32) >> 24."""
    h = 0xcbf29ce484222325
    for i in range(mib << 20):
        h = ((h ^ (((i * 0x9e3779b1) & 0xffffffff) >> 24)) * 0x100000001b3) & 0xffffffffffffffff
    return "0x%016x" % h


def endpoints(port):
    status, body = get_json(port, "/healthz")
    check(status == 200 and body["status"] == "ok", "/healthz -> 200 ok")
    started = time.monotonic()
    status, body = get_json(port, "/io/sleep?ms=100")
    check(status == 200 and body == {"slept_ms": 100} and time.monotonic() - started >= 0.1,
          "/io/sleep?ms=100 -> 200 after 100 ms")
    status, body = get_json(port, "/cpu/fib?n=20")
    check(status == 200 and body == {"n": 20, "fib": 6765}, "/cpu/fib?n=20 -> 6765")
    status, body = get_json(port, "/cpu/hash?mib=1")
    check(status == 200 and body == {"mib": 1, "fnv1a64": fnv1a_of_generated(1)},
          "/cpu/hash?mib=1 -> the FNV-1a computed here (%s)" % body)


def faults(port):
    status, body = get_json(port, "/cpu/crash")
    check(status == 500 and body["signal"] == signal.SIGSEGV and body["signal_name"] == "SIGSEGV"
          and "error" in body, "/cpu/crash -> 500 naming SIGSEGV (%s)" % body)
    status, _ = get_json(port, "/healthz")
    check(status == 200, "/healthz -> 200 after the crash")
    started = time.monotonic()
    status, body = get_json(port, "/cpu/hang")
    check(status == 504 and "timeout" in body["error"] and time.monotonic() - started >= TIMEOUT_MS / 1000,
          "/cpu/hang -> 504 after the timeout (%s)" % body)
    status, body = get_json(port, "/cpu/fib?n=10")
    check(status == 200 and body["fib"] == 55, "/cpu/fib still answers after a crash and a hang")


def bad_requests(port):
    for path, expected in [("/nope", 404), ("/cpu/fib", 400), ("/cpu/fib?n=41", 400),
                           ("/cpu/fib?n=abc", 400), ("/cpu/fib?n=-1", 400), ("/cpu/fib?n=+1", 400),
                           ("/cpu/fib?n=", 400), ("/cpu/fib?x=1", 400), ("/cpu/fib?n=2&n=3", 400),
                           ("/cpu/fib?n=99999999999999999999999999", 400),
                           ("/cpu/hash?mib=257", 400), ("/io/sleep?ms=60001", 400),
                           ("/healthz?verbose=1", 400)]:
        status, body = get_json(port, path)
        check(status == expected and body["status"] == expected and body["error"],
              "%s -> %d (%s)" % (path, expected, body["error"]))
    for method in ("POST", "HEAD", "DELETE"):
        headers = {}
        status, _, _ = request(port, "/healthz", method, headers)
        check(status == 405 and headers.get("Allow") == "GET",
              "%s /healthz -> 405 with Allow: GET (%s)" % (method, headers.get("Allow")))


def malformed(port):
    status, body = status_and_json(raw_exchange(port, b"GARBAGE\r\n\r\n"))
    check(status == 400 and body["status"] == 400, "malformed request line -> 400, then close")
    status, body = status_and_json(raw_exchange(port, b"GET /healthz HTTP/1.1\r\nbad header\r\n\r\n"))
    check(status == 400, "malformed header -> 400")
    huge_header = b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
    status, body = status_and_json(raw_exchange(port, huge_header))
    check(status == 431, "20 KB header -> 431")
    big_body = b"GET /healthz HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100000
    status, body = status_and_json(raw_exchange(port, big_body))
    check(status == 413, "100 KB body -> 413")
    status, body = status_and_json(raw_exchange(port, b'GET /a"b\\c\x80\x01 HTTP/1.1\r\n\r\n'))
    check(status in (400, 404) and body is not None,
          "odd bytes in the target -> an error whose body is valid JSON (%s)" % body)


def transfer_encodings(port):
    """Only one Transfer-Encoding field saying "chunked" is taken; any other is a 400 and the
    connection closes, so what a client sent as a body is never read as a request of its own."""
    smuggled = b"GET /cpu/fib?n=1 HTTP/1.1\r\nHost: x\r\n\r\n"
    for codings in ([b"gzip"], [b"gzip, chunked"], [b"chunked, gzip"], [b"chunked, chunked"],
                    [b"identity"], [b"gzip", b"chunked"], [b"chunked", b"chunked"]):
        fields = b"".join(b"Transfer-Encoding: " + c + b"\r\n" for c in codings)
        chunked_body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(smuggled), smuggled)
        raw = raw_exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n" +
                           (chunked_body if codings[-1].endswith(b"chunked") else smuggled))
        answers = [b"HTTP/1.1 " + a for a in raw.split(b"HTTP/1.1 ")[1:]]
        status, body = status_and_json(answers[0]) if answers else (0, None)
        what = b" + ".join(codings).decode()
        check(status == 400 and body is not None and "Transfer-Encoding" in body["error"],
              "Transfer-Encoding: %s -> 400 (%s)" % (what, body))
        check(len(answers) == 1, "Transfer-Encoding: %s -> one answer, then close (%d)"
              % (what, len(answers)))
    for coding in (b"chunked", b"Chunked"):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding +
                      b"\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
            status = int(s.recv(65536).split(b" ")[1])
        check(status == 200, "Transfer-Encoding: %s with a chunked body -> 200" % coding.decode())


def slow_clients(port):
    started = time.monotonic()
    status, body = status_and_json(raw_exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"))
    check(status == 408 and time.monotonic() - started >= READ_TIMEOUT_MS / 1000,
          "a request that never ends -> 408 after the read timeout")
    check(raw_exchange(port, b"") == b"", "a client that sends nothing is closed silently")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(3):
        conn.request("GET", "/healthz")
        res = conn.getresponse()
        res.read()
    check(res.status == 200, "three requests on one keep-alive connection")
    conn.close()


def metrics(port):
    deadline = time.monotonic() + 10
    while True:
        status, ctype, text = request(port, "/metrics")
        alive = re.search(r"^tandem_cpu_workers_alive (\d+)$", text, re.M)
        if (alive and alive.group(1) == "2") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    check(status == 200 and ctype.startswith("text/plain; version=0.0.4"), "/metrics -> 200 text")
    sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_]+="[^"\\\n]*",?)*\})? '
                        r'([-+]?[0-9.]+([eE][-+]?[0-9]+)?|\+Inf|NaN)$')
    lines = [l for l in text.splitlines() if l and not l.startswith("#")]
    check(all(sample.match(l) for l in lines), "/metrics: every sample line is Prometheus text")
    check('tandem_server_requests_total{route="/cpu/crash",code="500"} 1' in lines,
          "/metrics counts the crash")
    check('tandem_server_requests_total{route="unmatched",code="404"} 1' in lines,
          "/metrics counts unknown paths under one label")
    families = [l.split()[2] for l in text.splitlines() if l.startswith("# TYPE ")]
    check(len(families) == len(set(families)) and "tandem_cpu_worker_restarts_total" in families,
          "/metrics: the server's families, then the runtime's, each once")
    check(alive is not None and alive.group(1) == "2", "/metrics: both workers alive again")


def descendants(pid):
    """Every process below `pid` (the zygote and the workers), from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (ValueError, OSError, IndexError):
            pass
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def graceful_stop(proc, port):
    below = descendants(proc.pid)
    check(len(below) >= 3, "the server has a zygote and 2 workers below it (%s)" % below)
    answer = {}
    sleeper = threading.Thread(target=lambda: answer.update(r=request(port, "/io/sleep?ms=1000")))
    sleeper.start()
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    sleeper.join(10)
    check(answer.get("r", (0,))[0] == 200, "the request in flight at SIGTERM is answered")
    code = stop(proc)
    check(code == 0, "exit status 0 after SIGTERM (%s)" % code)
    time.sleep(0.2)
    left = [p for p in below if os.path.exists("/proc/%d" % p)]
    check(not left, "no process of the server is left (%s)" % left)


def trace_written(path):
    """--trace FILE: at the stop FILE holds Chrome trace-event JSON with a slice per cpu task."""
    try:
        with open(path) as f:
            trace = json.load(f)
    except (OSError, ValueError) as e:
        check(False, "--trace: the trace is valid JSON (%s)" % e)
        return
    slices = [e for e in trace.get("traceEvents", []) if e.get("ph") == "X"]
    outcomes = lambda name: {s["args"]["outcome"] for s in slices if s["name"] == name}
    check("completed" in outcomes("server.fib"),
          "--trace: a completed slice for server.fib (%d slices)" % len(slices))
    check("crashed" in outcomes("server.crash"), "--trace: a crashed slice for server.crash")
    check("timed_out" in outcomes("server.hang"), "--trace: a timed-out slice for server.hang")
    check(all(s["dur"] >= 0 and s["ts"] >= 0 for s in slices), "--trace: slices have times")


def trace_refused(server, fifo):
    """A --trace path that cannot be written stops the server before it serves;
    a FIFO that no process reads, at once (not once a reader comes)."""
    os.mkfifo(fifo)
    for path, why in (("/nonexistent-dir/trace.json", "No such file or directory"),
                      ("/", "Is a directory"), (fifo, "a FIFO that no process reads")):
        done = subprocess.run([server, "--port", "0", "--trace", path], capture_output=True,
                              text=True, timeout=30)
        check(done.returncode == 1 and "listening" not in done.stdout and path in done.stderr
              and why in done.stderr,
              "--trace %s -> exit 1 at start, naming the path (%r)" % (path, done.stderr.strip()))
    done = subprocess.run([server, "--inline", "--trace", "t.json"], capture_output=True,
                          text=True, timeout=30)
    check(done.returncode == 2 and "--trace" in done.stderr, "--inline --trace -> usage error")


def lost_zygote(proc, port):
    """With the cpu lane's zygote killed (its workers die with it), /healthz says 503."""
    zygote = [p for p in descendants(proc.pid) if parent_of(p) == proc.pid]
    check(len(zygote) == 1, "the server has one child, the zygote (%s)" % zygote)
    os.kill(zygote[0], signal.SIGKILL)
    time.sleep(1.0)
    status, body = get_json(port, "/healthz")
    check(status == 503 and body.get("status") == "unavailable" and body.get("workers_alive") == 0,
          "/healthz -> 503 unavailable once the zygote is gone (%s %s)" % (status, body))
    status, _ = get_json(port, "/cpu/fib?n=10")
    check(status == 500, "/cpu/fib -> 500 once the zygote is gone (%s)" % status)
    proc.send_signal(signal.SIGTERM)
    code = stop(proc)
    check(code == 0, "exit status 0 after SIGTERM with the zygote gone (%s)" % code)


def parent_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def stop(proc):
    try:
        return proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        return "hung"


def inline_mode(proc, port):
    """--inline (the benchmark's baseline) serves the same endpoints from one thread; limits hold."""
    status, body = get_json(port, "/cpu/fib?n=20")
    check(status == 200 and body["fib"] == 6765, "--inline: /cpu/fib?n=20 -> 6765")
    status, body = get_json(port, "/cpu/crash")
    check(status == 501, "--inline: /cpu/crash -> 501 (one thread cannot survive it)")
    with socket.create_connection(("127.0.0.1", port), timeout=10), \
            socket.create_connection(("127.0.0.1", port), timeout=10):
        time.sleep(0.2)
        status, body = status_and_json(raw_exchange(port, b"GET /healthz HTTP/1.1\r\n\r\n"))
        check(status == 503, "a third client past --max-connections 2 -> 503")
        proc.send_signal(signal.SIGTERM)  # idle connections must not hold the stop up
        code = stop(proc)
    check(code == 0, "--inline: exit status 0 after SIGTERM (%s)" % code)


def run(server, mode, tests):
    proc, port = start(server, mode)
    try:
        for test in tests:
            test(proc, port)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main():
    on_port = lambda test: lambda proc, port: test(port)
    with tempfile.TemporaryDirectory() as scratch:
        trace = os.path.join(scratch, "trace.json")
        run(sys.argv[1], ["--io-threads", "2", "--cpu-workers", "2", "--trace", trace],
            [on_port(t) for t in (endpoints, faults, bad_requests, malformed, transfer_encodings,
                                  slow_clients, metrics)] +
            [graceful_stop, lambda proc, port: trace_written(trace)])
        trace_refused(sys.argv[1], os.path.join(scratch, "fifo"))
    run(sys.argv[1], ["--io-threads", "1", "--cpu-workers", "1"], [lost_zygote])
    run(sys.argv[1], ["--inline", "--max-connections", "2"], [inline_mode])
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
