"""Publish emulator frames to the gbwatch monitor through shared memory.

Standard library only; this file also works when copied on its own next to a training script.

    from gbwatch import Publisher
    pub = Publisher("env-00")
    pyboy.tick(); pub.publish(pyboy.screen.raw_buffer)

The slot format is documented in gbwatch's src/slot/FORMAT.md. A monitoring problem never
raises into the training loop: it is logged once and publishing turns into a no-op.
"""

import atexit
import mmap
import os
import re
import struct
import sys
import tempfile
import time

__all__ = ["Publisher", "slot_dir", "publish_pyboy"]

MAGIC = b"GBWSLOT\0"
VERSION = 1
HEADER_SIZE = 128
FORMATS = {"RGBA": 1, "RGB": 2, "BGRA": 3, "GRAY8": 4}
_BPP = {1: 4, 2: 3, 3: 4, 4: 1}
_OFF_FIELDS = 48  # frame_index, timestamp_ns, publish_cost_ns, published, offered, seq
_OFF_SEQ = 88
_OFF_HEARTBEAT = 96
_HEADER = struct.Struct("<8sIIIIIIII Q")  # magic .. flags, generation (offsets 0..48)
_FIELDS = struct.Struct("<QQQQQQ")  # offsets 48..96; seq is written last
_SEQ = struct.Struct("<Q")
_HEARTBEAT = struct.Struct("<QQ")  # reader_heartbeat_ns, reader_fps
_pack_seq = _SEQ.pack_into
_pack_fields = _FIELDS.pack_into
_now = time.monotonic_ns
# A reader heartbeat older than this means nobody watches: publish() skips the copy.
READER_TIMEOUT_NS = 2_000_000_000
# Copy up to this many times per reader capture interval.
READER_OVERSAMPLE = 4
# How often publish() looks at the heartbeat (reading it costs more than the check).
_HEARTBEAT_CHECK_NS = 100_000_000
_NAME_OK = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def slot_dir():
    """The slot directory: $GBWATCH_DIR, else /dev/shm/gbwatch on Linux, else $TMPDIR/gbwatch."""
    env = os.environ.get("GBWATCH_DIR")
    if env:
        return env
    if sys.platform.startswith("linux"):
        return "/dev/shm/gbwatch"
    return os.path.join(tempfile.gettempdir(), "gbwatch")


def _describe(frame):
    """(bytes view, height, width, format code) of a buffer or numpy array."""
    mv = memoryview(frame)
    shape = mv.shape
    if mv.ndim == 2 and mv.itemsize == 4:
        # PyBoy's raw_buffer: (144, 160) uint32 RGBA words.
        return mv.cast("B"), shape[0], shape[1], FORMATS["RGBA"]
    if mv.ndim == 2 and mv.itemsize == 1:
        return mv.cast("B"), shape[0], shape[1], FORMATS["GRAY8"]
    if mv.ndim == 3 and mv.itemsize == 1 and shape[2] in (3, 4):
        return mv.cast("B"), shape[0], shape[1], FORMATS["RGBA" if shape[2] == 4 else "RGB"]
    raise ValueError("expected a frame shaped (H, W, 3|4) or (H, W) of uint8, or PyBoy's raw_buffer; got shape %r itemsize %d" % (shape, mv.itemsize))


