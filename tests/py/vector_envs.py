"""Real vector-env stacks around real PyBoy envs made with gbwatch.wrap() and no name, for
tests/wrap_vector.rs. Prints one JSON line of what it saw.

    python vector_envs.py async spawn|forkserver   # gymnasium AsyncVectorEnv of 8 envs
    python vector_envs.py forkpool                 # multiprocessing Pool (fork) of 4 workers

The slot directory is $GBWATCH_DIR. Slot owners are read from the slot headers (pid at
offset 32), so the test sees what gbwatch would see.
"""

import functools
import json
import os
import signal
import struct
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore", message="Using SDL2 binaries")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples", "python"))
import gbwatch  # noqa: E402
import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

ROM = os.path.join(HERE, "..", "..", "assets", "demo.gb")


class GbEnv(gym.Env):
    """A minimal PyBoy env: one tick per step, a constant reward, `x` in the step info."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, rom=ROM):
        from pyboy import PyBoy

        self.pyboy = PyBoy(rom, window="null", sound_emulated=False)
        self.pyboy.set_emulation_speed(0)
        self.observation_space = gym.spaces.Box(0, 255, (1,), np.uint8)
        self.action_space = gym.spaces.Discrete(4)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(1, np.uint8), {}

    def step(self, action):
        self.pyboy.tick()
        return np.zeros(1, np.uint8), 1.0, False, False, {"x": int(action) + 10}

    def close(self):
        self.pyboy.stop(save=False)


def make_env(rom):
    return gbwatch.wrap(GbEnv(rom), fields=["x"])


def slots():
    """{name: pid} of the slot files in the directory."""
    d = gbwatch.slot_dir()
    out = {}
    for f in sorted(os.listdir(d)):
        if f.endswith(".slot") and not f.startswith("."):
            with open(os.path.join(d, f), "rb") as fh:
                out[f[:-5]] = struct.unpack_from("<I", fh.read(36), 32)[0]
    return out


def step(envs, n=3):
    for _ in range(n):
        envs.step(envs.action_space.sample())


def run_async(context):
    from gymnasium.vector import AsyncVectorEnv

    fns = [functools.partial(make_env, ROM) for _ in range(8)]
    envs = AsyncVectorEnv(fns, context=context)
    envs.reset(seed=1)
    step(envs)
    names = list(envs.get_attr("gbwatch_name"))
    before = slots()
    envs.reset()
    step(envs)
    after_reset = list(envs.get_attr("gbwatch_name"))
    victim = envs.processes[3]
    victim.kill()
    victim.join()
    # The replacement: one more worker, while the other seven keep their names.
    again = AsyncVectorEnv([functools.partial(make_env, ROM)], context=context)
    again.reset()
    step(again)
    replacement = list(again.get_attr("gbwatch_name"))[0]
    after = slots()
    again.close()
    try:
        envs.close(terminate=True)
    except Exception:
        pass
    return {"parent": os.getpid(), "names": names, "after_reset": after_reset,
            "before": before, "killed": names[3], "killed_pid": victim.pid,
            "replacement": replacement, "after": after}


# The fork stack: workers use the env the parent made (and stepped) before forking.
PARENT_ENV = None


def work(n):
    PARENT_ENV.reset()
    for _ in range(n):
        PARENT_ENV.step(0)
    time.sleep(0.2)  # so that every worker gets tasks
    return os.getpid(), PARENT_ENV.gbwatch_name


def die(path):
    """Ends the worker that runs it, as a crash would, after naming itself in `path`. A
    worker ends inside a task, so it holds none of the pool's queue locks (a worker killed
    while idle may hold the task queue's lock, and the pool then hangs forever)."""
    with open(path + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(path + ".tmp", path)
    os._exit(1)


def run_forkpool():
    import multiprocessing

    global PARENT_ENV
    PARENT_ENV = make_env(ROM)
    PARENT_ENV.reset()
    PARENT_ENV.step(0)
    parent_name = PARENT_ENV.gbwatch_name
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(4) as pool:
        first = dict(pool.map(work, [3] * 16, chunksize=1))
        before = slots()
        marker = os.path.join(tempfile.mkdtemp(), "victim")
        pool.apply_async(die, (marker,))
        deadline = time.monotonic() + 20
        while not os.path.exists(marker):
            if time.monotonic() > deadline:
                sys.exit("no worker took the task that ends it")
            time.sleep(0.05)
        with open(marker) as f:
            victim = int(f.read())
        while victim in [p.pid for p in pool._pool] or len(pool._pool) < 4:
            if time.monotonic() > deadline:
                sys.exit("the pool never replaced its killed worker")
            time.sleep(0.05)
        second = dict(pool.map(work, [3] * 16, chunksize=1))
        after = slots()
    return {"parent": os.getpid(), "parent_name": parent_name,
            "first": {str(k): v for k, v in first.items()}, "killed_pid": victim,
            "killed": first[victim], "second": {str(k): v for k, v in second.items()},
            "before": before, "after": after}


if __name__ == "__main__":
    if sys.argv[1] == "async":
        result = run_async(sys.argv[2])
    else:
        result = run_forkpool()
    print(json.dumps(result), flush=True)
