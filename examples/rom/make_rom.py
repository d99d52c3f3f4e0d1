#!/usr/bin/env python3
"""Generate the three homebrew Game Boy demo ROMs used by gbwatch's examples/tests.

Everything in the generated cartridges (code, tiles, font, maps, header) is
original content produced by this script.  No commercial ROM, no Nintendo logo
and no third-party data is used: the logo area of the header (0x104-0x133) is
filled with our own small pattern.

Standard library only (Python 3.11+).  Output is deterministic.

Usage:
    python3 examples/rom/make_rom.py [OUTPUT_DIR]

OUTPUT_DIR defaults to <repo root>/assets (two levels above this script).
Writes demo.gb (busy, scrolling, sprites), demo-static.gb (RPG text box) and
demo-walk.gb (one hero walking over 4 regions, its position in WRAM at 0xC100).
"""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

# ---------------------------------------------------------------------------
# A tiny SM83 assembler (only the subset of instructions this script needs).
# ---------------------------------------------------------------------------

R8 = {"b": 0, "c": 1, "d": 2, "e": 3, "h": 4, "l": 5, "[hl]": 6, "a": 7}
R16 = {"bc": 0, "de": 1, "hl": 2, "sp": 3}
R16_STACK = {"bc": 0, "de": 1, "hl": 2, "af": 3}
COND = {"nz": 0, "z": 1, "nc": 2, "c": 3}
ALU = {"add": 0, "adc": 1, "sub": 2, "sbc": 3, "and": 4, "xor": 5, "or": 6, "cp": 7}
CB_SHIFT = {"rlc": 0, "rrc": 1, "rl": 2, "rr": 3, "sla": 4, "sra": 5, "swap": 6, "srl": 7}
CB_BIT = {"bit": 0x40, "res": 0x80, "set": 0xC0}
IMPLIED = {
    "nop": [0x00], "halt": [0x76], "di": [0xF3], "ei": [0xFB], "ret": [0xC9],
    "reti": [0xD9], "cpl": [0x2F], "scf": [0x37], "ccf": [0x3F], "daa": [0x27],
    "rlca": [0x07], "rrca": [0x0F], "rla": [0x17], "rra": [0x1F],
}


class AsmError(Exception):
    pass


def _split_operands(text: str) -> list[str]:
    return [p.strip() for p in text.split(",")] if text.strip() else []


