"""Runs several real PyBoy instances in one process, each publishing to its own slot, so a
test can have many envs without one Python process per env.

    python tests/py/pyboy_many.py --dir DIR --names env-0,env-1,... [--fps 5] [--seconds 60]
        [--ticks-file FILE] [--index-pixels] [--log FILE]

--fps 1e9 runs as fast as PyBoy goes; --ticks-file writes "FRAMES MONOTONIC_NS" (frames of
all envs so far) twice a second, for benchmarks of the training's own speed.

--index-pixels paints the top third of every published frame in the colour
(n % 256, n // 256 % 256, 0x5a), n counting the published frames from 1, and sends
{"step": n} as its info, so a test can read from the screen which frame is shown;
--log writes "NAME N MONOTONIC_NS" just before each publish; --episode-every K adds
"episode": n // K to that info (an episode ends before frames K, 2K, ...).

Prints "ready" once every slot exists. A line "close NAME" on stdin closes that env's
publisher (its slot is removed, as when a training process ends).
"""

import argparse
import os
import select
import struct
import sys
import time
import warnings

warnings.filterwarnings("ignore", message="Using SDL2 binaries")
from pyboy import PyBoy  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python"))
from gbwatch import Publisher  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--names", required=True, help="comma-separated env names")
ap.add_argument("--rom", default=os.path.join(os.path.dirname(__file__), "..", "..", "assets", "demo.gb"))
ap.add_argument("--fps", type=float, default=5.0)
ap.add_argument("--seconds", type=float, default=120.0)
ap.add_argument("--ticks-file", default=None, help="write the frames run so far (all envs) here twice a second")
ap.add_argument("--skip", type=int, default=120, help="frames to run before publishing (boot)")
ap.add_argument("--save-dir", default=None, help="write every published frame to DIR/NAME.frames as (u64 frame_index, RGBA)")
ap.add_argument("--index-pixels", action="store_true", help="paint the frame's number into its top third, send it as info step")
ap.add_argument("--episode-every", type=int, default=0, help="with --index-pixels, info episode = n // K")
ap.add_argument("--log", default=None, help="write NAME N MONOTONIC_NS before each publish")
args = ap.parse_args()
if args.index_pixels:
    import numpy as np
    canvases = {}
log = open(args.log, "w", buffering=1) if args.log else None

envs = {}
for i, name in enumerate(args.names.split(",")):
    pyboy = PyBoy(args.rom, window="null", sound_emulated=False)
    pyboy.set_emulation_speed(0)
    # Different envs at different points of the demo, so their pictures differ.
    pyboy.tick(args.skip + 37 * i, True)
    pub = Publisher(name, directory=args.dir)
    pub.publish(pyboy.screen.raw_buffer, pyboy.frame_count)
    envs[name] = (pyboy, pub)
saves = {}
if args.save_dir:
    os.makedirs(args.save_dir, exist_ok=True)
    saves = {name: open(os.path.join(args.save_dir, name + ".frames"), "wb") for name in envs}
print("ready", flush=True)
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
start = time.monotonic()
next_report = start
n = 0
stdin_open = True
while time.monotonic() - start < args.seconds:
    if stdin_open and select.select([sys.stdin], [], [], 0)[0]:
        line = sys.stdin.readline()
        if not line:
            stdin_open = False
        elif line.startswith("close "):
            gone = envs.pop(line.split(None, 1)[1].strip(), None)
            if gone is not None:
                gone[1].close()
                gone[0].stop(save=False)
    for name, (pyboy, pub) in envs.items():
        pyboy.tick()
        if args.index_pixels:
            # One array per env, changed in place: the publisher describes it once.
            canvas = canvases.setdefault(name, np.empty((144, 160, 4), np.uint8))
            canvas[:] = pyboy.screen.ndarray
            canvas[:48] = (n + 1) % 256, (n + 1) // 256 % 256, 0x5A, 255
            if log is not None:
                log.write("%s %d %d\n" % (name, n + 1, time.monotonic_ns()))
            info = {"step": n + 1}
            if args.episode_every:
                info["episode"] = (n + 1) // args.episode_every
            pub.publish(canvas, n + 1, info)
        else:
            pub.publish(pyboy.screen.raw_buffer, pyboy.frame_count)
        if name in saves:
            if args.index_pixels:
                saves[name].write(struct.pack("<Q", n + 1))
                saves[name].write(canvas.tobytes())
            else:
                saves[name].write(struct.pack("<Q", pyboy.frame_count))
                saves[name].write(memoryview(pyboy.screen.raw_buffer).cast("B"))
            saves[name].flush()
    n += 1
    if args.ticks_file and time.monotonic() >= next_report:
        next_report = time.monotonic() + 0.5
        with open(args.ticks_file + ".tmp", "w") as f:
            f.write("%d %d\n" % (n * len(envs), time.monotonic_ns()))
        os.replace(args.ticks_file + ".tmp", args.ticks_file)
    delay = start + n / args.fps - time.monotonic()
    if delay > 0:
        time.sleep(delay)
for pyboy, pub in envs.values():
    pub.close()
    pyboy.stop(save=False)
