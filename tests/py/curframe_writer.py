"""Rewrites many curframe_{i}.jpeg files in place, non-atomically, the way per-env trainers
save their current frame, so a reader can be caught on half-written files.

    python tests/py/curframe_writer.py --root DIR --refs DIR [--envs 64] [--late 4]
        [--seconds 3] [--images 6]

Makes --images distinct JPEGs (Pillow, quality 90) from real PyBoy frames of assets/demo.gb
and saves them as REFS/known-K.jpeg. Writes ROOT/sK/curframe_I.jpeg for the first
envs - late envs, prints "ready", then keeps rewriting random files with random known images:
truncate, then the bytes in three separate writes with short pauses. After one second the
last --late envs appear.
"""

import argparse
import io
import os
import random
import time

from pyboy import PyBoy

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")

ap = argparse.ArgumentParser()
ap.add_argument("--root", required=True)
ap.add_argument("--refs", required=True)
ap.add_argument("--envs", type=int, default=64)
ap.add_argument("--late", type=int, default=4)
ap.add_argument("--seconds", type=float, default=3.0)
ap.add_argument("--images", type=int, default=6)
args = ap.parse_args()

pyboy = PyBoy(os.path.join(ROOT, "assets", "demo.gb"), window="null", sound_emulated=False)
pyboy.set_emulation_speed(0)
pyboy.tick(120, True)
images = []
for k in range(args.images):
    pyboy.tick(7, True)
    buf = io.BytesIO()
    pyboy.screen.image.convert("RGB").save(buf, format="JPEG", quality=90)
    images.append(buf.getvalue())
    with open(os.path.join(args.refs, f"known-{k}.jpeg"), "wb") as f:
        f.write(images[-1])
pyboy.stop(save=False)


def path(i):
    d = os.path.join(args.root, f"s{i % 4}")
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, f"curframe_{i}.jpeg")


def rewrite(i, data):
    with open(path(i), "wb", buffering=0) as f:
        a, b = len(data) // 3, 2 * len(data) // 3
        f.write(data[:a])
        time.sleep(random.choice([0, 0, 0.0005, 0.002]))
        f.write(data[a:b])
        time.sleep(random.choice([0, 0.0005]))
        f.write(data[b:])


first = args.envs - args.late
for i in range(first):
    rewrite(i, random.choice(images))
print("ready", flush=True)
start = time.monotonic()
live = first
writes = 0
while time.monotonic() - start < args.seconds:
    if live < args.envs and time.monotonic() - start > 1.0:
        live = args.envs
    order = list(range(live))
    random.shuffle(order)
    for i in order:
        rewrite(i, random.choice(images))
        writes += 1
print("writes", writes, flush=True)