class Assembler:
    """Two-pass assembler.  Syntax (lower case, rgbds-like):

        label:            global label        .loop:  local label (scoped)
        ld a, [hl+]       ldh [0xff40], a     jr nz, .loop     jp start
        db 1, 2, 3        dw label            org 0x150        align 256
        incbin name       (bytes registered with add_blob)

    Operand values are Python expressions over labels/constants plus the
    helpers hi() and lo().
    """

    def __init__(self, size: int = 0x8000, fill: int = 0x00):
        self.size = size
        self.fill = fill
        self.consts: dict[str, int] = {}
        self.blobs: dict[str, bytes] = {}

    def add_blob(self, name: str, data: bytes) -> None:
        self.blobs[name] = bytes(data)

    # -- expression evaluation -------------------------------------------
    def _eval(self, expr: str, labels: dict[str, int], scope: str, final: bool) -> int:
        expr = re.sub(r"(?<![\w.])\.(\w+)", lambda m: f"{scope}__{m.group(1)}", expr)
        env = dict(self.consts)
        env.update(labels)
        env["hi"] = lambda v: (v >> 8) & 0xFF
        env["lo"] = lambda v: v & 0xFF
        try:
            return int(eval(expr, {"__builtins__": {}}, env))  # own source only
        except NameError:
            if final:
                raise AsmError(f"undefined symbol in {expr!r}")
            return 0

    # -- encoding ------------------------------------------------------------
    def _encode(self, mn: str, ops: list[str], pc: int, ev) -> list[int]:
        o = [x.lower() for x in ops]
        n = len(o)

        def imm8(x):
            v = ev(x)
            if not -128 <= v <= 255:
                raise AsmError(f"8-bit value out of range: {x} = {v}")
            return [v & 0xFF]

        def imm16(x):
            v = ev(x)
            if not 0 <= v <= 0xFFFF:
                raise AsmError(f"16-bit value out of range: {x} = {v}")
            return [v & 0xFF, v >> 8]

        def mem(x):  # "[expr]" -> expr
            return x[1:-1].strip() if x.startswith("[") and x.endswith("]") else None

        if mn in IMPLIED and n == 0:
            return list(IMPLIED[mn])
        if mn == "ld" and n == 2:
            d, s = o
            if d in R8 and s in R8:
                if d == s == "[hl]":
                    raise AsmError("ld [hl],[hl] is halt")
                return [0x40 | R8[d] << 3 | R8[s]]
            if d == "a" and s in ("[bc]", "[de]", "[hl+]", "[hl-]"):
                return [{"[bc]": 0x0A, "[de]": 0x1A, "[hl+]": 0x2A, "[hl-]": 0x3A}[s]]
            if s == "a" and d in ("[bc]", "[de]", "[hl+]", "[hl-]"):
                return [{"[bc]": 0x02, "[de]": 0x12, "[hl+]": 0x22, "[hl-]": 0x32}[d]]
            if d in R16 and s == "hl" and d == "sp":
                return [0xF9]
            if d in R16:
                return [0x01 | R16[d] << 4] + imm16(ops[1])
            if d in R8:
                if mem(s) is not None:
                    if d != "a":
                        raise AsmError("only ld a,[nn]")
                    return [0xFA] + imm16(mem(ops[1]))
                return [0x06 | R8[d] << 3] + imm8(ops[1])
            if mem(d) is not None and s == "a":
                return [0xEA] + imm16(mem(ops[0]))
        if mn == "ldh" and n == 2:
            def hram(x):
                v = ev(x)
                if 0xFF00 <= v <= 0xFFFF:
                    v -= 0xFF00
                if not 0 <= v <= 0xFF:
                    raise AsmError(f"ldh address out of range: {x}")
                return [v]
            if o[0] == "a" and mem(o[1]) is not None:
                return [0xF0] + hram(mem(ops[1]))
            if o[1] == "a" and mem(o[0]) is not None:
                return [0xE0] + hram(mem(ops[0]))
        if mn in ("inc", "dec") and n == 1:
            r = o[0]
            if r in R8:
                return [(0x04 if mn == "inc" else 0x05) | R8[r] << 3]
            if r in R16:
                return [(0x03 if mn == "inc" else 0x0B) | R16[r] << 4]
        if mn == "add" and n == 2 and o[0] == "hl" and o[1] in R16:
            return [0x09 | R16[o[1]] << 4]
        if mn in ALU:
            if n == 2 and o[0] == "a":
                o, ops, n = o[1:], ops[1:], 1
            if n == 1:
                if o[0] in R8:
                    return [0x80 | ALU[mn] << 3 | R8[o[0]]]
                return [0xC6 | ALU[mn] << 3] + imm8(ops[0])
        if mn == "jp":
            if n == 1 and o[0] == "hl":
                return [0xE9]
            if n == 1:
                return [0xC3] + imm16(ops[0])
            if n == 2 and o[0] in COND:
                return [0xC2 | COND[o[0]] << 3] + imm16(ops[1])
        if mn == "jr":
            cond = None
            if n == 2 and o[0] in COND:
                cond, target = o[0], ops[1]
            elif n == 1:
                target = ops[0]
            else:
                raise AsmError("bad jr")
            off = ev(target) - (pc + 2)
            if ev.final and not -128 <= off <= 127:
                raise AsmError(f"jr out of range ({off}) to {target}")
            op = 0x18 if cond is None else 0x20 | COND[cond] << 3
            return [op, off & 0xFF]
        if mn == "call":
            if n == 1:
                return [0xCD] + imm16(ops[0])
            if n == 2 and o[0] in COND:
                return [0xC4 | COND[o[0]] << 3] + imm16(ops[1])
        if mn == "ret" and n == 1 and o[0] in COND:
            return [0xC0 | COND[o[0]] << 3]
        if mn in ("push", "pop") and n == 1 and o[0] in R16_STACK:
            return [(0xC5 if mn == "push" else 0xC1) | R16_STACK[o[0]] << 4]
        if mn == "rst" and n == 1:
            v = ev(ops[0])
            if v & ~0x38:
                raise AsmError("bad rst vector")
            return [0xC7 | v]
        if mn in CB_SHIFT and n == 1 and o[0] in R8:
            return [0xCB, CB_SHIFT[mn] << 3 | R8[o[0]]]
        if mn in CB_BIT and n == 2 and o[1] in R8:
            b = ev(ops[0])
            if not 0 <= b <= 7:
                raise AsmError("bad bit number")
            return [0xCB, CB_BIT[mn] | b << 3 | R8[o[1]]]
        raise AsmError(f"unsupported instruction: {mn} {', '.join(ops)}")

    # -- driver ----------------------------------------------------------------
    def _pass(self, lines: list[str], labels: dict[str, int], final: bool):
        rom = bytearray([self.fill] * self.size)
        written = bytearray(self.size)
        pc = 0
        scope = "_top"
        for lineno, raw in enumerate(lines, 1):
            line = raw.split(";", 1)[0].strip()
            if not line:
                continue
            try:
                c = re.match(r"^([A-Za-z_]\w*)\s*=\s*(.+)$", line)
                if c:  # NAME = expr  (constant)
                    v = self._eval(c.group(2), labels, scope, final)
                    if not final:
                        if c.group(1) in labels:
                            raise AsmError(f"duplicate symbol {c.group(1)}")
                        labels[c.group(1)] = v
                    continue
                m = re.match(r"^(\.?[A-Za-z_]\w*):\s*(.*)$", line)
                if m:
                    name = m.group(1)
                    if name.startswith("."):
                        name = f"{scope}__{name[1:]}"
                    else:
                        scope = name
                    if not final:
                        if name in labels:
                            raise AsmError(f"duplicate label {name}")
                        labels[name] = pc
                    line = m.group(2).strip()
                    if not line:
                        continue
                mn, _, rest = line.partition(" ")
                mn = mn.lower()
                ops = _split_operands(rest)

                def ev(x, _scope=scope):
                    return self._eval(x, labels, _scope, final)
                ev.final = final

                if mn == "org":
                    pc = ev(ops[0])
                    continue
                if mn == "align":
                    a = ev(ops[0])
                    pc = (pc + a - 1) // a * a
                    continue
                if mn == "db":
                    data = []
                    for x in ops:
                        if x.startswith('"'):
                            data += list(x[1:-1].encode("ascii"))
                        else:
                            data.append(ev(x) & 0xFF)
                elif mn == "dw":
                    data = []
                    for x in ops:
                        v = ev(x)
                        data += [v & 0xFF, (v >> 8) & 0xFF]
                elif mn == "incbin":
                    data = list(self.blobs[ops[0]])
                else:
                    data = self._encode(mn, ops, pc, ev)
                if pc + len(data) > self.size:
                    raise AsmError("ROM overflow")
                for i, b in enumerate(data):
                    if written[pc + i]:
                        raise AsmError(f"overlapping output at 0x{pc + i:04x}")
                    written[pc + i] = 1
                    rom[pc + i] = b
                pc += len(data)
            except AsmError as e:
                raise AsmError(f"line {lineno}: {raw.strip()!r}: {e}") from None
        self.used = sum(written)
        return rom

    def assemble(self, source: str) -> tuple[bytearray, dict[str, int]]:
        lines = source.splitlines()
        labels: dict[str, int] = {}
        self._pass(lines, labels, final=False)
        rom = self._pass(lines, labels, final=True)
        return rom, labels


# ---------------------------------------------------------------------------
# Graphics helpers
# ---------------------------------------------------------------------------

SHADE = {".": 0, ":": 1, "o": 2, "#": 3}


def tile(rows: list[str]) -> bytes:
    """8 rows of 8 shade characters -> 16 bytes of 2bpp Game Boy tile data."""
    assert len(rows) == 8, rows
    out = bytearray()
    for r in rows:
        assert len(r) == 8, r
        lo = hi = 0
        for x, ch in enumerate(r):
            c = SHADE[ch]
            lo |= (c & 1) << (7 - x)
            hi |= (c >> 1) << (7 - x)
        out += bytes([lo, hi])
    return bytes(out)


def split16(rows: list[str]) -> list[list[str]]:
    """16x16 art -> [top-left, top-right, bottom-left, bottom-right] 8x8 tiles."""
    assert len(rows) == 16 and all(len(r) == 16 for r in rows), rows
    return [[r[0:8] for r in rows[0:8]], [r[8:16] for r in rows[0:8]],
            [r[0:8] for r in rows[8:16]], [r[8:16] for r in rows[8:16]]]


