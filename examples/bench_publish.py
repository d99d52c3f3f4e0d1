"""Publisher cost on real PyBoy, with and without a monitor reading.

    cargo build --release && .venv/bin/python examples/bench_publish.py

Prints, in one run: median and p99 of publish() in µs with a reader (a real
`gbwatch stats` process capturing at 60 and at 240 fps) and with none, and the same for
the calls that copied a frame (the publisher copies at most 4 frames per reader capture
interval, so most calls with a reader skip the copy); PyBoy frames/s without publishing and with
publishing every frame, both with and without the reader. Throughput is measured in
interleaved blocks (baseline, publish, baseline, ...) and the medians are compared, so
background noise hits both sides alike. The "with info" row passes an 8-field info
(step, episode, episode_return, reward, action, x, y, map_id: what `gbwatch.wrap` sends plus
three game fields) with every publish() call; compare it with the row above it. The last
line is the copying cost of that info measured side by side (see paired_copy_cost): the
cost is cache misses after each PyBoy tick, so it moves with how busy the machine is.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "python"))
from gbwatch import Publisher, checksums_needed  # noqa: E402
import warnings

warnings.filterwarnings("ignore", message="Using SDL2 binaries")
from pyboy import PyBoy  # noqa: E402  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--gbwatch", default=os.path.join(ROOT, "target", "release", "gbwatch"))
ap.add_argument("--rom", default=os.path.join(ROOT, "assets", "demo.gb"))
ap.add_argument("--calls", type=int, default=20000, help="timed publish() calls per case")
ap.add_argument("--block", type=int, default=3000, help="frames per throughput block")
ap.add_argument("--blocks", type=int, default=9, help="throughput blocks per side")
ap.add_argument("--rounds", type=int, default=5, help="rounds of the side-by-side info cost")
args = ap.parse_args()

pyboy = PyBoy(args.rom, window="null", sound_emulated=False)
pyboy.set_emulation_speed(0)
pyboy.tick(300, True)
slot_dir = tempfile.mkdtemp(prefix="gbwatch-bench-")
pub = Publisher("bench", directory=slot_dir)
buf = pyboy.screen.raw_buffer


INFO = {"step": 0, "episode": 3, "episode_return": 12.5, "reward": 0.25, "action": 4, "x": 10, "y": 7, "map_id": 38}


def publish_latencies(n, info=None):
    out, copying = [], []
    clock = time.perf_counter_ns
    start = time.perf_counter()
    for i in range(n):
        pyboy.tick()
        if info is not None:
            info["step"] = i
        t0 = clock()
        copied = pub.publish(buf, None, info)
        dt = clock() - t0
        out.append(dt)
        if copied:
            copying.append(dt)
    copies_per_s = len(copying) / (time.perf_counter() - start)
    # The timer's own cost, measured the same way, is subtracted.
    empty = []
    for _ in range(n):
        t0 = clock()
        empty.append(clock() - t0)
    overhead = statistics.median(empty)
    out.sort()
    copying.sort()
    us = lambda v: (v - overhead) / 1000  # noqa: E731
    copy_med = us(statistics.median(copying)) if copying else float("nan")
    copy_p99 = us(copying[int(len(copying) * 0.99)]) if copying else float("nan")
    return us(statistics.median(out)), us(out[int(len(out) * 0.99)]), copy_med, copy_p99, copies_per_s


def paired_copy_cost(n, rounds, plain, with_info, plain_info=None, other_info=INFO):
    """Copying publish() of two publishers side by side (`plain` without info and
    `with_info` with INFO; or, for the checksum, both with INFO, one without and one with
    the checksum), both publishing the same frames every tick in alternating order, one
    `gbwatch stats` capturing both at 240 fps; so both sides see the machine in the same
    state at every moment. Returns a (plain median, other median) pair per round, in µs."""
    reader = subprocess.Popen(
        [args.gbwatch, "stats", "--duration", "3600", "--fps", "240", slot_dir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    clock = time.perf_counter_ns
    out = []
    try:
        deadline = time.monotonic() + 30  # a reader's first start on a busy machine
        while not (plain.watched and with_info.watched):
            if time.monotonic() > deadline:
                sys.exit("the paired publishers never saw the reader")
            pyboy.tick()
            plain.publish(buf, None, plain_info)
            with_info.publish(buf, None, other_info)
            time.sleep(0.01)
        for i in range(3000):
            pyboy.tick()
            plain.publish(buf, None, plain_info)
            with_info.publish(buf, None, other_info)
        for _ in range(rounds):
            a, b = [], []
            for i in range(n):
                pyboy.tick()
                INFO["step"] = i
                for side in ((0, 1) if i % 2 else (1, 0)):
                    t0 = clock()
                    if side:
                        copied = with_info.publish(buf, None, other_info)
                    else:
                        copied = plain.publish(buf, None, plain_info)
                    dt = clock() - t0
                    if copied:
                        (b if side else a).append(dt)
            out.append((statistics.median(a) / 1000, statistics.median(b) / 1000))
    finally:
        reader.kill()
        reader.wait()
        plain.close()
        with_info.close()
    return out


def throughput(publish, info=None):
    tick = pyboy.tick
    start = time.perf_counter()
    if publish and info is not None:
        for i in range(args.block):
            tick()
            info["step"] = i
            pub.publish(buf, None, info)
    elif publish:
        for _ in range(args.block):
            tick()
            pub.publish(buf)
    else:
        for _ in range(args.block):
            tick()
    return args.block / (time.perf_counter() - start)


def interleaved(info=None):
    base, with_pub = [], []
    for _ in range(args.blocks):
        base.append(throughput(False))
        with_pub.append(throughput(True, info))
    return statistics.median(base), statistics.median(with_pub)


def wait_watched(state):
    deadline = time.monotonic() + 30  # a reader's first start on a busy machine
    while pub.watched != state and time.monotonic() < deadline:
        pyboy.tick()
        pub.publish(buf)
        time.sleep(0.01)
    if pub.watched != state:
        sys.exit("publisher never saw the reader %s" % ("arrive" if state else "leave"))


results = {}
for fps in (60, 240, "240i"):
    pub.publish(buf)  # the slot exists before its reader starts (a SLOT-FILE must exist)
    reader = subprocess.Popen(
        [args.gbwatch, "stats", "--duration", "3600", "--fps", str(fps).rstrip("i"), os.path.join(slot_dir, "bench.slot")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_watched(True)
        time.sleep(0.3)  # let the reader's rate reach the publisher
        for _ in range(3000):
            pyboy.tick()
            pub.publish(buf)
        info = INFO if fps == "240i" else None
        results[fps] = publish_latencies(args.calls, info) + interleaved(info)
    finally:
        reader.kill()
        reader.wait()
    wait_watched(False)
results["none"] = publish_latencies(args.calls) + interleaved()
paired = paired_copy_cost(args.calls, args.rounds, Publisher("plain", directory=slot_dir),
                          Publisher("info", directory=slot_dir))
# The frame checksum (FORMAT.md: on by default where stores may be reordered, ARM), forced
# off and on here, both sides with info.
checked = paired_copy_cost(args.calls, args.rounds, Publisher("unchecked", directory=slot_dir, checksum=False),
                           Publisher("checked", directory=slot_dir, checksum=True), INFO, INFO)
pub.close()
pyboy.stop(save=False)

print("publish() on real PyBoy %s (%s, 160x144 RGBA)" % (getattr(sys.modules["pyboy"], "__version__", ""), os.path.basename(args.rom)))
print("| reader | publish() median | publish() p99 | copying publish() median / p99 | copies/s | PyBoy fps, no publish | PyBoy fps, publish every frame | throughput loss |")
print("|---|---|---|---|---|---|---|---|")
for key, label in ((60, "gbwatch capturing 60 fps"), (240, "gbwatch capturing 240 fps"), ("240i", "gbwatch capturing 240 fps, with info (8 fields)"), ("none", "nobody reading")):
    med, p99, cmed, cp99, cps, base, with_pub = results[key]
    loss = (base - with_pub) / base * 100
    copy = "-" if cps == 0 else "%.2f / %.2f µs" % (cmed, cp99)
    print("| %s | %.2f µs | %.2f µs | %s | %.0f | %.0f | %.0f | %.1f%% |" % (label, med, p99, copy, cps, base, with_pub, loss))
m240, mi = results[240], results["240i"]
deltas = sorted(b - a for a, b in paired)
print("info (8 fields), side by side at 240 fps: copying publish() median %+.2f µs (median of %d rounds of %d ticks; rounds %s); "
      "publish() median %+.2f µs, throughput loss %+.1f points against no info (target: copying <= +2 µs)"
      % (statistics.median(deltas), len(deltas), args.calls, ", ".join("%.2f -> %.2f" % r for r in paired),
         mi[0] - m240[0], (mi[5] - mi[6]) / mi[5] * 100 - (m240[5] - m240[6]) / m240[5] * 100))
deltas = sorted(b - a for a, b in checked)
print("checksum (CRC-32 of pixels, info and frame index), side by side at 240 fps, both with info: copying publish() "
      "median %+.2f µs (median of %d rounds of %d ticks; without -> with: %s); default on this CPU (%s): %s"
      % (statistics.median(deltas), len(deltas), args.calls, ", ".join("%.2f -> %.2f" % r for r in checked),
         os.uname().machine, "on" if checksums_needed() else "off"))
