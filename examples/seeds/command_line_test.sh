#!/bin/sh
# command_line_test.sh SEED... — each seed program prints its usage on
# --help (exit 0) and refuses, with exit status 2 and a message naming what
# is wrong, any argument it does not take, before it starts any work. Of
# them cpu_vs_thread takes one, LIMIT, which must be a whole number in range
# and is counted up to whole.
set -u
failures=0
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

# expect STATUS PATTERN STREAM PROGRAM ARG...: PROGRAM ARG... exits with
# STATUS, and what it wrote on STREAM (out or err) has a line matching
# PATTERN.
expect() {
  status=$1 pattern=$2 stream=$3
  shift 3
  timeout 20 "$@" >"$out" 2>"$err"
  got=$?
  if [ "$stream" = out ]; then written=$out; else written=$err; fi
  if [ "$got" -eq "$status" ] && grep -q -- "$pattern" "$written"; then
    echo "ok   $* -> $got"
  else
    echo "FAIL $* -> $got (expected $status and /$pattern/ on std$stream):"
    cat "$out" "$err"
    failures=$((failures + 1))
  fi
}

for seed in "$@"; do
  name=$(basename "$seed")
  expect 0 "^usage: $name" out "$seed" --help
  case $name in
    cpu_vs_thread)
      for bad in abc -5 +5 "" 0x10 15 1000000001 99999999999999999999 "4 "; do
        expect 2 "LIMIT takes a whole number from 16 to 1000000000, not '$bad'" err "$seed" "$bad"
      done
      expect 2 "takes one LIMIT, not also '5'" err "$seed" 400 5
      # every number below LIMIT is counted, not just the 16 slices' multiple
      expect 0 "^primes below 100: 25\$" out "$seed" 100
      ;;
    *)
      expect 2 "$name: takes no arguments but --help, not '--bogus'" err "$seed" --bogus
      ;;
  esac
done
echo "$failures failed"
[ "$failures" -eq 0 ]