def hflip(rows):
    return [r[::-1] for r in rows]


def vflip(rows):
    return list(reversed(rows))


def rotate(rows, n):
    return [r[-n:] + r[:-n] for r in rows]


# --- background / world tiles ----------------------------------------------
BLANK = ["........"] * 8
GRASS = [
    "::::::::",
    "::o:::::",
    ":o::::::",
    "::::::o:",
    ":::::o::",
    "::::::::",
    ":o::::::",
    "o:::::::",
]
FLOWER = [
    "::::::::",
    "::.:::::",
    ":.o.::::",
    "::.:::::",
    "::o::.::",
    ":::o.o.:",
    ":::::.::",
    "::::::::",
]
PATH = [
    "........",
    ".:......",
    ".....:..",
    "........",
    "..:.....",
    "......:.",
    "........",
    "...:....",
]
WATER = [
    "oooooooo",
    "oo::oooo",
    "o:oo:ooo",
    "oooooooo",
    "oooooooo",
    "oooooo::",
    "::ooo:oo",
    "oooooooo",
]
BRICK = [
    "########",
    "::#:::::",
    "oo#ooooo",
    "oo#ooooo",
    "########",
    ":::::#::",
    "ooooo#oo",
    "ooooo#oo",
]
ROOF = [
    "#oo#oo#o",
    "oo#oo#oo",
    "o#oo#oo#",
    "#oo#oo#o",
    "oo#oo#oo",
    "o#oo#oo#",
    "#oo#oo#o",
    "########",
]
DOOR = [
    ".######.",
    "#oooooo#",
    "#o#oo#o#",
    "#o#oo#o#",
    "#oooo.o#",
    "#o#oo#o#",
    "#o#oo#o#",
    "#oooooo#",
]
WINDOW = [
    "########",
    "#..#...#",
    "#.:#:..#",
    "########",
    "#..#...#",
    "#.:#:..#",
    "########",
    "oooooooo",
]
TREE = [
    ":::::######:::::",
    ":::##oo:oooo##::",
    "::#o:::oooooo#::",
    ":#oo::oooooooo#:",
    ":#oooooooo#ooo#:",
    "#ooo#oooooo#ooo#",
    "#oooooooooooooo#",
    "#oo#ooooo#oooo##",
    ":#oooooooooooo#:",
    ":##oo#oooooo###:",
    ":::###oooo###:::",
    "::::::####::::::",
    "::::::#oo#::::::",
    "::::::#oo#::::::",
    ":::::##oo##:::::",
    "::::o#oooo#o::::",
]
BUSH = [
    "::::::::",
    "::####::",
    ":#o:oo#:",
    "#o:oooo#",
    "#oooo#o#",
    "#o#oooo#",
    ":######:",
    "::oooo::",
]
ROCK = [
    "::::::::",
    ":::###::",
    "::#..:#:",
    ":#.:::o#",
    ":#::oo##",
    "#:ooooo#",
    ":######o",
    "::oooo::",
]
FENCE = [
    ":#::::#:",
    "#.#::#.#",
    "########",
    "#.#..#.#",
    "########",
    "#o#::#o#",
    "#o#::#o#",
    ":#o:::#o",
]
BRIDGE = [
    "########",
    ".:.#..:#",
    "...#...#",
    ".:.#.:.#",
    "...#...#",
    ".:.#...#",
    "...#.:.#",
    "########",
]
# Text box border (double line) and HUD glyphs.
BOX_TL = [
    "........",
    "..######",
    ".#......",
    ".#.#####",
    ".#.#....",
    ".#.#....",
    ".#.#....",
    ".#.#....",
]
BOX_T = [
    "........",
    "########",
    "........",
    "########",
    "........",
    "........",
    "........",
    "........",
]
BOX_L = [".#.#...."] * 8
HEART = [
    "........",
    ".##.##..",
    "#::#oo#.",
    "#:ooooo#",
    ".#oooo#.",
    "..#oo#..",
    "...##...",
    "........",
]
ARROW = [
    "........",
    "........",
    ".#####..",
    ".#####..",
    "..###...",
    "...#....",
    "........",
    "........",
]

# --- sprites (colour 0 = transparent) ---------------------------------------
HERO = [
    [
        "..####..",
        ".#oooo#.",
        ".#::::#.",
        ".:#::#:.",
        "..::::..",
        ".#oooo#.",
        "..#..#..",
        ".##..##.",
    ],
    [
        "..####..",
        ".#oooo#.",
        ".#::::#.",
        ".:#::#:.",
        "..::::..",
        ".#oooo#.",
        "...##...",
        "..#..#..",
    ],
]
SLIME = [
    [
        "........",
        "........",
        "..####..",
        ".#:..:#.",
        "#::::::#",
        "#:#::#:#",
        "#::::::#",
        ".######.",
    ],
    [
        "........",
        "........",
        "........",
        "..####..",
        ".#:..:#.",
        "#:#::#:#",
        "#::::::#",
        "########",
    ],
]
BIRD = [
    [
        "#......#",
        "##....##",
        ".##..##.",
        "..####..",
        "...##...",
        "........",
        "........",
        "........",
    ],
    [
        "........",
        "........",
        "...##...",
        ".######.",
        "##.##.##",
        "#......#",
        "........",
        "........",
    ],
]
GHOST = [
    [
        "..####..",
        ".#::::#.",
        "#:#::#:#",
        "#::::::#",
        "#::##::#",
        "#::::::#",
        "#::::::#",
        "#.#.##.#",
    ],
    [
        "..####..",
        ".#::::#.",
        "#:#::#:#",
        "#::::::#",
        "#::::::#",
        "#::##::#",
        "#::::::#",
        ".#.##.#.",
    ],
]

