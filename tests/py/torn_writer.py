"""Publishes as fast as possible frames whose every byte is (frame_index & 0xFF), through
the real publisher, for --seconds; prints the number of frames copied."""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python"))
from gbwatch import Publisher  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--seconds", type=float, default=10.0)
args = ap.parse_args()

frames = [memoryview(bytes([i]) * (160 * 144 * 4)).cast("B", (144, 160, 4)) for i in range(256)]
with Publisher("torn", directory=args.dir) as pub:
    pub.publish(frames[0], 0)
    print("ready", flush=True)
    end = time.monotonic() + args.seconds
    i = copied = 0
    while True:
        i += 1
        if pub.publish(frames[i & 0xFF], i):
            copied += 1
        if i & 0xFFF == 0 and time.monotonic() > end:
            break
print(copied, flush=True)
