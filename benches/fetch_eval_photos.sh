#!/usr/bin/env bash
# Fills a folder with the real photos used by the full image-matching
# evaluation, taken from wheels on PyPI (nothing is committed):
#   scikit-image 0.26.0 (skimage/data: public domain / CC0, see its _fetchers.py),
#   scikit-learn 1.9.1 (china.jpg, flower.jpg: CC BY 2.0, see its images/README.txt),
#   matplotlib 3.11.2 (grace_hopper.jpg: US Navy photo, public domain).
# Usage: bash benches/fetch_eval_photos.sh DIR
#        KNOCKOFF_EVAL_PHOTOS=DIR cargo bench --bench eval_images
set -euo pipefail
out=${1:?usage: fetch_eval_photos.sh DIR}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps -d "$tmp" scikit-image==0.26.0 scikit-learn==1.9.1 matplotlib==3.11.2
cd "$tmp"
for w in *.whl; do python3 -m zipfile -e "$w" x >/dev/null; done
# Photographs only (no drawings, charts, synthetic images or a second view
# of the same scene).
for f in astronaut brick camera cell chelsea clock_motion coffee coins grass gravel ihc \
         microaneurysms moon motorcycle_left page text; do
  cp "x/skimage/data/$f.png" "$out/"
done
cp x/skimage/data/{hubble_deep_field,retina,rocket}.jpg "$out/"
cp x/sklearn/datasets/images/{china,flower}.jpg "$out/"
cp x/matplotlib/mpl-data/sample_data/grace_hopper.jpg "$out/"
ls "$out" | wc -l
