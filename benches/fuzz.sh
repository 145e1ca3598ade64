#!/usr/bin/env bash
# Runs every fuzz target of benches/fuzz.rs, each in its own process (a stack
# overflow aborts a process: it is reported here, not lost), and prints one
# JSON line per target.
#
# Usage: benches/fuzz.sh [SECONDS] [EXECS]
#   SECONDS  time limit per target (default 60)
#   EXECS    stop a target earlier once it ran this many inputs
#            (default: no limit). `benches/fuzz.sh 1500 1000000` runs each
#            target to the 1-million-input goal, capped at 25 minutes.
#
# The harness is built once and the built binary is run, so editing the
# sources while a long run goes on does not rebuild it halfway.
set -uo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
execs="${2:-}"
bin=$(cargo bench --bench fuzz --no-run --message-format=json 2>/dev/null |
    grep '"executable":"' | grep '"name":"fuzz"' |
    sed 's/.*"executable":"\([^"]*\)".*/\1/' | tail -1)
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "build failed" >&2
    exit 1
fi
limit=()
if [ -n "$execs" ]; then
    limit=(--execs "$execs")
fi
for t in $("$bin" --list); do
    out=$("$bin" --target "$t" --seconds "$secs" "${limit[@]}" 2>&1)
    code=$?
    line=$(printf '%s\n' "$out" | grep '^{"target"' || true)
    if [ $code -ne 0 ] || [ -z "$line" ]; then
        echo "{\"target\":\"$t\",\"process_died\":true,\"exit\":$code}"
    else
        echo "$line"
    fi
done
