#!/usr/bin/env bash
# Compares knockoff's hashing throughput with Python imagehash on the same
# 800x800 files, one core each. Python imagehash + Pillow go into a
# throwaway virtualenv in a temp dir (removed on exit).
#   bash benches/compare_imagehash.sh
#   KNOCKOFF_FEATURES=turbojpeg bash benches/compare_imagehash.sh   # libjpeg-turbo path (needs cmake, nasm)
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# knockoff: criterion writes the inputs to target/bench-inputs and its
# estimates to target/criterion.
criterion="${CARGO_TARGET_DIR:-target}/criterion"
features=()
[ -n "${KNOCKOFF_FEATURES:-}" ] && features=(--features "$KNOCKOFF_FEATURES")
taskset -c 0 cargo bench "${features[@]}" --bench hashing -- --noplot "read_decode_hash_all|decode_only" >"$tmp/cargo.txt" 2>&1 \
  || { cat "$tmp/cargo.txt"; exit 1; }

python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet imagehash pillow
inputs=(target/bench-inputs/astronaut-800.jpg target/bench-inputs/astronaut-800.png target/bench-inputs/astronaut-800.webp)
taskset -c 0 "$tmp/venv/bin/python" benches/compare_imagehash.py "${inputs[@]}" >"$tmp/py.txt"

# Criterion's mean time per image (ns) -> images/s.
rate() { python3 -c "import json,sys; print(f'{1e9/json.load(open(sys.argv[1]))[\"mean\"][\"point_estimate\"]:.1f}')" "$1"; }
printf '%-6s %-40s %12s %14s %8s\n' format "python imagehash (phash+dhash)" "python img/s" "knockoff img/s" ratio
for kind in jpeg_q85 png webp; do
  case $kind in jpeg_q85) f=${inputs[0]};; png) f=${inputs[1]};; webp) f=${inputs[2]};; esac
  k=$(rate "$criterion/$kind/read_decode_hash_all/new/estimates.json")
  dec=$(rate "$criterion/$kind/decode_only/new/estimates.json")
  while IFS=$'\t' read -r file mode py; do
    [ "$file" = "$f" ] || continue
    ratio=$(python3 -c "print(f'{$k/$py:.1f}x')")
    printf '%-6s %-40s %12s %14s %8s\n' "$kind" "$mode" "$py" "$k" "$ratio"
  done <"$tmp/py.txt"
  echo "       (knockoff decode only: $dec img/s; full path = $(python3 -c "print(f'{$k/$dec*100:.0f}')")% of decode-only rate)"
done
echo "knockoff features: ${KNOCKOFF_FEATURES:-default}"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
