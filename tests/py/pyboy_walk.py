"""Runs several real PyBoy envs of the walking ROM (assets/demo-walk.gb), each wrapped with
gbwatch.wrap(env, fields=["x", "y", "map"]): the env reads the walker's position from RAM
into its step info, as a training env reads a game's.

    python tests/py/pyboy_walk.py --dir DIR --envs NAME=MAP:X:Y,... [--step 0] [--fps 10]
        [--bare NAME,...] [--seconds 120] [--log FILE]

Each env starts at MAP:X:Y (written into the ROM's RAM); `--step 0` keeps every walker
where it starts, `--step N` walks one tile every N frames (seeded per env). `--bare` envs
run the same ROM but report no position fields. `--log` appends "NAME MAP X Y NS" whenever
an env's position changes (NS: time.monotonic_ns() just before the step that publishes it).
Prints "ready" once every slot exists.
"""

import argparse
import os
import sys
import time
import warnings

warnings.filterwarnings("ignore", message="Using SDL2 binaries")
from pyboy import PyBoy  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python"))
import gbwatch  # noqa: E402

# The walker's RAM (examples/rom/make_rom.py, WALK_*).
WALK_X, WALK_Y, WALK_REGION, WALK_SEED, WALK_STEP = 0xC100, 0xC101, 0xC102, 0xC103, 0xC104
ROM = os.path.join(os.path.dirname(__file__), "..", "..", "assets", "demo-walk.gb")


class WalkEnv:
    """A minimal env over the walking ROM: step() ticks one frame and reports the position."""

    def __init__(self, start, seed, step_frames):
        self.pyboy = PyBoy(ROM, window="null", sound_emulated=False)
        self.pyboy.set_emulation_speed(0)
        self.pyboy.tick(180, False)  # boot, then the ROM's own start
        region, x, y = start
        mem = self.pyboy.memory
        mem[WALK_X], mem[WALK_Y], mem[WALK_REGION] = x, y, region
        mem[WALK_SEED], mem[WALK_STEP] = seed, step_frames
        self.pyboy.tick(1, True)

    def reset(self, **kwargs):
        return None, {}

    def step(self, action):
        self.pyboy.tick()
        mem = self.pyboy.memory
        info = {"x": mem[WALK_X], "y": mem[WALK_Y], "map": mem[WALK_REGION]}
        return None, 0.0, False, False, info

    def close(self):
        self.pyboy.stop(save=False)


ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--envs", required=True, help="comma-separated NAME=MAP:X:Y")
ap.add_argument("--bare", default="", help="comma-separated names of envs with no position fields")
ap.add_argument("--step", type=int, default=0, help="frames per walking step; 0 stands still")
ap.add_argument("--fps", type=float, default=10.0)
ap.add_argument("--seconds", type=float, default=120.0)
ap.add_argument("--log", default=None, help="where each change of position is written")
args = ap.parse_args()

envs = []
names = []
for i, spec in enumerate(args.envs.split(",")):
    name, pos = spec.split("=")
    start = tuple(int(v) for v in pos.split(":"))
    env = gbwatch.wrap(WalkEnv(start, 1 + (37 * i) % 255, args.step), name=name, fields=["x", "y", "map"],
                       directory=args.dir)
    envs.append(env)
    names.append(name)
for name in filter(None, args.bare.split(",")):
    envs.append(gbwatch.wrap(WalkEnv((0, 0, 0), 1, 0), name=name, directory=args.dir))
for env in envs:
    env.reset()
    env.step(0)
print("ready", flush=True)
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
log = open(args.log, "a", buffering=1) if args.log else None
last = {}
start = time.monotonic()
n = 0
while time.monotonic() - start < args.seconds:
    for k, env in enumerate(envs):
        ns = time.monotonic_ns()
        info = env.step(0)[4]
        if log and k < len(names):
            pos = (info["map"], info["x"], info["y"])
            if last.get(k) != pos:
                last[k] = pos
                log.write(f"{names[k]} {pos[0]} {pos[1]} {pos[2]} {ns}\n")
    n += 1
    delay = start + n / args.fps - time.monotonic()
    if delay > 0:
        time.sleep(delay)
for env in envs:
    env.close()
