#!/usr/bin/env bash
# Runs every fuzz target of benches/fuzz.rs for a bounded time, each in its
# own process (a stack overflow aborts a process: it is reported here, not
# lost), and prints one JSON line per target. Usage: benches/fuzz.sh [SECONDS]
set -uo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
cargo bench --bench fuzz --no-run >/dev/null 2>&1 || { echo "build failed" >&2; exit 1; }
for t in $(cargo bench --bench fuzz -- --list 2>/dev/null); do
    out=$(cargo bench --bench fuzz -- --target "$t" --seconds "$secs" 2>&1)
    code=$?
    line=$(printf '%s\n' "$out" | grep '^{"target"' || true)
    if [ $code -ne 0 ] || [ -z "$line" ]; then
        echo "{\"target\":\"$t\",\"process_died\":true,\"exit\":$code}"
    else
        echo "$line"
    fi
done
