#!/bin/sh
# harness_command_line_test.sh BENCH — a C++ benchmark built on the harness
# (harness.hpp) refuses a bad command line before it runs anything: exit
# status 2, the problem on the first line of stderr, then the usage. A
# --json FILE that could not be written at the end (no such directory, a
# directory) is such a problem. --help prints the usage on stdout, status 0.
set -u
bench=$1
name=$(basename "$bench")
failures=0
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# refused PATTERN ARG...: BENCH ARG... exits with 2, the first line of its
# stderr matching PATTERN, and runs nothing (prints nothing on stdout).
refused() {
  pattern=$1
  shift
  timeout 60 "$bench" "$@" >"$dir/out" 2>"$dir/err"
  got=$?
  if [ "$got" -eq 2 ] && [ ! -s "$dir/out" ] && head -n 1 "$dir/err" | grep -q -- "$pattern"; then
    echo "ok   $* -> 2: $(head -n 1 "$dir/err")"
  else
    echo "FAIL $* -> $got (expected 2, no output, and /$pattern/ first on stderr):"
    cat "$dir/out" "$dir/err"
    failures=$((failures + 1))
  fi
}

refused "^$name: --json $dir/missing/out.json: no such directory $dir/missing\$" \
  --json "$dir/missing/out.json"
refused "^$name: --json $dir: a directory\$" --json "$dir"
refused "^$name: --reps needs a count above 0\$" --reps 0
refused "^$name: unknown workload 'nothing'\$" --only nothing
refused "^$name: unknown or incomplete argument '--json'\$" --json

if timeout 60 "$bench" --help >"$dir/out" 2>"$dir/err" && grep -q "^usage: $name " "$dir/out"; then
  echo "ok   --help -> 0: $(head -n 1 "$dir/out")"
else
  echo "FAIL --help (expected status 0 and the usage on stdout)"
  failures=$((failures + 1))
fi
echo "$failures failed"
[ "$failures" -eq 0 ]
