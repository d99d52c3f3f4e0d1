"""The peer for examples/bench_decode.rs: Pillow (libjpeg-turbo) decoding the same JPEG files
to RGBA, as a Python consumer of an HTTP snapshot or MJPEG stream does.

    python examples/pillow_decode.py JPEGS_FILE PASSES

JPEGS_FILE holds (u32 LE length, JPEG bytes) records. Prints the mean ms per decode.
"""

import io
import struct
import sys
import time

from PIL import Image

path, passes = sys.argv[1], int(sys.argv[2])
data = open(path, "rb").read()
jpegs, at = [], 0
while at < len(data):
    (n,) = struct.unpack_from("<I", data, at)
    jpegs.append(data[at + 4:at + 4 + n])
    at += 4 + n
for j in jpegs:  # warm-up
    Image.open(io.BytesIO(j)).convert("RGBA").tobytes()
start = time.perf_counter()
for _ in range(passes):
    for j in jpegs:
        Image.open(io.BytesIO(j)).convert("RGBA").tobytes()
print((time.perf_counter() - start) * 1e3 / (passes * len(jpegs)))
