#!/usr/bin/env python3
"""count-tests.py sums doctest test cases over meson test logs.

Each argument is a meson testlog.json (one JSON object per line),
"compile-failed:NAME" for a build that did not compile (one failure), or
"passed:NAME" / "failed:NAME" for one case run outside meson (the fuzzer). A test
executable that printed a doctest summary adds its passed/failed counts; one
that printed none (a benchmark, or a binary that crashed before its summary)
counts as one case, passed or failed by its meson result. Prints
"N passed, N failed" and exits 1 when anything failed.
"""
import json
import re
import sys

SUMMARY = re.compile(r"\[doctest\] test cases:\s*(\d+) \|\s*(\d+) passed \|\s*(\d+) failed")


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
            elif ok:
                passed += 1
            else:
                failed += 1
                print(f"failed without a doctest summary: {test.get('name')} ({test.get('result')})")
    return passed, failed


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
