#!/bin/sh
# logstats_test.sh LOGSTATS — generates 20 MiB of logs twice into a
# temporary directory (the same seed must give the same bytes), analyzes
# them with --check (two files, three chunks: the merge of chunks is
# checked against one pass), and checks what is printed and written. Then:
# a smaller set generated over a larger one leaves none of its files behind;
# an interrupted generation leaves no cut-short file;
# lines longer than a chunk count once, in the pipeline as in the loop;
# a report that cannot be written (no such directory, a FIFO) fails at once,
# before the analysis, and a written one leaves no partial file; --help, and
# numbers that are not what their option takes. The directory
# is removed however the test ends.
set -eu
logstats=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$logstats" --generate "$dir/a" --mib 20 --seed 7 | tee "$dir/generate.out"
grep -q "wrote 20 MiB of access logs in 2 files" "$dir/generate.out"
"$logstats" --generate "$dir/b" --mib 20 --seed 7 >/dev/null
cmp "$dir/a/access-000.log" "$dir/b/access-000.log"

"$logstats" "$dir/a" --check --workers 2 | tee "$dir/run.out"
grep -q "^check: the sequential report matches the pipeline's" "$dir/run.out"
grep -q "^  200 " "$dir/run.out"
grep -q "^top 10 paths:" "$dir/run.out"
grep -q "^latency: p50 [0-9.]* ms, p90 [0-9.]* ms, p99 [0-9.]* ms" "$dir/run.out"
grep -q "^speed-up: [0-9.]*x" "$dir/run.out"
grep -q "^top 50 paths:" "$dir/a/report.txt"

# 1 MiB generated where 20 were: access-001.log goes (it would be read with
# the new set), files of other names stay.
touch "$dir/b/notes.log" "$dir/b/access-1.log"
"$logstats" --generate "$dir/b" --mib 1 >/dev/null
[ "$(ls "$dir/b" | LC_ALL=C sort | tr '\n' ' ')" = "access-000.log access-1.log notes.log " ]

# A generation cut short (SIGTERM, once a file is being written; a
# background job ignores SIGINT) leaves no cut-short access-NNN.log: each
# file is written whole as .partial first and then renamed. The next
# generation removes the partial files.
"$logstats" --generate "$dir/cut" --mib 256 >/dev/null &
generator=$!
until ls "$dir/cut" 2>/dev/null | grep -q partial || ! kill -0 "$generator" 2>/dev/null; do
  sleep 0.01
done
kill -TERM "$generator" 2>/dev/null || true
wait "$generator" || true
for log in "$dir/cut"/access-*.log; do
  [ ! -e "$log" ] || [ "$(wc -c <"$log")" -ge 16777216 ]
done
touch "$dir/cut/access-009.log.partial"
"$logstats" --generate "$dir/cut" --mib 1 >/dev/null
[ "$(ls "$dir/cut")" = "access-000.log" ]

# A 20 MB line between access lines, and a 9 MB one that ends the file
# without a line end: each is one malformed line, however it is chunked.
mkdir "$dir/long"
{
  head -n 1000 "$dir/a/access-000.log"
  head -c 20000000 /dev/zero | tr '\0' x
  echo
  head -n 2000 "$dir/a/access-001.log"
  head -c 9000000 /dev/zero | tr '\0' y
} >"$dir/long/a.log"
"$logstats" "$dir/long" --check --workers 2 | tee "$dir/long.out"
grep -q "^check: the sequential report matches the pipeline's" "$dir/long.out"
grep -q "^3,000 requests (2 malformed lines skipped)" "$dir/long.out"

# The report is written whole: no partial file is left beside it.
[ ! -e "$dir/a/report.txt.partial" ]

# refused_report PATH REASON: a report that cannot be written fails at once,
# before the analysis, with the reason (a FIFO is refused, not opened: a
# timeout catches a check that waits for a reader).
refused_report() {
  status=0
  timeout 60 "$logstats" "$dir/a" --report "$1" >"$dir/report.out" 2>"$dir/report.err" ||
    status=$?
  [ "$status" -eq 1 ]
  grep -q "^logstats: cannot write $1: $2" "$dir/report.err"
  if grep -q "speed-up" "$dir/report.out"; then exit 1; fi
}
refused_report "$dir/missing/report.txt" "No such file or directory"
mkfifo "$dir/fifo"
refused_report "$dir/fifo" "not a regular file"
[ -p "$dir/fifo" ]
[ ! -e "$dir/fifo.partial" ]

"$logstats" --help >"$dir/help.out"
grep -q "^usage: logstats --generate DIR --mib N" "$dir/help.out"

# refused FLAG VALUE: logstats exits 2 before doing anything, naming FLAG.
refused() {
  status=0
  "$logstats" --generate "$dir/never" "$1" "$2" >/dev/null 2>"$dir/refused.err" || status=$?
  if [ "$status" -eq 2 ] && grep -q -- "^logstats: $1 takes a whole number" "$dir/refused.err" &&
    [ ! -e "$dir/never" ]; then
    echo "ok   $1 $2 refused"
  else
    echo "FAIL $1 $2 -> exit $status:"
    cat "$dir/refused.err"
    return 1
  fi
}
refused --mib -1
refused --mib 1x
refused --mib 18446744073709551616
refused --seed -1
refused --workers -1
refused --workers 4294967296
refused --workers 257
