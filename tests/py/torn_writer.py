"""Publishes as fast as possible frames whose every byte is (frame_index & 0xFF), through
the real publisher, for --seconds; prints the number of frames copied. With --info each
frame carries info naming its index: numbers on even frames, numbers and a string of
varying length on odd ones (so both encodings and changing lengths race the reader).

With --misorder the publisher makes its stores visible in the order a CPU that reorders
stores (ARM) may show them: the even sequence number and the fields first, then the pixels,
then the info, so the seqlock alone cannot tell a half-written frame. --checksum 1 or 0
turns the frame checksum on or off (default: what this CPU needs)."""

import argparse
import os
import sys
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python"))
import gbwatch  # noqa: E402
from gbwatch import Publisher  # noqa: E402


class Misordered(Publisher):
    """publish() with its stores in the wrong order: fields, checksum and even seq, pixels, info."""

    def publish(self, frame, frame_index=None, info=None):
        t0 = time.monotonic_ns()
        self._offered += 1
        self._frame_index = frame_index
        if t0 - self._heartbeat_checked_ns > gbwatch._HEARTBEAT_CHECK_NS:
            self._check(frame, t0)
        if not self._watched:
            return False
        if frame is not self._last_obj:
            self._prepare(frame)
        mm = self._mm
        encoded = bytes(self._info_encode(info)) if info is not None else gbwatch._NO_INFO
        if self._checksum:
            crc = zlib.crc32(self._data)
            crc = zlib.crc32(encoded, crc)
            gbwatch._U32.pack_into(mm, gbwatch._OFF_CHECKSUM, zlib.crc32(gbwatch._U64.pack(frame_index), crc))
        self._published += 1
        self._seq += 2
        gbwatch._FIELDS.pack_into(mm, gbwatch._OFF_FIELDS, frame_index, t0, 0, self._published, self._offered, self._seq)
        mm[self._pixels] = self._data
        off = self._info_off
        mm[off:off + len(encoded)] = encoded
        self._info_len = len(encoded) - 4
        return True


ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--seconds", type=float, default=10.0)
ap.add_argument("--info", action="store_true")
ap.add_argument("--misorder", action="store_true")
ap.add_argument("--checksum", choices=["0", "1"])
args = ap.parse_args()

frames = [memoryview(bytes([i]) * (160 * 144 * 4)).cast("B", (144, 160, 4)) for i in range(256)]
kind = Misordered if args.misorder else Publisher
checksum = None if args.checksum is None else args.checksum == "1"
with kind("torn", directory=args.dir, checksum=checksum) as pub:
    pub.publish(frames[0], 0)
    print("ready", flush=True)
    end = time.monotonic() + args.seconds
    i = copied = 0
    while True:
        i += 1
        info = None
        if args.info:
            if i & 1:
                info = {"frame": i, "byte": i & 0xFF, "tag": "f" * (i % 50) + str(i), "odd": True}
            else:
                info = {"frame": i, "byte": i & 0xFF, "half": i / 2.0, "odd": False}
        if pub.publish(frames[i & 0xFF], i, info):
            copied += 1
        if i & 0xFFF == 0 and time.monotonic() > end:
            break
print(copied, flush=True)
