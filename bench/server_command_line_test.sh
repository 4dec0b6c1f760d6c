#!/bin/sh
# server_command_line_test.sh PYTHON3 SERVER_PY SERVER — bench/server.py
# refuses a --server that is not an executable file (missing, a directory,
# not executable), and a --json FILE it could not write at the end (no such
# directory, a directory), with exit status 2 and one line on stderr naming
# the path and why (no traceback), before it starts anything; a --server
# that runs but is not the server ends the run with status 1 and one line.
set -u
python3=$1 script=$2 server=$3
failures=0
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
touch "$dir/not-executable"

# ends STATUS PATTERN ARG...: server.py ARG... exits with STATUS, having
# written one line on stderr, which matches PATTERN.
ends() {
  status=$1 pattern=$2
  shift 2
  timeout 60 "$python3" "$script" "$@" >"$dir/out" 2>"$dir/err"
  got=$?
  if [ "$got" -eq "$status" ] && [ "$(wc -l <"$dir/err")" -eq 1 ] &&
    grep -q -- "$pattern" "$dir/err"; then
    echo "ok   $* -> $status: $(cat "$dir/err")"
  else
    echo "FAIL $* -> $got (expected $status and one line /$pattern/ on stderr):"
    cat "$dir/out" "$dir/err"
    failures=$((failures + 1))
  fi
}
refused() { ends 2 "$@"; }

refused "^bench server: --server $dir/missing: no such file\$" --server "$dir/missing"
refused "^bench server: --server $dir: not a regular file\$" --server "$dir"
refused "^bench server: --server $dir/not-executable: not executable\$" \
  --server "$dir/not-executable"
refused "^bench server: --json $dir/missing/out.json: no such directory $dir/missing\$" \
  --server "$server" --json "$dir/missing/out.json"
refused "^bench server: --json $dir: a directory\$" --server "$server" --json "$dir"
# A program that is not the server: one line, exit 1, nothing left running
# (without wrk the bench stops before it starts any server).
if command -v wrk >/dev/null; then
  ends 1 "^bench server: the tandem server did not start: its first line was '', not" \
    --server /bin/true
fi
echo "$failures failed"
[ "$failures" -eq 0 ]
