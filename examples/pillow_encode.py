"""The peer for examples/bench_encode.rs: Pillow (libjpeg-turbo) scaling and encoding the
same raw frames the way a Python dashboard does (frombuffer, RGB, nearest resize, JPEG).

    python examples/pillow_encode.py FRAMES_FILE SCALE QUALITY

FRAMES_FILE holds (u64 frame_index, 160*144*4 RGBA bytes) records. Prints one JSON line:
median µs per frame, mean JPEG bytes and the PSNR of every 5th frame against the
nearest-neighbour upscale.
"""

import io
import json
import math
import statistics
import sys
import time

import PIL
from PIL import Image, ImageChops, ImageStat

path, scale, quality = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
W, H = 160, 144
rec = 8 + W * H * 4
data = open(path, "rb").read()
frames = [data[i + 8:i + rec] for i in range(0, len(data) - rec + 1, rec)]
times, sizes = [], []
for _ in range(2):  # first pass warms caches; both passes are timed alike
    times.clear()
    sizes.clear()
    jpegs = []
    for raw in frames:
        t0 = time.perf_counter_ns()
        img = Image.frombuffer("RGBA", (W, H), raw, "raw", "RGBA", 0, 1).convert("RGB")
        if scale != 1:
            img = img.resize((W * scale, H * scale), Image.NEAREST)
        out = io.BytesIO()
        img.save(out, format="JPEG", quality=quality, subsampling="4:2:0")
        times.append(time.perf_counter_ns() - t0)
        sizes.append(out.tell())
        jpegs.append(out.getvalue())
# PSNR of every 5th JPEG against the nearest-neighbour upscale, as bench_encode measures ours.
err = n = 0
for raw, jpeg in list(zip(frames, jpegs))[::5]:
    img = Image.frombuffer("RGBA", (W, H), raw, "raw", "RGBA", 0, 1).convert("RGB")
    img = img.resize((W * scale, H * scale), Image.NEAREST)
    diff = ImageChops.difference(img, Image.open(io.BytesIO(jpeg)).convert("RGB"))
    err += sum(ImageStat.Stat(diff).sum2)
    n += img.width * img.height * 3
psnr = 10 * math.log10(255 ** 2 / (err / n))
print(json.dumps({"median_us": statistics.median(times) / 1000, "mean_bytes": sum(sizes) / len(sizes),
                  "psnr": psnr, "pillow": PIL.__version__}))