class Publisher:
    """Copies frames into a shared-memory slot named `name` for gbwatch to read.

    publish() never raises and never blocks; it copies only while a monitor is reading.
    `max_fps` (optional) caps how often frames are copied.
    """

    def __init__(self, name, directory=None, max_fps=None, pixel_format=None):
        if not _NAME_OK.match(name):
            raise ValueError("publisher name must be 1-64 characters of A-Z a-z 0-9 . _ -: %r" % (name,))
        self.name = name
        self.directory = directory or slot_dir()
        self.path = os.path.join(self.directory, name + ".slot")
        self.max_fps = max_fps
        self._user_interval_ns = int(1e9 / max_fps) if max_fps else 0
        self._min_interval_ns = self._user_interval_ns
        self._pixel_format = pixel_format
        self._mm = None
        self._fd = None
        self._ino = None
        self._shape = None
        self._seq = 0
        self._published = 0
        self._offered = 0
        self._frame_index = 0
        self._last_cost = 0
        self._last_copy_ns = 0
        self._watched = False
        self._heartbeat_checked_ns = 0
        self._failed = False
        self._last_obj = None
        self._data = None
        self._pixels = None
        if pixel_format is not None and pixel_format not in FORMATS:
            raise ValueError("pixel_format must be one of %s" % ", ".join(FORMATS))
        atexit.register(self.close)

    # -- context manager -------------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # -- public API ------------------------------------------------------------------------
    @property
    def watched(self):
        """True while a monitor's heartbeat is fresh (as of the last check)."""
        return self._watched

    def publish(self, frame, frame_index=None):
        """Offer one frame. Returns True when it was copied into the slot."""
        t0 = _now()
        self._offered += 1
        self._frame_index = self._frame_index + 1 if frame_index is None else frame_index
        if t0 - self._heartbeat_checked_ns > _HEARTBEAT_CHECK_NS:
            self._check(frame, t0)
        if not self._watched:
            return False
        if self._min_interval_ns and t0 - self._last_copy_ns < self._min_interval_ns:
            return False
        try:
            if frame is not self._last_obj:
                self._prepare(frame)
            mm = self._mm
            seq = self._seq + 1
            _pack_seq(mm, _OFF_SEQ, seq)  # odd: writing
            mm[self._pixels] = self._data
            self._published += 1
            self._seq = seq = seq + 1
            # Fields in one pass, sequence (even: done) last in that pass.
            _pack_fields(mm, _OFF_FIELDS, self._frame_index, t0, self._last_cost,
                         self._published, self._offered, seq)
            self._last_copy_ns = t0
            self._last_cost = _now() - t0
            return True
        except Exception as e:  # never raise into the training loop
            self._fail(e)
            return False

    def _prepare(self, frame):
        """Describe a new frame object and (re)create the slot if its geometry changed."""
        data, h, w, fmt = self._describe(frame)
        if (h, w, fmt) != self._shape:
            self._create(h, w, fmt)
        self._data = data
        self._pixels = slice(HEADER_SIZE, HEADER_SIZE + data.nbytes)
        self._last_obj = frame

    def close(self):
        """Remove the slot file (if it is still ours) and release the mapping."""
        try:
            atexit.unregister(self.close)
        except Exception:
            pass
        mm, fd, ino = self._mm, self._fd, self._ino
        self._mm = self._fd = None
        self._shape = None
        self._last_obj = None
        self._watched = False
        if mm is not None:
            try:
                st = os.stat(self.path)
                if (st.st_dev, st.st_ino) == ino:
                    os.unlink(self.path)
            except OSError:
                pass
            try:
                mm.close()
            except Exception:
                pass
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    # -- internals -------------------------------------------------------------------------
    def _check(self, frame, now):
        """Create the slot on first use and refresh the watched flag."""
        self._heartbeat_checked_ns = now
        if self._failed:
            self._watched = False
            return
        try:
            if self._mm is None:
                self._prepare(frame)
            hb, reader_fps = _HEARTBEAT.unpack_from(self._mm, _OFF_HEARTBEAT)
            self._watched = hb != 0 and now - hb < READER_TIMEOUT_NS
            # Copy at most READER_OVERSAMPLE times as often as the readers capture: frames
            # nobody will read are not copied, and a captured frame is never older than
            # a quarter of the reader's interval.
            reader_ns = int(1e9 / (reader_fps * READER_OVERSAMPLE)) if reader_fps else 0
            self._min_interval_ns = max(self._user_interval_ns, reader_ns)
        except Exception as e:  # never raise into the training loop
            self._fail(e)

    def _describe(self, frame):
        data, h, w, fmt = _describe(frame)
        if self._pixel_format is not None:
            fmt = FORMATS[self._pixel_format]
            if _BPP[fmt] * w * h != data.nbytes:
                raise ValueError("pixel_format %s does not match a frame of %d bytes" % (self._pixel_format, data.nbytes))
        return data, h, w, fmt

    def _create(self, h, w, fmt):
        self.close()
        atexit.register(self.close)
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        stride = w * _BPP[fmt]
        size = HEADER_SIZE + stride * h
        tmp = os.path.join(self.directory, ".%s.slot.tmp-%d" % (self.name, os.getpid()))
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            os.ftruncate(fd, size)
            mm = mmap.mmap(fd, size)
            generation = (time.time_ns() ^ (os.getpid() << 40) ^ int.from_bytes(os.urandom(8), "little")) & (2**64 - 1) | 1
            _HEADER.pack_into(mm, 0, MAGIC, VERSION, HEADER_SIZE, w, h, fmt, stride, os.getpid(), 0, generation)
            os.rename(tmp, self.path)
        except Exception:
            os.close(fd)
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        st = os.fstat(fd)
        self._fd, self._mm, self._ino = fd, mm, (st.st_dev, st.st_ino)
        self._shape = (h, w, fmt)
        self._seq = 0
        # Trust a heartbeat written after we appear; until then assume nobody watches.
        self._watched = False

    def _fail(self, exc):
        self._failed = True
        self._watched = False
        print("gbwatch: publishing to %s stopped: %s: %s (training continues)" % (self.path, type(exc).__name__, exc), file=sys.stderr)
        try:
            self.close()
        except Exception:
            pass


def publish_pyboy(publisher, pyboy):
    """Publish a PyBoy instance's current screen with its frame count as the frame index."""
    return publisher.publish(pyboy.screen.raw_buffer, getattr(pyboy, "frame_count", None))
