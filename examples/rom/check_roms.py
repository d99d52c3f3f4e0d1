#!/usr/bin/env python3
"""Run the generated demo ROMs in a real (headless) PyBoy and sanity-check them.

Needs: pyboy (2.x), numpy, and pillow (only for --shots).

    python examples/rom/check_roms.py [--assets DIR] [--frames N] [--shots DIR]

Checks
  demo.gb         most consecutive frames differ, >= 4 colours on screen,
                  OBJ layer enabled and several sprites in OAM on screen.
  demo-static.gb  most consecutive frames identical, but >= 2 distinct screens.
  demo-walk.gb    the walker's position (RAM 0xC100..0xC102) changes and matches its
                  sprite in OAM; a position written into RAM with step 0 stays put.
Exits non-zero if any check fails.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
from pyboy import PyBoy

HERE = Path(__file__).resolve()
DEFAULT_ASSETS = HERE.parents[2] / "assets"


def run(rom: Path, frames: int):
    pb = PyBoy(str(rom), window="null", sound_emulated=False)
    try:
        shots = []
        for _ in range(frames):
            pb.tick()
            # screen.ndarray is a live view of the frame buffer: copy it
            shots.append(np.array(pb.screen.ndarray[:, :, :3], copy=True))
        info = {
            "title": pb.cartridge_title,
            "lcdc": pb.memory[0xFF40],
            "oam": list(pb.memory[0xFE00:0xFEA0]),
        }
    finally:
        pb.stop(save=False)
    return shots, info


def stats(shots):
    diffs = [not np.array_equal(a, b) for a, b in zip(shots, shots[1:])]
    changed_px = [float(np.mean(np.any(a != b, axis=2))) for a, b in zip(shots, shots[1:])]
    hashes = {hashlib.sha1(s.tobytes()).hexdigest() for s in shots}
    packed = (s.astype(np.uint32) for s in shots)
    colours = [len(np.unique((p[..., 0] << 16) | (p[..., 1] << 8) | p[..., 2])) for p in packed]
    return diffs, changed_px, hashes, colours


def save(shots, idxs, out: Path, stem: str):
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    for i in idxs:
        img = Image.fromarray(shots[i].astype(np.uint8), "RGB").resize((320, 288), Image.NEAREST)
        img.save(out / f"{stem}-f{i:04d}.png")


def check_walk(rom: Path, frames: int, check) -> None:
    pb = PyBoy(str(rom), window="null", sound_emulated=False)
    try:
        pb.tick(180, False)
        seen, sprite_ok = set(), True
        for _ in range(frames):
            pb.tick(1, False)
            m = pb.memory
            x, y, region = m[0xC100], m[0xC101], m[0xC102]
            seen.add((region, x, y))
            # OAM is written from the shadow copy in the next VBlank: compare with the copy
            sprite_ok &= (m[0xC000], m[0xC001]) == (y * 8 + 16, x * 8 + 8)
            sprite_ok &= x < 20 and y < 18 and region < 4
        m = pb.memory
        m[0xC104], m[0xC100], m[0xC101], m[0xC102] = 0, 7, 3, 2
        pb.tick(30, False)
        still = (m[0xC100], m[0xC101], m[0xC102], m[0xFE00], m[0xFE01]) == (7, 3, 2, 40, 64)
    finally:
        pb.stop(save=False)
    print(f"demo-walk.gb, {frames} frames: {len(seen)} distinct positions")
    check(len(seen) >= frames // 16, "the walker moves (a step every 8 frames, most to a new tile)")
    check(sprite_ok, "the sprite sits at the RAM position, in bounds")
    check(still, "a position written into RAM with step 0 stays, and the sprite shows it")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assets", default=str(DEFAULT_ASSETS), help="directory with demo.gb / demo-static.gb")
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument("--shots", default=None, help="save a few PNG screenshots here")
    args = ap.parse_args()
    assets = Path(args.assets)
    failures: list[str] = []
    # skip the first frames: PyBoy runs its built-in boot ROM before our code
    warm = 120

    def check(cond: bool, msg: str):
        print(("  ok   " if cond else "  FAIL ") + msg)
        if not cond:
            failures.append(msg)

    # ---- demo.gb -------------------------------------------------------------
    shots, info = run(assets / "demo.gb", args.frames)
    diffs, changed, hashes, colours = stats(shots[warm:])
    frac_diff = sum(diffs) / len(diffs)
    oam = info["oam"]
    visible = sum(1 for i in range(40) if 0 < oam[4 * i] < 160 and 0 < oam[4 * i + 1] < 168)
    print(f"demo.gb ({info['title']!r}), frames {warm}..{args.frames}:")
    print(f"  consecutive frames differing: {sum(diffs)}/{len(diffs)} ({frac_diff:.0%}), "
          f"mean changed pixels {np.mean(changed):.0%}")
    print(f"  distinct frames: {len(hashes)}, colours per frame min/max: {min(colours)}/{max(colours)}")
    print(f"  LCDC=0x{info['lcdc']:02X}, sprites on screen (OAM): {visible}")
    check(frac_diff >= 0.9, "most consecutive frames differ")
    check(float(np.mean(changed)) >= 0.2, "frames are busy (>=20% pixels change per frame on average)")
    check(min(colours) >= 4, "at least 4 distinct colours on screen")
    check(bool(info["lcdc"] & 0x02), "OBJ layer enabled (LCDC bit 1)")
    check(visible >= 4, "at least 4 sprites positioned on screen")
    if args.shots:
        save(shots, [150, 300, 450, args.frames - 1], Path(args.shots), "demo")

    # ---- demo-static.gb ----------------------------------------------------------
    shots, info = run(assets / "demo-static.gb", args.frames)
    diffs, changed, hashes, colours = stats(shots[warm:])
    frac_same = 1 - sum(diffs) / len(diffs)
    print(f"demo-static.gb ({info['title']!r}), frames {warm}..{args.frames}:")
    print(f"  consecutive frames identical: {len(diffs) - sum(diffs)}/{len(diffs)} ({frac_same:.0%})")
    print(f"  distinct screens: {len(hashes)}, colours per frame max: {max(colours)}")
    check(frac_same >= 0.9, "most consecutive frames identical")
    check(len(hashes) >= 2, "at least 2 distinct screens")
    if args.shots:
        # one screenshot per message
        seen, idxs = set(), []
        for i in range(warm, len(shots)):
            h = hashlib.sha1(shots[i].tobytes()).hexdigest()
            if h not in seen:
                seen.add(h)
                idxs.append(i)
        save(shots, idxs[:4], Path(args.shots), "static")

    # ---- demo-walk.gb -----------------------------------------------------------
    check_walk(assets / "demo-walk.gb", args.frames, check)

    if failures:
        print(f"FAILED: {len(failures)} check(s)")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
