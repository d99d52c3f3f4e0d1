"""Runs real PyBoy on one of the project's ROMs and publishes every frame to gbwatch.

    python tests/py/pyboy_publisher.py --dir DIR --name env-00 [--rom assets/demo.gb]
        [--fps 60] [--seconds 5 | --frames N] [--save FILE] [--skip 120] [--tick 1]

--save writes every frame PyBoy produced (whether or not a monitor was reading) as
(u64 frame_index, 92160 RGBA bytes) records, so a test can compare what gbwatch captured
with what PyBoy had, and benchmarks can replay real frames.
Prints "ready" on stdout once the slot exists.
"""

import argparse
import os
import signal
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
ap.add_argument("--name", default="env-00")
ap.add_argument("--rom", default=os.path.join(os.path.dirname(__file__), "..", "..", "assets", "demo.gb"))
ap.add_argument("--fps", type=float, default=60.0, help="0: as fast as PyBoy runs")
ap.add_argument("--seconds", type=float, default=None)
ap.add_argument("--frames", type=int, default=None)
ap.add_argument("--save", default=None)
ap.add_argument("--tick", type=int, default=1, help="emulator frames per published frame (6: a 10 fps sample of a 60 fps game)")
ap.add_argument("--skip", type=int, default=120, help="frames to run before publishing (boot)")
ap.add_argument("--info", action="store_true", help="publish info with each frame: step, frame, episode, episode_return, map")
ap.add_argument("--return-value", type=float, default=None, help="publish this episode_return always")
ap.add_argument("--freeze", default=None, help="A:B: the picture stays still from second A to B")
args = ap.parse_args()
# Ctrl-C ends training the normal way (the loop ends, the `with` block removes the slot), also
# when the parent started us with SIGINT ignored (a background job of a shell without job
# control). A flag, not KeyboardInterrupt: PyBoy's Cython callbacks swallow an exception
# raised inside them ("Exception ignored in PyBoy._post_tick"), and the run would go on.
stopping = False


def _stop(_signum, _frame):
    global stopping
    stopping = True


signal.signal(signal.SIGINT, _stop)
freeze = tuple(float(x) for x in args.freeze.split(":")) if args.freeze else None

pyboy = PyBoy(args.rom, window="null", sound_emulated=False)
pyboy.set_emulation_speed(0)
pyboy.tick(args.skip, True)
save = open(args.save, "wb") if args.save else None
with Publisher(args.name, directory=args.dir) as pub:
    pub.publish(pyboy.screen.raw_buffer, pyboy.frame_count)
    print("ready", flush=True)
    # The test stops reading stdout after "ready": later output must not hit a closed pipe.
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    start = time.monotonic()
    n = 0
    while not stopping:
        if args.seconds is not None and time.monotonic() - start >= args.seconds:
            break
        if args.frames is not None and n >= args.frames:
            break
        t = time.monotonic() - start
        if freeze is None or not (freeze[0] <= t < freeze[1]):
            pyboy.tick(args.tick, True)
        n += 1
        info = None
        if args.info:
            info = {"step": n, "frame": pyboy.frame_count, "episode": n // 100,
                    "episode_return": (n % 100) * 0.5, "map": "demo-%d" % (n // 100)}
            if args.return_value is not None:
                info["episode_return"] = args.return_value
        pub.publish(pyboy.screen.raw_buffer, pyboy.frame_count, info)
        if save is not None:
            save.write(struct.pack("<Q", pyboy.frame_count))
            save.write(memoryview(pyboy.screen.raw_buffer).cast("B"))
        if args.fps > 0:
            due = start + n / args.fps
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
if save is not None:
    save.close()
pyboy.stop(save=False)
