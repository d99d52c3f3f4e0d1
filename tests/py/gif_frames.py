"""Decodes a GIF with Pillow and compares each frame with the frames a publisher saved.

    python tests/py/gif_frames.py CLIP.gif SAVED.frames

SAVED.frames holds (u64 number, 160x144 RGBA) records (pyboy_many.py --save-dir
--index-pixels). Prints one JSON list: for each GIF frame, [number painted in it, its
duration in ms, whether its RGB pixels equal the saved frame of that number].
"""

import json
import struct
import sys

from PIL import Image, ImageSequence

gif_path, saved_path = sys.argv[1], sys.argv[2]
size = 160 * 144 * 4
saved = {}
with open(saved_path, "rb") as f:
    while True:
        head = f.read(8)
        if len(head) < 8:
            break
        data = f.read(size)
        if len(data) < size:
            break
        saved[struct.unpack("<Q", head)[0]] = Image.frombytes("RGBA", (160, 144), data).convert("RGB")
out = []
with Image.open(gif_path) as im:
    for frame in ImageSequence.Iterator(im):
        rgb = frame.convert("RGB")
        r, g, _ = rgb.getpixel((0, 0))
        n = r + 256 * g
        same = n in saved and rgb.tobytes() == saved[n].tobytes()
        out.append([n, frame.info.get("duration"), same])
print(json.dumps(out))
