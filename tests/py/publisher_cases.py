"""Exercises the Python publisher's API for tests/publisher_py.rs.

    python publisher_cases.py DIR formats   # publishes RGB, GRAY8, BGRA and RGBA frames, waits for "done" on stdin
    python publisher_cases.py DIR misuse    # bad frames and names: nothing raises into the caller
    python publisher_cases.py DIR safety S  # publishes for S seconds; prints the slowest publish() in µs
    python publisher_cases.py DIR info      # frames 1-9 with good and bad info, 0.3 s apart
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python"))
import numpy as np  # noqa: E402
from gbwatch import Publisher  # noqa: E402

directory, case = sys.argv[1], sys.argv[2]


def pattern(h, w, c):
    y, x = np.mgrid[0:h, 0:w]
    planes = [(x * 3 + y + k * 50) % 256 for k in range(c)]
    return np.stack(planes, axis=-1).astype(np.uint8) if c > 1 else planes[0].astype(np.uint8)


def publish_until_watched(pub, frame):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if pub.publish(frame, 7):
            return
        time.sleep(0.02)
    sys.exit("no reader heartbeat within 10 s")


if case == "formats":
    rgb = Publisher("rgb", directory=directory)
    gray = Publisher("gray", directory=directory)
    bgra = Publisher("bgra", directory=directory, pixel_format="BGRA")
    rgba = Publisher("rgba", directory=directory)
    frames = {rgb: pattern(144, 160, 3), gray: pattern(144, 160, 1), bgra: pattern(144, 160, 4), rgba: pattern(120, 100, 4)}
    for pub, frame in frames.items():
        pub.publish(frame, 7)  # creates the slot
    print("ready", flush=True)
    for pub, frame in frames.items():
        publish_until_watched(pub, frame)
    print("published", flush=True)
    sys.stdin.readline()
    # Normal exit: atexit removes the slots.
elif case == "misuse":
    failures = 0
    try:
        Publisher("bad/name", directory=directory)
    except ValueError:
        failures += 1  # a bad name is a programming error, raised at construction
    pub = Publisher("misuse", directory=directory)
    results = [
        pub.publish(np.zeros((10, 10, 2), np.uint8)),  # wrong channel count
        pub.publish(b"not a frame"),  # 1-D bytes
        pub.publish(np.zeros((144, 160, 4), np.uint8)),  # fine, but publishing stopped after the error
    ]
    with Publisher("ctx", directory=directory) as ctx:
        ctx.publish(np.zeros((144, 160, 4), np.uint8))
        inside = os.path.exists(os.path.join(directory, "ctx.slot"))
    after = os.path.exists(os.path.join(directory, "ctx.slot"))
    print(failures, results, inside, after, flush=True)
elif case == "safety":
    seconds = float(sys.argv[3])
    pub = Publisher("safety", directory=directory)
    frame = pattern(144, 160, 4)
    pub.publish(frame)
    print("ready", flush=True)
    worst = 0
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        t0 = time.perf_counter_ns()
        pub.publish(frame)
        worst = max(worst, time.perf_counter_ns() - t0)
        n += 1
        time.sleep(0.0005)
    print(n, worst / 1000, flush=True)
elif case == "info":
    pub = Publisher("info", directory=directory)
    frame = pattern(144, 160, 4)
    pub.publish(frame, 0)
    print("ready", flush=True)
    publish_until_watched(pub, frame)
    infos = [
        {"step": 1, "reward": 0.5, "map": "route 1", "done": False, "action": np.int64(3)},
        {"step": 2, "reward": float("nan")},  # NaN
        {"step": 3, "obs": [1, 2]},  # a list
        {"k%d" % i: i for i in range(33)},  # too many fields
        {"step": 5, "text": "x" * 5000},  # too big
        {"step": 2**70},  # outside 64 bits
        {"step": 7, "reward": np.float32(0.25), "flag": np.bool_(True)},
        {"step": 8, "reward": "high", "flag": False},  # the same keys, other types
        {"step": 9.5, "reward": 1.25, "flag": True},
        # Ints and floats only: values packed straight into the slot after the first.
        {"step": 10, "reward": 0.5},
        {"step": 11, "reward": 0.75},
        {"step": 12, "reward": float("inf")},  # not finite
        {"step": 13.5, "reward": 1.0},  # an int field gets a float
        {"step": 14, "gone": 1},  # as many fields, other keys
    ]
    for i, info in enumerate(infos, 1):
        pub.publish(frame, i, info=info)
        time.sleep(0.3)
    print("published", flush=True)
    sys.stdin.readline()
