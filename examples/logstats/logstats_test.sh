#!/bin/sh
# logstats_test.sh LOGSTATS — generates 20 MiB of logs twice into a
# temporary directory (the same seed must give the same bytes), analyzes
# them with --check (two files, three chunks: the merge of chunks is
# checked against one pass), and checks what is printed and written. The
# directory is removed however the test ends.
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
