#!/usr/bin/env bash
# Side-by-side crawl benchmark: knockoff's live fetcher and Scrapy, same
# workloads, same loopback mock marketplace (benches/crawl.rs --serve-mock),
# measured the same way (the mock's own arrival log for rates; getrusage of
# the crawling process for CPU and peak RSS).
#
# Scrapy is installed into a throwaway virtualenv (removed on exit).
# Usage: benches/scrapy_compare.sh            (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."

WORK=$(mktemp -d)
MOCK_PID=""
cleanup() {
    if [ -n "$MOCK_PID" ]; then kill "$MOCK_PID" 2>/dev/null || true; wait "$MOCK_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "== building the bench binary" >&2
cargo bench --bench crawl --no-run 2>&1 | tail -n 2 >&2
BIN=$(cargo bench --bench crawl --no-run --message-format=json 2>/dev/null \
    | python3 -c 'import sys, json
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "crawl" and m.get("executable"):
        print(m["executable"])')

echo "== installing Scrapy into a throwaway virtualenv" >&2
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet scrapy >&2
SCRAPY_VERSION=$("$WORK/venv/bin/python" -c 'import scrapy; print(scrapy.__version__)')

echo "== starting the mock marketplace" >&2
"$BIN" --serve-mock 127.0.0.1:0 > "$WORK/mock.out" &
MOCK_PID=$!
for _ in $(seq 1 100); do
    if grep -q listening "$WORK/mock.out" 2>/dev/null; then break; fi
    sleep 0.1
done
ADDR=$(awk '/listening/ {print $2}' "$WORK/mock.out")
[ -n "$ADDR" ] || { echo "mock did not start" >&2; exit 1; }

echo
echo "################ knockoff ################"
"$BIN" --against "$ADDR"

cat > "$WORK/bench_spider.py" <<'PY'
"""Scrapy side of the crawl benchmark: the same URLs as benches/crawl.rs,
one download slot per host key (as knockoff keys hosts by platform base),
robots.txt obeyed, fixed per-slot delay or none."""
import json, resource, sys, time, urllib.request

import scrapy
from scrapy.crawler import CrawlerProcess

ADDR, NAME, RATE, PAGES, CONC, CONC_HOST = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
HOSTS = ["aliexpress", "alibaba", "taobao", "tmall"]
LOG = f"http://{ADDR}/__mock__/log"


class Bench(scrapy.Spider):
    name = "bench"
    ok = 0
    bytes = 0

    def requests(self):
        for n in range(PAGES):
            for h in HOSTS:
                yield scrapy.Request(f"http://{ADDR}/{h}/bench/{n}.html", meta={"download_slot": h}, dont_filter=True)

    # Scrapy >= 2.13 starts from `start()`; older versions from
    # `start_requests()`.
    async def start(self):
        for r in self.requests():
            yield r

    def start_requests(self):
        yield from self.requests()

    def parse(self, response):
        if response.status == 200:
            Bench.ok += 1
            Bench.bytes += len(response.body)


settings = {
    "LOG_LEVEL": "ERROR",
    "ROBOTSTXT_OBEY": True,
    "CONCURRENT_REQUESTS": CONC,
    "CONCURRENT_REQUESTS_PER_DOMAIN": CONC_HOST,
    "DOWNLOAD_DELAY": (1.0 / RATE) if RATE > 0 else 0,
    "RANDOMIZE_DOWNLOAD_DELAY": False,
    "AUTOTHROTTLE_ENABLED": False,
    "RETRY_TIMES": 3,
    "USER_AGENT": "knockoff-bench-scrapy",
    "TELNETCONSOLE_ENABLED": False,
}
urllib.request.urlopen(urllib.request.Request(LOG, method="DELETE")).read()
r0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.monotonic()
process = CrawlerProcess(settings)
process.crawl(Bench)
process.start()
wall = time.monotonic() - t0
r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
log = json.loads(urllib.request.urlopen(LOG).read())
by_host = {}
for e in log:
    by_host.setdefault(e["host_key"], []).append(e["t"])
total = PAGES * len(HOSTS)
print(f"\n== {NAME} ==")
print(f"pages {Bench.ok}/{total} ok, {Bench.bytes / 2**20:.1f} MiB, wall {wall:.2f} s, {Bench.ok / wall:.0f} pages/s")
print(f"CPU {cpu:.2f} s = {cpu * 1000 / max(Bench.ok, 1):.2f} CPU-s per 1000 pages")
for h, t in sorted(by_host.items()):
    if not h:
        # Scrapy asks for robots.txt at the root, not per platform prefix.
        print(f"  server saw {len(t)} request(s) outside the platform prefixes (root robots.txt)")
        continue
    t.sort()
    span = t[-1] - t[0]
    rate = (len(t) - 1) / span if span > 0 else 0.0
    gap = min((b - a for a, b in zip(t, t[1:])), default=float("inf"))
    if RATE > 0:
        print(f"  server saw {h}: {len(t)} requests, {rate:.2f} req/s (target {RATE:g}, accuracy {100 * rate / RATE:.1f}%), min gap {gap * 1000:.1f} ms (period {1000 / RATE:.1f} ms)")
    else:
        print(f"  server saw {h}: {len(t)} requests, {rate:.1f} req/s")
print(f"peak RSS of the crawling process: {r1.ru_maxrss / 1024:.1f} MiB")
PY

echo
echo "################ Scrapy $SCRAPY_VERSION ################"
# Same workloads as benches/crawl.rs (WORKLOADS there).
"$WORK/venv/bin/python" "$WORK/bench_spider.py" "$ADDR" "rate-limited (20 req/s per host)" 20 100 16 4
"$WORK/venv/bin/python" "$WORK/bench_spider.py" "$ADDR" "unlimited" 0 1000 32 8
