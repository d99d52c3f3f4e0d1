"""Publishes as fast as possible frames whose every byte is (frame_index & 0xFF), through
the real publisher, for --seconds; prints the number of frames copied. With --info each
frame carries info naming its index: numbers on even frames, numbers and a string of
varying length on odd ones (so both encodings and changing lengths race the reader)."""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python"))
from gbwatch import Publisher  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--seconds", type=float, default=10.0)
ap.add_argument("--info", action="store_true")
args = ap.parse_args()

frames = [memoryview(bytes([i]) * (160 * 144 * 4)).cast("B", (144, 160, 4)) for i in range(256)]
with Publisher("torn", directory=args.dir) as pub:
    pub.publish(frames[0], 0)
    print("ready", flush=True)
    end = time.monotonic() + args.seconds
    i = copied = 0
    while True:
        i += 1
        info = None
        if args.info:
            if i & 1:
                info = {"frame": i, "byte": i & 0xFF, "tag": "f" * (i % 50) + str(i), "odd": True}
            else:
                info = {"frame": i, "byte": i & 0xFF, "half": i / 2.0, "odd": False}
        if pub.publish(frames[i & 0xFF], i, info):
            copied += 1
        if i & 0xFFF == 0 and time.monotonic() > end:
            break
print(copied, flush=True)
