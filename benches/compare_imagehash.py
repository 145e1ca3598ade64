"""Python imagehash (phash + dhash) throughput on the same files as
`cargo bench --bench hashing`, with and without Pillow's draft mode
(JPEG DCT-domain downscaling). Run by compare_imagehash.sh inside a
throwaway virtualenv. Prints images/s on one core."""
import sys
import time

import imagehash
from PIL import Image


def rate(path, draft, seconds=4.0):
    n = 0
    start = time.perf_counter()
    while True:
        with open(path, "rb") as f:
            img = Image.open(f)
            if draft and img.format == "JPEG":
                # Smallest DCT scale still >= 64 px (what knockoff asks of jpeg-decoder).
                img.draft("RGB", (64, 64))
            img.load()
            imagehash.phash(img)
            imagehash.dhash(img)
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


for path in sys.argv[1:]:
    print(f"{path}\tpython_phash_dhash\t{rate(path, False):.1f}")
    if path.lower().endswith((".jpg", ".jpeg")):
        print(f"{path}\tpython_phash_dhash_draft\t{rate(path, True):.1f}")
