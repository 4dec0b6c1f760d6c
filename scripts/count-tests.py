#!/usr/bin/env python3
"""count-tests.py sums doctest test cases over meson test logs.

Each argument is a meson testlog.json (one JSON object per line),
"compile-failed:NAME" for a build that did not compile (one failure), or
"passed:NAME" / "failed:NAME" for one case run outside meson (the fuzzer). A test
executable that printed a doctest summary adds its passed/failed counts; one
that printed none (a benchmark, or a binary that crashed before its summary)
counts as one case, passed or failed by its meson result. Each failed test
is named, with its failed checks, just above the last line (a CI log is
often read from its tail). Prints "N passed, N failed" and exits 1 when
anything failed.
"""
import json
import re
import sys

SUMMARY = re.compile(r"\[doctest\] test cases:\s*(\d+) \|\s*(\d+) passed \|\s*(\d+) failed")
# doctest's lines for a failed check, a case past its timeout and a crash,
# and the sanitizers' reports (which end a binary before its summary).
FAILURE = re.compile(r"ERROR:|FATAL ERROR|Test case exceeded time limit|SIGNAL|runtime error:")
MAX_FAILURE_LINES = 10


def count(log_path):
    passed = failed = 0
    with open(log_path, encoding="utf-8") as log:
        for line in log:
            if not line.strip():
                continue
            test = json.loads(line)
            ok = test.get("result") in ("OK", "EXPECTEDFAIL", "SKIP")
            match = SUMMARY.search(test.get("stdout", "") or "")
            if match and ok:
                passed += int(match.group(2))
                failed += int(match.group(3))
            elif match:
                passed += int(match.group(2))
                failed += max(1, int(match.group(3)))
                report_failure(log_path, test)
            elif ok:
                passed += 1
            else:
                failed += 1
                print("without a doctest summary:", end=" ")
                report_failure(log_path, test)
    return passed, failed


def report_failure(log_path, test):
    """Names a failed test binary and its failed cases, so that the tail of
    a long CI log says what failed (meson printed the details far above)."""
    print(f"failed: {test.get('name')} ({test.get('result')}) in {log_path}")
    lines = ((test.get("stdout") or "") + (test.get("stderr") or "")).splitlines()
    shown = 0
    for i, line in enumerate(lines):
        if FAILURE.search(line) and shown < MAX_FAILURE_LINES:
            case = next((l for l in reversed(lines[:i]) if l.startswith("TEST CASE:")), "")
            print(f"  {case.strip()} | {line.strip()}")
            shown += 1
    if shown == 0:  # no failed check: it failed after its cases, or crashed
        for line in lines[-3:]:
            print(f"  {line.strip()}")


def main(args):
    passed = failed = 0
    for arg in args:
        if arg.startswith("compile-failed:"):
            failed += 1
            continue
        if arg.startswith("passed:"):
            passed += 1
            continue
        if arg.startswith("failed:"):
            print(f"failed: {arg[len('failed:'):]}")
            failed += 1
            continue
        try:
            p, f = count(arg)
        except OSError as err:
            print(f"no test log: {err}")
            p, f = 0, 1
        passed += p
        failed += f
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