# --- 5x7 font (original) -----------------------------------------------------
FONT_SRC = {
    "A": [" ### ", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"],
    "B": ["#### ", "#   #", "#   #", "#### ", "#   #", "#   #", "#### "],
    "C": [" ### ", "#   #", "#    ", "#    ", "#    ", "#   #", " ### "],
    "D": ["#### ", "#   #", "#   #", "#   #", "#   #", "#   #", "#### "],
    "E": ["#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#####"],
    "F": ["#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#    "],
    "G": [" ### ", "#   #", "#    ", "# ###", "#   #", "#   #", " ####"],
    "H": ["#   #", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"],
    "I": [" ### ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "],
    "J": ["  ###", "   # ", "   # ", "   # ", "   # ", "#  # ", " ##  "],
    "K": ["#   #", "#  # ", "# #  ", "##   ", "# #  ", "#  # ", "#   #"],
    "L": ["#    ", "#    ", "#    ", "#    ", "#    ", "#    ", "#####"],
    "M": ["#   #", "## ##", "# # #", "# # #", "#   #", "#   #", "#   #"],
    "N": ["#   #", "##  #", "# # #", "#  ##", "#   #", "#   #", "#   #"],
    "O": [" ### ", "#   #", "#   #", "#   #", "#   #", "#   #", " ### "],
    "P": ["#### ", "#   #", "#   #", "#### ", "#    ", "#    ", "#    "],
    "Q": [" ### ", "#   #", "#   #", "#   #", "# # #", "#  # ", " ## #"],
    "R": ["#### ", "#   #", "#   #", "#### ", "# #  ", "#  # ", "#   #"],
    "S": [" ####", "#    ", "#    ", " ### ", "    #", "    #", "#### "],
    "T": ["#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  "],
    "U": ["#   #", "#   #", "#   #", "#   #", "#   #", "#   #", " ### "],
    "V": ["#   #", "#   #", "#   #", "#   #", "#   #", " # # ", "  #  "],
    "W": ["#   #", "#   #", "#   #", "# # #", "# # #", "## ##", "#   #"],
    "X": ["#   #", "#   #", " # # ", "  #  ", " # # ", "#   #", "#   #"],
    "Y": ["#   #", "#   #", " # # ", "  #  ", "  #  ", "  #  ", "  #  "],
    "Z": ["#####", "    #", "   # ", "  #  ", " #   ", "#    ", "#####"],
    "0": [" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### "],
    "1": ["  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "],
    "2": [" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####"],
    "3": ["#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### "],
    "4": ["   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # "],
    "5": ["#####", "#    ", "#### ", "    #", "    #", "#   #", " ### "],
    "6": ["  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### "],
    "7": ["#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   "],
    "8": [" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### "],
    "9": [" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  "],
    ".": ["     ", "     ", "     ", "     ", "     ", " ##  ", " ##  "],
    ",": ["     ", "     ", "     ", "     ", " ##  ", " ##  ", " #   "],
    "!": ["  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "     ", "  #  "],
    "?": [" ### ", "#   #", "    #", "   # ", "  #  ", "     ", "  #  "],
    ":": ["     ", " ##  ", " ##  ", "     ", " ##  ", " ##  ", "     "],
    "-": ["     ", "     ", "     ", " ### ", "     ", "     ", "     "],
    "+": ["     ", "  #  ", "  #  ", "#####", "  #  ", "  #  ", "     "],
    "'": ["  #  ", "  #  ", " #   ", "     ", "     ", "     ", "     "],
    "/": ["    #", "    #", "   # ", "  #  ", " #   ", "#    ", "#    "],
}


def glyph(rows5: list[str]) -> list[str]:
    rows = ["." + "".join("#" if c == "#" else "." for c in r) + ".." for r in rows5]
    return rows + ["........"]


# ---------------------------------------------------------------------------
# Shared tile set (both ROMs load the same 0x8000 tile block)
# ---------------------------------------------------------------------------

def build_tileset():
    tiles: list[bytes] = []
    idx: dict[str, int] = {}

    def add(name, rows):
        idx[name] = len(tiles)
        tiles.append(tile(rows))

    add("blank", BLANK)             # tile 0 = white, also the font's space
    for name, rows in [("grass", GRASS), ("flower", FLOWER), ("path", PATH),
                       ("water", WATER), ("brick", BRICK), ("roof", ROOF),
                       ("door", DOOR), ("window", WINDOW), ("bush", BUSH),
                       ("rock", ROCK), ("fence", FENCE), ("bridge", BRIDGE),
                       ("heart", HEART), ("arrow", ARROW)]:
        add(name, rows)
    for name, rows in zip(("tree_tl", "tree_tr", "tree_bl", "tree_br"), split16(TREE)):
        add(name, rows)
    add("box_tl", BOX_TL)
    add("box_t", BOX_T)
    add("box_tr", hflip(BOX_TL))
    add("box_l", BOX_L)
    add("box_r", hflip(BOX_L))
    add("box_bl", vflip(BOX_TL))
    add("box_b", vflip(BOX_T))
    add("box_br", hflip(vflip(BOX_TL)))
    for ch, rows in FONT_SRC.items():
        add("ch_" + ch, glyph(rows))
    # sprite tiles: frame A immediately followed by frame B
    for name, frames in (("hero", HERO), ("slime", SLIME), ("bird", BIRD), ("ghost", GHOST)):
        add("spr_" + name, frames[0])
        add("spr_" + name + "_b", frames[1])
    assert len(tiles) <= 256
    return b"".join(tiles), idx


def text_tiles(idx: dict[str, int], s: str, width: int | None = None) -> list[int]:
    if width is not None:
        assert len(s) <= width, s
        s = s.ljust(width)
    out = []
    for ch in s:
        if ch == " ":
            out.append(idx["blank"])
        elif ch == "@":
            out.append(idx["heart"])
        else:
            out.append(idx["ch_" + ch])
    return out


class Lcg:
    """Deterministic tiny PRNG (so the maps never depend on Python's random)."""

    def __init__(self, seed: int):
        self.s = seed & 0xFFFFFFFF

    def next(self, n: int) -> int:
        self.s = (self.s * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.s >> 16) % n


# ---------------------------------------------------------------------------
# demo.gb: scrolling world, 8 moving sprites, palette cycling
# ---------------------------------------------------------------------------

def world_map(T: dict[str, int]) -> bytes:
    W = H = 32
    m = [[T["grass"]] * W for _ in range(H)]
    rng = Lcg(0x6B7761)  # "gbwa"

    def put(x, y, t):
        m[y % H][x % W] = t

    for y in range(H):
        for x in range(W):
            r = rng.next(100)
            if r < 10:
                m[y][x] = T["flower"]
            elif r < 12:
                m[y][x] = T["bush"]
            elif r < 14:
                m[y][x] = T["rock"]

    # meandering river, 3 tiles wide; the meander period divides 32 so the map wraps
    water_cols = {}
    for y in range(H):
        x0 = 20 + (0, 0, 1, 2, 2, 2, 1, 0)[(y // 4) % 8]
        water_cols[y] = range(x0, x0 + 3)
        for x in water_cols[y]:
            put(x, y, T["water"])
    # small pond
    for y in range(26, 30):
        for x in range(2, 6):
            put(x, y, T["water"])

    # paths: one horizontal (rows 14-15) and one vertical (cols 8-9), bridges over water
    for x in range(W):
        for y in (14, 15):
            put(x, y, T["bridge"] if x in water_cols[y] else T["path"])
    for y in range(H):
        for x in (8, 9):
            if m[y][x] != T["water"]:
                put(x, y, T["path"])

    def house(x, y, w):
        for i in range(w):
            put(x + i, y, T["roof"])
            put(x + i, y + 1, T["roof"])
            put(x + i, y + 2, T["window"] if i % 2 == 1 else T["brick"])
            put(x + i, y + 3, T["brick"])
        door = x + w // 2
        put(door, y + 3, T["door"])
        yy = y + 4
        while m[yy % H][door % W] not in (T["path"], T["bridge"]) and yy < y + 12:
            put(door, yy, T["path"])
            yy += 1

    house(1, 3, 5)
    house(11, 4, 6)
    house(12, 19, 5)
    house(24, 17, 4)

    for x in range(11, 18):
        put(x, 11, T["fence"])
    for x in range(1, 7):
        put(x, 18, T["fence"])

    free = {T["grass"], T["flower"], T["bush"], T["rock"]}

    def tree(x, y):
        cells = [(x, y), (x + 1, y), (x, y + 1), (x + 1, y + 1)]
        if all(m[cy % H][cx % W] in free for cx, cy in cells):
            for (cx, cy), t in zip(cells, ("tree_tl", "tree_tr", "tree_bl", "tree_br")):
                put(cx, cy, T[t])

    for y in range(0, 13, 2):          # forest east of the river
        for x in range(25, 32, 2):
            tree(x, y)
    for y in range(22, 32, 2):
        for x in range(26, 32, 2):
            tree(x, y)
    for x, y in [(2, 9), (4, 11), (14, 0), (17, 23), (11, 25), (15, 27), (2, 21),
                 (5, 23), (13, 16), (18, 8), (0, 0), (3, 0), (10, 29), (17, 30)]:
        tree(x, y)
    return bytes(v for row in m for v in row)


def hud_map(T: dict[str, int]) -> bytes:
    rows = [
        [T["box_tl"]] + [T["box_t"]] * 18 + [T["box_tr"]],
        [T["box_l"]] + text_tiles(T, "HP@@@    GBWATCH", 18) + [T["box_r"]],
        [T["box_bl"]] + [T["box_b"]] * 18 + [T["box_br"]],
    ]
    out = bytearray()
    for r in rows:
        out += bytes(r + [T["blank"]] * (32 - len(r)))
    return bytes(out)


def path_tables() -> list[tuple[list[int], list[int], list[int]]]:
    """Each path: 256 (OAM y, OAM x, attribute) triples; screen area 160x120."""
    def tri(t, lo, hi):  # triangle wave over 256 steps
        p = t if t < 128 else 255 - t
        return lo + (hi - lo) * p // 127

    paths = []
    specs = [
        # ellipse
        lambda t: (80 + 60 * math.cos(2 * math.pi * t / 256), 56 + 36 * math.sin(2 * math.pi * t / 256)),
        # horizontal patrol along the bottom
        lambda t: (tri(t, 12, 140), 96 + 2 * math.sin(2 * math.pi * t / 32)),
        # figure eight
        lambda t: (80 + 56 * math.sin(2 * math.pi * t / 256), 52 + 28 * math.sin(4 * math.pi * t / 256)),
        # rectangle loop
        None,
        # vertical patrol
        lambda t: (124 + 3 * math.sin(2 * math.pi * t / 64), tri(t, 8, 100)),
        # flying across the screen with a wavy flight (x wraps through off-screen)
        lambda t: (t - 8, 20 + 10 * math.sin(2 * math.pi * t / 64)),
    ]

    def rect(t):
        x0, y0, x1, y1 = 20, 16, 136, 104
        w, h = x1 - x0, y1 - y0
        per = 2 * (w + h)
        d = t * per / 256
        if d < w:
            return x0 + d, y0
        d -= w
        if d < h:
            return x1, y0 + d
        d -= h
        if d < w:
            return x1 - d, y1
        d -= w
        return x0, y1 - d

    specs[3] = rect
    for f in specs:
        pts = [f(t) for t in range(256)]
        ys, xs, attrs = [], [], []
        for t in range(256):
            x, y = pts[t]
            nx, _ = pts[(t + 1) % 256]
            xs.append((int(round(x)) + 8) & 0xFF)
            ys.append((int(round(y)) + 16) & 0xFF)
            dx = nx - x
            if dx > 128:
                dx -= 256
            attrs.append(0x20 if dx < -0.01 else 0x00)  # X-flip when walking left
        paths.append((ys, xs, attrs))
    return paths


COMMON_HEADER = """
; --- RST / interrupt vectors -------------------------------------------------
org 0x0000
    ret
org 0x0040          ; VBlank: just wake the HALT in the main loop
    reti
org 0x0048
    reti
org 0x0050
    reti
org 0x0058
    reti
org 0x0060
    reti

; --- cartridge entry point ----------------------------------------------------
org 0x0100
    nop
    jp start
org 0x0104
    incbin logo      ; our own 48-byte pattern, NOT the Nintendo logo
org 0x0134
    incbin header    ; title .. version; checksums patched afterwards
    db 0, 0, 0       ; 0x14D header checksum, 0x14E-0x14F global checksum

org 0x0150
memcpy:             ; copy bc bytes from [de] to [hl]
    ld a, [de]
    ld [hl+], a
    inc de
    dec bc
    ld a, b
    or c
    jr nz, memcpy
    ret

lcd_off:            ; wait for VBlank (LY >= 144), then switch the LCD off
    ldh a, [0xff44]
    cp 144
    jr c, lcd_off
    xor a
    ldh [0xff40], a
    ret

dma_routine:        ; copied to HRAM 0xff80: OAM DMA from 0xc000
    ld a, 0xc0
    ldh [0xff46], a
    ld a, 40
.wait:
    dec a
    jr nz, .wait
    ret
dma_routine_end:
"""


def demo_source(T: dict[str, int], n_paths: int) -> str:
    # (tile base, path index, phase, speed) for 8 sprites
    sprites = [
        ("spr_hero", 3, 0, 1),
        ("spr_hero", 3, 128, 1),
        ("spr_slime", 0, 0, 1),
        ("spr_slime", 0, 96, 1),
        ("spr_ghost", 2, 40, 1),
        ("spr_slime", 1, 64, 1),
        ("spr_bird", 5, 0, 2),
        ("spr_ghost", 4, 30, 1),
    ]
    s = COMMON_HEADER + f"""
FRAME = 0xff90
PALIDX = 0xff91
SCXV = 0xff92
SCYV = 0xff93
WATER_VRAM = 0x8000 + {T['water']} * 16

start:
    di
    ld sp, 0xfffe
    call lcd_off
    ld hl, 0x8000
    ld de, tiles
    ld bc, tiles_end - tiles
    call memcpy
    ld hl, 0x9800
    ld de, bgmap
    ld bc, 1024
    call memcpy
    ld hl, 0x9c00
    ld de, hudmap
    ld bc, hudmap_end - hudmap
    call memcpy
    ld hl, 0xff80
    ld de, dma_routine
    ld bc, dma_routine_end - dma_routine
    call memcpy
    ld hl, 0xc000       ; clear shadow OAM
    ld b, 160
    xor a
.clr:
    ld [hl+], a
    dec b
    jr nz, .clr
    xor a
    ldh [FRAME], a
    ldh [PALIDX], a
    ldh [SCXV], a
    ldh [SCYV], a
    ldh [0xff42], a
    ldh [0xff43], a
    ld a, 0xe4
    ldh [0xff47], a
    ldh [0xff49], a
    ld a, 0xe0          ; sprites: colour 1 -> white so they pop on grass
    ldh [0xff48], a
    ld a, 120           ; window = HUD box on the bottom 24 lines
    ldh [0xff4a], a
    ld a, 7
    ldh [0xff4b], a
    call 0xff80
    ld a, 0xf3          ; LCD on, win map 9c00, win on, tiles 8000, OBJ on, BG on
    ldh [0xff40], a
    xor a
    ldh [0xff0f], a
    ld a, 0x01          ; VBlank interrupt only
    ldh [0xffff], a
    ei

main:
    halt
    nop
    ; ---- in VBlank: OAM DMA, scroll, palettes, water animation ----
    call 0xff80
    ldh a, [SCXV]
    ldh [0xff43], a
    ldh a, [SCYV]
    ldh [0xff42], a
    ldh a, [PALIDX]
    and 3
    add a, a
    add a, lo(paltab)
    ld l, a
    ld h, hi(paltab)
    ld a, [hl+]
    ldh [0xff47], a
    ld a, [hl]
    ldh [0xff48], a
    ldh a, [FRAME]
    and 0x0f
    jr nz, .no_water
    ldh a, [FRAME]
    swap a
    and 3
    swap a
    ld e, a
    ld d, hi(waterframes)
    ld hl, WATER_VRAM
    ld b, 16
.wcopy:
    ld a, [de]
    ld [hl+], a
    inc de
    dec b
    jr nz, .wcopy
.no_water:
    ; ---- game logic (may run outside VBlank: only WRAM/HRAM touched) ----
    ldh a, [FRAME]
    inc a
    ldh [FRAME], a
    jr nz, .same_pal
    ldh a, [PALIDX]
    inc a
    ldh [PALIDX], a
.same_pal:
    ldh a, [SCXV]
    inc a
    ldh [SCXV], a
    ldh a, [FRAME]
    and 1
    jr z, .no_y
    ldh a, [SCYV]
    inc a
    ldh [SCYV], a
.no_y:
"""
    for i, (tname, path, phase, speed) in enumerate(sprites):
        base = 0xC000 + 4 * i
        anim_shift = "    rrca\n" * (2 if speed > 1 else 3)
        s += f"""
    ; sprite {i}: {tname} on path {path}
    ldh a, [FRAME]
{"    add a, a" if speed == 2 else ""}
    add a, {phase}
    ld l, a
    ld h, hi(path{path})
    ld a, [hl]
    ld [{base:#06x}], a
    inc h
    ld a, [hl]
    ld [{base + 1:#06x}], a
    inc h
    ld a, [hl]
    ld [{base + 3:#06x}], a
    ldh a, [FRAME]
{anim_shift}    and 1
    add a, {T[tname]}
    ld [{base + 2:#06x}], a
"""
    s += """
    jp main

; ---- data ---------------------------------------------------------------------
align 256
paltab:             ; (BGP, OBP0) pairs, switched every 256 frames
    db 0xe4, 0xe0   ; day
    db 0xe1, 0xe4   ; winter (light tones swapped)
    db 0x1b, 0x1c   ; night (inverted)
    db 0xd8, 0xe0   ; haze (mid tones swapped)
align 256
waterframes:
    incbin waterframes
"""
    for p in range(n_paths):
        s += f"align 256\npath{p}:\n    incbin path{p}_y\n    incbin path{p}_x\n    incbin path{p}_a\n"
    s += """
tiles:
    incbin tiles
tiles_end:
bgmap:
    incbin bgmap
hudmap:
    incbin hudmap
hudmap_end:
"""
    return s


# ---------------------------------------------------------------------------
# demo-static.gb: RPG-style text box whose text changes every 120 frames
# ---------------------------------------------------------------------------

MESSAGES = [
    ("WELCOME TO", "GBWATCH TOWN!"),
    ("AN AGENT IS", "EXPLORING..."),
    ("IT FOUND A KEY!", "REWARD +10"),
    ("THE MONITOR SEES", "EVERY FRAME."),
]
TEXT_W = 17


def static_map(T: dict[str, int]) -> bytes:
    W = H = 32
    m = [[T["grass"]] * W for _ in range(H)]
    rng = Lcg(0x737461)

    def put(x, y, t):
        m[y][x] = t

    for y in range(12):
        for x in range(20):
            if rng.next(100) < 12:
                put(x, y, T["flower"])
    for x in range(20):
        put(x, 8, T["path"])
        put(x, 9, T["path"])
    # house
    for i in range(5):
        put(2 + i, 3, T["roof"])
        put(2 + i, 4, T["roof"])
        put(2 + i, 5, T["window"] if i % 2 else T["brick"])
        put(2 + i, 6, T["brick"])
    put(4, 6, T["door"])
    put(4, 7, T["path"])
    # pond
    for y in range(2, 6):
        for x in range(14, 19):
            put(x, y, T["water"])
    # trees & decoration
    for tx, ty in [(0, 0), (8, 1), (10, 4), (11, 0), (18, 10)]:
        for (dx, dy), t in zip(((0, 0), (1, 0), (0, 1), (1, 1)), ("tree_tl", "tree_tr", "tree_bl", "tree_br")):
            put(tx + dx, ty + dy, T[t])
    for x in (13, 14, 15, 16, 17):
        put(x, 7, T["fence"])
    put(1, 10, T["bush"])
    put(12, 11, T["rock"])
    put(7, 11, T["bush"])
    # text box: rows 12..17
    put(0, 12, T["box_tl"])
    put(19, 12, T["box_tr"])
    put(0, 17, T["box_bl"])
    put(19, 17, T["box_br"])
    for x in range(1, 19):
        put(x, 12, T["box_t"])
        put(x, 17, T["box_b"])
    for y in range(13, 17):
        put(0, y, T["box_l"])
        put(19, y, T["box_r"])
        for x in range(1, 19):
            put(x, y, T["blank"])
    put(18, 16, T["arrow"])
    return bytes(v for row in m for v in row)


def static_source(T: dict[str, int]) -> str:
    s = COMMON_HEADER + f"""
COUNT = 0xff90
MSG = 0xff91
LINE1 = 0x9800 + 14 * 32 + 1
LINE2 = 0x9800 + 16 * 32 + 1
TEXT_W = {TEXT_W}

start:
    di
    ld sp, 0xfffe
    call lcd_off
    ld hl, 0x8000
    ld de, tiles
    ld bc, tiles_end - tiles
    call memcpy
    ld hl, 0x9800
    ld de, bgmap
    ld bc, 1024
    call memcpy
    ld hl, 0xff80
    ld de, dma_routine
    ld bc, dma_routine_end - dma_routine
    call memcpy
    ld hl, 0xc000       ; shadow OAM = the two still characters
    ld de, oam_init
    ld bc, 160
    call memcpy
    call 0xff80
    xor a
    ldh [COUNT], a
    ldh [MSG], a
    ldh [0xff42], a
    ldh [0xff43], a
    call draw_msg
    ld a, 0xe4
    ldh [0xff47], a
    ld a, 0xe0
    ldh [0xff48], a
    ld a, 0x93          ; LCD on, tiles 8000, OBJ on, BG on
    ldh [0xff40], a
    xor a
    ldh [0xff0f], a
    ld a, 0x01
    ldh [0xffff], a
    ei

main:
    halt
    nop
    ldh a, [COUNT]
    inc a
    ldh [COUNT], a
    cp 120
    jr nz, main
    xor a
    ldh [COUNT], a
    ldh a, [MSG]
    inc a
    and 3
    ldh [MSG], a
    call draw_msg       ; still inside VBlank: ~1.5k of 4.5k cycles
    jr main

draw_msg:           ; a = message index
    add a, a
    ld l, a
    ld h, 0
    ld de, msgptrs
    add hl, de
    ld a, [hl+]
    ld e, a
    ld a, [hl]
    ld d, a
    ld hl, LINE1
    ld b, TEXT_W
.l1:
    ld a, [de]
    ld [hl+], a
    inc de
    dec b
    jr nz, .l1
    ld hl, LINE2
    ld b, TEXT_W
.l2:
    ld a, [de]
    ld [hl+], a
    inc de
    dec b
    jr nz, .l2
    ret

msgptrs:
"""
    for i in range(len(MESSAGES)):
        s += f"    dw msg{i}\n"
    for i in range(len(MESSAGES)):
        s += f"msg{i}:\n    incbin msg{i}\n"
    s += """
oam_init:
    incbin oam_init
tiles:
    incbin tiles
tiles_end:
bgmap:
    incbin bgmap
"""
    return s


# ---------------------------------------------------------------------------
# demo-walk.gb: one hero walking a deterministic random walk over 4 regions
# ---------------------------------------------------------------------------

# The walker's state, in WRAM (the shadow OAM is 0xC000-0xC09F). A publisher reads the first
# three as position fields; any of them may be written (pyboy.memory[addr] = v) after the
# ROM has started (two ticks) to place the walker: the walk goes on from there.
WALK_X = 0xC100       # tile column in its region, 0..19
WALK_Y = 0xC101       # tile row, 0..17
WALK_REGION = 0xC102  # region (map) id, 0..3: leaving column 19 to the right enters the next
WALK_SEED = 0xC103    # 8-bit Galois LFSR (taps 0xB8) choosing each step; keep it non-zero
WALK_STEP = 0xC104    # frames per step; 0 = stand still
WALK_TIMER = 0xC105   # frames since the last step


def walk_source(T: dict[str, int]) -> str:
    s = COMMON_HEADER + f"""
POS_X = {WALK_X:#06x}
POS_Y = {WALK_Y:#06x}
REGION = {WALK_REGION:#06x}
SEED = {WALK_SEED:#06x}
STEP = {WALK_STEP:#06x}
TIMER = {WALK_TIMER:#06x}

start:
    di
    ld sp, 0xfffe
    call lcd_off
    ld hl, 0x8000
    ld de, tiles
    ld bc, tiles_end - tiles
    call memcpy
    ld hl, 0x9800
    ld de, bgmap
    ld bc, 1024
    call memcpy
    ld hl, 0xff80
    ld de, dma_routine
    ld bc, dma_routine_end - dma_routine
    call memcpy
    ld hl, 0xc000       ; clear shadow OAM
    ld b, 160
    xor a
.clr:
    ld [hl+], a
    dec b
    jr nz, .clr
    ld a, 2
    ld [POS_X], a
    ld a, 8
    ld [POS_Y], a
    xor a
    ld [REGION], a
    ld [TIMER], a
    ldh [0xff42], a
    ldh [0xff43], a
    ld a, 1
    ld [SEED], a
    ld a, 8
    ld [STEP], a
    call place
    call 0xff80
    ld a, 0xe4
    ldh [0xff47], a
    ld a, 0xe0
    ldh [0xff48], a
    ld a, 0x93          ; LCD on, tiles 8000, OBJ on, BG on
    ldh [0xff40], a
    xor a
    ldh [0xff0f], a
    ld a, 0x01
    ldh [0xffff], a
    ei

main:
    halt
    nop
    call 0xff80
    ld a, [REGION]      ; each region has its own background palette
    and 3
    add a, lo(walkpal)
    ld l, a
    ld h, hi(walkpal)
    ld a, [hl]
    ldh [0xff47], a
    ld a, [STEP]
    or a
    jr z, .draw
    ld b, a
    ld a, [TIMER]
    inc a
    cp b
    jr c, .keep
    xor a
    ld [TIMER], a
    call walk_step
    jr .draw
.keep:
    ld [TIMER], a
.draw:
    call place
    jp main

place:              ; shadow OAM sprite 0 at the walker's tile
    ld a, [POS_Y]
    add a, a
    add a, a
    add a, a
    add a, 16
    ld [0xc000], a
    ld a, [POS_X]
    add a, a
    add a, a
    add a, a
    add a, 8
    ld [0xc001], a
    ld a, {T['spr_hero']}
    ld [0xc002], a
    xor a
    ld [0xc003], a
    ret

walk_step:          ; one step chosen by the LFSR: right, left, down or up
    ld a, [SEED]
    srl a
    jr nc, .nox
    xor 0xb8
.nox:
    ld [SEED], a
    and 3
    jr z, .right
    dec a
    jr z, .left
    dec a
    jr z, .down
    ld a, [POS_Y]
    or a
    ret z
    dec a
    ld [POS_Y], a
    ret
.down:
    ld a, [POS_Y]
    cp 17
    ret nc
    inc a
    ld [POS_Y], a
    ret
.right:
    ld a, [POS_X]
    inc a
    cp 20
    jr c, .setx
    xor a
    ld [POS_X], a
    ld a, [REGION]
    inc a
    and 3
    ld [REGION], a
    ret
.setx:
    ld [POS_X], a
    ret
.left:
    ld a, [POS_X]
    or a
    jr z, .wrap
    dec a
    ld [POS_X], a
    ret
.wrap:
    ld a, 19
    ld [POS_X], a
    ld a, [REGION]
    dec a
    and 3
    ld [REGION], a
    ret

align 256
walkpal:            ; BGP per region
    db 0xe4, 0xe1, 0xd8, 0x1b
tiles:
    incbin tiles
tiles_end:
bgmap:
    incbin bgmap
"""
    return s


def make_walk() -> tuple[bytes, int, int, int]:
    tiles, T = build_tileset()
    return build("GBWATCH WALK", walk_source(T), {"tiles": tiles, "bgmap": static_map(T)})


# ---------------------------------------------------------------------------
# Header / checksums
# ---------------------------------------------------------------------------

def own_logo() -> bytes:
    """48 bytes of our own pattern for 0x104-0x133 (a simple 'GBW' checker).
    PyBoy's bundled boot ROM does not validate it; real DMG hardware would lock
    up, which is fine for an emulator-only test asset."""
    return bytes(((i * 37) ^ 0x5A) & 0xFF if i % 3 else 0x00 for i in range(48))


def header_block(title: str) -> bytes:
    t = title.encode("ascii")
    assert len(t) <= 15
    h = bytearray()
    h += t.ljust(15, b"\0")  # 0x134-0x142 title
    h += b"\x00"             # 0x143 CGB flag: DMG only
    h += b"00"               # 0x144-0x145 new licensee code (none)
    h += b"\x00"             # 0x146 SGB flag
    h += b"\x00"             # 0x147 cartridge type: ROM only
    h += b"\x00"             # 0x148 ROM size: 32 KiB
    h += b"\x00"             # 0x149 RAM size: none
    h += b"\x01"             # 0x14A destination: non-Japanese
    h += b"\x00"             # 0x14B old licensee code: none
    h += b"\x00"             # 0x14C version
    assert len(h) == 0x14D - 0x134
    return bytes(h)


def fix_checksums(rom: bytearray) -> tuple[int, int]:
    x = 0
    for b in rom[0x134:0x14D]:
        x = (x - b - 1) & 0xFF
    rom[0x14D] = x
    g = (sum(rom) - rom[0x14E] - rom[0x14F]) & 0xFFFF
    rom[0x14E] = g >> 8
    rom[0x14F] = g & 0xFF
    return x, g


def build(title: str, source: str, blobs: dict[str, bytes]) -> tuple[bytes, int, int, int]:
    asm = Assembler()
    asm.add_blob("logo", own_logo())
    asm.add_blob("header", header_block(title))
    for k, v in blobs.items():
        asm.add_blob(k, v)
    rom, labels = asm.assemble(source)
    hc, gc = fix_checksums(rom)
    assert len(rom) == 0x8000
    return bytes(rom), hc, gc, asm.used


def make_demo() -> tuple[bytes, int, int, int]:
    tiles, T = build_tileset()
    paths = path_tables()
    blobs = {
        "tiles": tiles,
        "bgmap": world_map(T),
        "hudmap": hud_map(T),
        "waterframes": b"".join(tile(rotate(WATER, 2 * i)) for i in range(4)),
    }
    for i, (ys, xs, attrs) in enumerate(paths):
        blobs[f"path{i}_y"] = bytes(ys)
        blobs[f"path{i}_x"] = bytes(xs)
        blobs[f"path{i}_a"] = bytes(attrs)
    return build("GBWATCH DEMO", demo_source(T, len(paths)), blobs)


def make_static() -> tuple[bytes, int, int, int]:
    tiles, T = build_tileset()
    blobs = {"tiles": tiles, "bgmap": static_map(T)}
    for i, (l1, l2) in enumerate(MESSAGES):
        blobs[f"msg{i}"] = bytes(text_tiles(T, l1, TEXT_W) + text_tiles(T, l2, TEXT_W))
    oam = bytearray(160)
    # (y, x, tile, attr): hero next to the house door, a slime on the path, a bird
    for i, (y, x, t, a) in enumerate([
        (16 + 56, 8 + 40, T["spr_hero"], 0x00),
        (16 + 66, 8 + 88, T["spr_slime"], 0x20),
        (16 + 12, 8 + 30, T["spr_bird"], 0x00),
    ]):
        oam[4 * i:4 * i + 4] = bytes([y, x, t, a])
    blobs["oam_init"] = bytes(oam)
    return build("GBWATCH STATIC", static_source(T), blobs)


def main() -> int:
    default_out = Path(__file__).resolve().parents[2] / "assets"
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir", nargs="?", default=str(default_out), help="output directory (default: %(default)s)")
    args = ap.parse_args()
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, fn in (("demo.gb", make_demo), ("demo-static.gb", make_static), ("demo-walk.gb", make_walk)):
        rom, hc, gc, used = fn()
        (out / name).write_bytes(rom)
        print(f"wrote {out / name}: {len(rom)} bytes ({used} used), "
              f"header checksum 0x{hc:02X}, global checksum 0x{gc:04X}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
