"""Publish emulator frames to the gbwatch monitor through shared memory.

Standard library only; this file also works when copied on its own next to a training script.

    from gbwatch import Publisher
    pub = Publisher("env-00")
    pyboy.tick(); pub.publish(pyboy.screen.raw_buffer, info={"step": n})

or, for a gymnasium-style env, one line in make_env:

    env = gbwatch.wrap(env)

The slot format is documented in gbwatch's src/slot/FORMAT.md. A monitoring problem never
raises into the training loop: it is logged once and publishing turns into a no-op.
"""

import atexit
import mmap
import operator
import os
import re
import struct
import sys
import sysconfig
import tempfile
import time
import weakref
import zlib

__all__ = ["Publisher", "slot_dir", "publish_pyboy", "wrap", "run_name", "checksums_needed",
           "find_gbwatch_bin"]

MAGIC = b"GBWSLOT\0"
VERSION = 1
HEADER_SIZE = 128
FORMATS = {"RGBA": 1, "RGB": 2, "BGRA": 3, "GRAY8": 4}
_BPP = {1: 4, 2: 3, 3: 4, 4: 1}
_OFF_FIELDS = 48  # frame_index, timestamp_ns, publish_cost_ns, published, offered, seq
_OFF_SEQ = 88
_OFF_HEARTBEAT = 96
_OFF_INFO_CAPACITY = 112
_OFF_CHECKSUM = 116
_FLAG_INFO = 1
_FLAG_CHECKSUM = 2
# CPUs that keep stores in program order (TSO): the seqlock alone keeps frames whole there.
_ORDERED_STORES = {"x86_64", "amd64", "i386", "i486", "i586", "i686", "x86"}
# Info limits (see FORMAT.md, "Info").
MAX_INFO_FIELDS = 32
MAX_INFO_BYTES = 4096
MAX_INFO_KEY_BYTES = 64
_INFO_AREA = 4 + MAX_INFO_BYTES  # u32 length + encoded info
_INFO_INT, _INFO_FLOAT, _INFO_BOOL, _INFO_STR = 1, 2, 3, 4
_INFO_PACK = {_INFO_INT: "q", _INFO_FLOAT: "d", _INFO_BOOL: "?"}
_U32 = struct.Struct("<I")
_NO_INFO = bytes(4)  # an info area of length 0
_U16 = struct.Struct("<H")
_I64 = struct.Struct("<q")
_F64 = struct.Struct("<d")
_HEADER = struct.Struct("<8sIIIIIIII Q")  # magic .. flags, generation (offsets 0..48)
_FIELDS = struct.Struct("<QQQQQQ")  # offsets 48..96; seq is written last
_SEQ = struct.Struct("<Q")
_U64 = struct.Struct("<Q")
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


def checksums_needed():
    """Whether frames need a checksum on this CPU: $GBWATCH_CHECKSUM (1 or 0) when set, else
    True unless the CPU keeps stores in program order (x86). See FORMAT.md."""
    forced = os.environ.get("GBWATCH_CHECKSUM", "")
    if forced in ("0", "1"):
        return forced == "1"
    return os.uname().machine.lower() not in _ORDERED_STORES


def slot_dir():
    """The slot directory: $GBWATCH_DIR, else /dev/shm/gbwatch on Linux, else $TMPDIR/gbwatch."""
    env = os.environ.get("GBWATCH_DIR")
    if env:
        return env
    if sys.platform.startswith("linux"):
        return "/dev/shm/gbwatch"
    return os.path.join(tempfile.gettempdir(), "gbwatch")


def find_gbwatch_bin():
    """The gbwatch binary installed in this Python environment (the wheel puts it in the
    scripts folder, beside `python`), or None."""
    name = "gbwatch.exe" if sys.platform == "win32" else "gbwatch"
    folders = [sysconfig.get_path("scripts"), os.path.dirname(sys.executable)]
    try:  # pip install --user
        folders.append(sysconfig.get_path("scripts", scheme="%s_user" % os.name))
    except KeyError:
        pass
    for folder in folders:
        path = os.path.join(folder or "", name)
        if folder and os.path.isfile(path) and os.access(path, os.X_OK):
            return os.path.abspath(path)
    return None


# Where a publisher records find_gbwatch_bin() in the slot directory (FORMAT.md, "Binary
# record"), so that `gbwatch watch ssh://THIS-BOX` finds a gbwatch that is only in a venv.
BIN_RECORD = ".gbwatch-bin"
_bin_recorded = set()


def _record_bin(directory):
    """Writes DIR/.gbwatch-bin (once per directory and process) when this environment has a
    gbwatch binary and the record names another path."""
    if directory in _bin_recorded:
        return
    _bin_recorded.add(directory)
    path = find_gbwatch_bin()
    if path is None:
        return
    record = os.path.join(directory, BIN_RECORD)
    try:
        with open(record) as f:
            if f.read().strip() == path:
                return
    except OSError:
        pass
    tmp = "%s.tmp-%d" % (record, os.getpid())
    try:
        with open(tmp, "w") as f:
            f.write(path + "\n")
        os.chmod(tmp, 0o600)
        os.rename(tmp, record)
    except OSError:  # a record is a convenience: never a reason to stop publishing
        try:
            os.unlink(tmp)
        except OSError:
            pass


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


class _BadInfo(Exception):
    pass


def _info_type(value):
    """The info type code of a value, or None when it is not a supported scalar."""
    t = type(value)
    if t is bool:
        return _INFO_BOOL
    if t is int:
        return _INFO_INT
    if t is float:
        return _INFO_FLOAT
    if t is str:
        return _INFO_STR
    kind = getattr(getattr(value, "dtype", None), "kind", None)  # numpy scalars
    if kind is not None and getattr(value, "shape", None) == ():
        return {"b": _INFO_BOOL, "i": _INFO_INT, "u": _INFO_INT, "f": _INFO_FLOAT}.get(kind)
    return None


class _InfoLayout:
    """What encoding one info layout (keys and value types) needs, validated once: a buffer
    that already holds the u32 length and the head (count, types, keys), and the struct that
    packs the values after it. Layouts with strings have no struct (their length varies);
    layouts of ints and floats also have `pack`, which publish() calls once the slot holds
    their length and head."""

    __slots__ = ("keys", "n", "get", "types", "codes", "head", "floats", "get_floats", "bools", "values", "buf", "voff", "view", "direct", "pack")

    def __init__(self, keys, values):
        if len(keys) > MAX_INFO_FIELDS:
            raise _BadInfo("%d fields, at most %d are allowed" % (len(keys), MAX_INFO_FIELDS))
        head = bytearray([len(keys)])
        codes = []
        for k, v in zip(keys, values):
            if type(k) is not str:
                raise _BadInfo("key %r is not a str" % (k,))
            kb = k.encode("utf-8")
            if not 1 <= len(kb) <= MAX_INFO_KEY_BYTES or not k.isprintable():
                raise _BadInfo("key %r is not 1-%d bytes of printable text" % (k, MAX_INFO_KEY_BYTES))
            code = _info_type(v)
            if code is None:
                raise _BadInfo("field %r is a %s; only str, int, float and bool are sent" % (k, type(v).__name__))
            head += bytes([code, len(kb)]) + kb
            codes.append(code)
        self.keys, self.types, self.codes, self.head = keys, tuple(map(type, values)), tuple(codes), bytes(head)
        self.n, self.get = len(keys), _getter(keys)
        self.floats = tuple(i for i, c in enumerate(codes) if c == _INFO_FLOAT)
        self.get_floats = _getter(self.floats)
        self.bools = tuple((i, self.types[i]) for i, c in enumerate(codes) if c == _INFO_BOOL)
        self.values = self.buf = self.view = self.pack = None
        self.voff = 4 + len(head)
        if _INFO_STR not in codes:
            self.values = struct.Struct("<" + "".join(_INFO_PACK[c] for c in codes))
            size = len(head) + self.values.size
            if size > MAX_INFO_BYTES:
                raise _BadInfo("info encodes to %d bytes, at most %d are allowed" % (size, MAX_INFO_BYTES))
            self.buf = bytearray(4 + size)
            _U32.pack_into(self.buf, 0, size)
            self.buf[4:self.voff] = head
            self.view = memoryview(self.buf)
        # Ints and floats only: publish() packs the values straight into the slot.
        self.direct = self.values is not None and not self.bools
        if self.direct:
            # One function per layout that reads, checks and packs the values: no tuples,
            # no sum(), no *args, which is most of the cost of info on a copying publish
            # (measured by examples/bench_publish.py). Keys are written as repr() literals.
            names = ["v%d" % i for i in range(len(keys))]
            src = "def pack(info, mm, off):\n"
            if names:
                src += "    %s, = %s,\n" % (", ".join(names), ", ".join("info[%r]" % k for k in keys))
            if self.floats:
                src += "    if %s:\n        return False\n" % " or ".join("v%d - v%d != 0.0" % (i, i) for i in self.floats)
            src += "    _pack(mm, off%s)\n    return True\n" % "".join(", " + n for n in names)
            ns = {"_pack": self.values.pack_into}
            exec(src, ns)
            self.pack = ns["pack"]

    def encode(self, values):
        """The encoded info (length first), or None when `values` no longer fit this layout
        (a type changed): the caller then builds a new one. Raises _BadInfo for bad values."""
        if self.floats:
            try:
                total = sum(self.get_floats(values))  # finite unless a value is not (or overflow)
            except TypeError:
                return None
            if total - total != 0.0:
                for i in self.floats:
                    v = values[i]
                    if v - v != 0.0:
                        raise _BadInfo("field %r is %r; floats must be finite" % (self.keys[i], v))
        for i, t in self.bools:
            if type(values[i]) is not t:
                return None
        if self.values is None:
            if tuple(map(type, values)) != self.types:
                return None
            body = _encode_info_slow(self.head, self.codes, values)
            return _U32.pack(len(body)) + body
        try:
            # Ints pack only as ints, so a changed int field fails here; a float field
            # takes an int as a float, and an int field a bool as 0/1.
            self.values.pack_into(self.buf, self.voff, *values)
        except struct.error:
            if tuple(map(type, values)) != self.types:
                return None
            raise
        return self.view


def _getter(keys):
    """A callable returning the items at `keys` as a tuple (operator.itemgetter returns a bare
    item for one key)."""
    if len(keys) == 1:
        key = keys[0]
        return lambda m: (m[key],)
    return operator.itemgetter(*keys) if keys else lambda m: ()


def _encode_info_slow(head, codes, values):
    """The encoding of an info with strings (their lengths vary, so no cached struct)."""
    parts = [head]
    for code, v in zip(codes, values):
        if code == _INFO_INT:
            parts.append(_I64.pack(v))
        elif code == _INFO_FLOAT:
            parts.append(_F64.pack(v))
        elif code == _INFO_BOOL:
            parts.append(b"\x01" if v else b"\x00")
        else:
            b = v.encode("utf-8")
            if len(b) > MAX_INFO_BYTES:
                raise _BadInfo("a string of %d bytes does not fit" % len(b))
            parts.append(_U16.pack(len(b)))
            parts.append(b)
    out = b"".join(parts)
    if len(out) > MAX_INFO_BYTES:
        raise _BadInfo("info encodes to %d bytes, at most %d are allowed" % (len(out), MAX_INFO_BYTES))
    return out


_publishers = weakref.WeakSet()


def _after_fork_in_child():
    # A forked child shares the parent's slot mapping and name claim: it must not publish
    # into them. It starts afresh and claims its own name at its first publish.
    for pub in list(_publishers):
        pub._forget_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _clean_name(text, limit):
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)[:limit].strip(".") or "run"


def run_name():
    """The run prefix of automatic names: $GBWATCH_RUN, else the training script's name."""
    run = os.environ.get("GBWATCH_RUN")
    if not run:
        argv0 = sys.argv[0] if sys.argv else ""
        if argv0 and argv0 not in ("-c", "-m", "-"):
            run = os.path.splitext(os.path.basename(argv0))[0]
        else:
            main = sys.modules.get("__mp_main__") or sys.modules.get("__main__")
            f = getattr(main, "__file__", None)
            run = os.path.splitext(os.path.basename(f))[0] if f else "run"
    return _clean_name(run, 48)


def _worker_index():
    """The index in a process name like gymnasium's `Worker<AsyncVectorEnv>-3`, if any."""
    mp = sys.modules.get("multiprocessing")
    if mp is None:
        return None
    try:
        m = re.match(r"^Worker<[^>]*>-(\d+)$", mp.current_process().name)
    except Exception:
        return None
    return int(m.group(1)) if m else None


class _Claims:
    """Names held with an flock on DIR/.claims/NAME.lock, released when the process dies."""

    def __init__(self, directory):
        self.dir = os.path.join(directory, ".claims")

    def take(self, name):
        """An open fd holding `name`, or None when another live process holds it."""
        import fcntl

        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        path = os.path.join(self.dir, name + ".lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        os.ftruncate(fd, 0)
        os.pwrite(fd, b"%d\n" % os.getpid(), 0)
        return fd

    def owner(self, name):
        try:
            with open(os.path.join(self.dir, name + ".lock"), "rb") as f:
                return int(f.read().strip() or b"0")
        except (OSError, ValueError):
            return 0


class Publisher:
    """Copies frames into a shared-memory slot for gbwatch to read.

    publish() never raises and never blocks; it copies only while a monitor is reading.
    `max_fps` (optional) caps how often frames are copied.

    `name=None` picks a name at the first publish: $GBWATCH_ENV (a name, or a number that
    becomes RUN-NN), else RUN-NN with the lowest NN no live process holds (RUN is
    $GBWATCH_RUN or the script's name). A name another live publisher holds is never
    taken over: this one warns and publishes as NAME_2 (or _3, ...).
    """

    def __init__(self, name=None, directory=None, max_fps=None, pixel_format=None, checksum=None):
        if name is not None and not _NAME_OK.match(name):
            raise ValueError("publisher name must be 1-64 characters of A-Z a-z 0-9 . _ -: %r" % (name,))
        self.requested_name = name
        self.directory = directory or slot_dir()
        self.name = None
        self.path = None
        self.max_fps = max_fps
        self._user_interval_ns = int(1e9 / max_fps) if max_fps else 0
        self._min_interval_ns = self._user_interval_ns
        self._pixel_format = pixel_format
        # A CRC-32 with every frame where stores may become visible out of order (ARM).
        self._checksum = checksums_needed() if checksum is None else bool(checksum)
        self._mm = None
        self._fd = None
        self._ino = None
        self._claim_fd = None
        self._pid = os.getpid()
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
        self._info_off = 0
        self._info_len = 0
        self._info_prefix = None  # the layout of ints and floats the slot holds
        self._info_values_off = 0
        self._info_warned = False
        self._layouts = {}
        self._layout = None
        if pixel_format is not None and pixel_format not in FORMATS:
            raise ValueError("pixel_format must be one of %s" % ", ".join(FORMATS))
        if name is not None:
            self.name, self.path = name, os.path.join(self.directory, name + ".slot")
        _publishers.add(self)
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

    def ready(self):
        """True when the next publish() would copy its frame (or create the slot): lets a
        caller skip making a frame (render(), info) that nobody will read."""
        if self._mm is None:
            return not self._failed
        t0 = _now()
        if t0 - self._heartbeat_checked_ns > _HEARTBEAT_CHECK_NS:
            self._check(None, t0)
        if not self._watched:
            return False
        return not (self._min_interval_ns and t0 - self._last_copy_ns < self._min_interval_ns)

    def publish(self, frame, frame_index=None, info=None):
        """Offer one frame, and optionally its `info`: a mapping of up to 32 str keys to
        str, int, float or bool values (4 KB encoded), shown with exactly this frame.
        Returns True when it was copied into the slot."""
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
            if info is not None:
                # The fast path: ints and floats under the keys of the layout the slot holds,
                # packed straight into it. Anything else goes through _info_encode.
                layout = self._info_prefix
                packed = False
                if layout is not None and len(info) == layout.n:
                    try:
                        packed = layout.pack(info, mm, self._info_values_off)
                    except Exception:  # other keys, a changed type: a new layout
                        pass
                if not packed:
                    self._write_info(self._info_encode(info))
            elif self._info_len:
                self._write_info(_NO_INFO)
            mm[self._pixels] = self._data
            if self._checksum:
                self._write_checksum(mm)
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

    def _write_checksum(self, mm):
        """Stores the frame's CRC-32 (pixels, info area, frame index: FORMAT.md) at offset
        116, so a reader rejects a copy whose stores it saw out of order."""
        off = self._info_off
        crc = zlib.crc32(self._data)
        crc = zlib.crc32(mm[off:off + 4 + self._info_len], crc)
        _U32.pack_into(mm, _OFF_CHECKSUM, zlib.crc32(_U64.pack(self._frame_index), crc))

    def _info_encode(self, info):
        """The encoding of `info` (length first), or _NO_INFO after a one-time warning."""
        layout = self._layout
        if layout is not None and not layout.direct and len(info) == layout.n:
            try:
                encoded = layout.encode(layout.get(info))
                if encoded is not None:
                    return encoded
            except Exception:  # bad or changed: _info_check says which
                pass
        encoded = self._info_check(info)
        return _NO_INFO if encoded is None else encoded

    def _write_info(self, encoded):
        """Copies an encoding into the slot; a layout of ints and floats stays there as the
        prefix the next publishes pack their values after."""
        off = self._info_off
        self._mm[off:off + len(encoded)] = encoded
        self._info_len = len(encoded) - 4
        layout = self._layout
        if layout is not None and layout.direct and encoded is layout.view:
            self._info_prefix, self._info_values_off = layout, off + layout.voff
        else:
            self._info_prefix = None

    def _info_check(self, info):
        """Validates and encodes an `info` whose layout is new or changed (while the seqlock
        is open: this is rare); returns the bytes to copy (length first), or None after a
        one-time warning (the frame then goes out without info)."""
        try:
            if type(info) is not dict:
                info = dict(info)
            keys = tuple(info)
            values = tuple(info.values())
            layout = self._layouts.get(keys)
            encoded = None if layout is None else layout.encode(values)
            if encoded is None:
                layout = _InfoLayout(keys, values)
                if len(self._layouts) > 64:
                    self._layouts.clear()
                self._layouts[keys] = layout
                encoded = layout.encode(values)
            self._layout = layout
            return encoded
        except Exception as e:
            self._info_warn(e)
            return None

    def _info_warn(self, exc):
        if not self._info_warned:
            self._info_warned = True
            print("gbwatch: %s: info not sent (%s); frames still are (shown once)" % (self.name or "publisher", exc), file=sys.stderr)

    def _prepare(self, frame):
        """Describe a new frame object and (re)create the slot if its geometry changed."""
        data, h, w, fmt = self._describe(frame)
        if (h, w, fmt) != self._shape:
            self._create(h, w, fmt)
        self._data = data
        self._pixels = slice(HEADER_SIZE, HEADER_SIZE + data.nbytes)
        self._last_obj = frame

    def close(self):
        """Remove the slot file (if it is still ours), release the mapping and the name."""
        try:
            atexit.unregister(self.close)
        except Exception:
            pass
        self._release_slot()
        fd, self._claim_fd = self._claim_fd, None
        if fd is not None and self._pid == os.getpid():
            try:
                os.close(fd)
            except OSError:
                pass

    # -- internals -------------------------------------------------------------------------
    def _release_slot(self):
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

    def _forget_after_fork(self):
        for fd in (self._fd, self._claim_fd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        if self._mm is not None:
            try:
                self._mm.close()
            except Exception:
                pass
        self._mm = self._fd = self._ino = self._claim_fd = None
        self._shape = self._last_obj = None
        self._watched = False
        self._heartbeat_checked_ns = 0
        self._info_len = 0
        self._info_prefix = None
        self._pid = os.getpid()
        self.name = self.requested_name
        self.path = os.path.join(self.directory, self.name + ".slot") if self.name else None

    def _claim(self):
        """Picks and holds this publisher's name (see the class docstring)."""
        claims = _Claims(self.directory)
        requested = self.requested_name
        env = os.environ.get("GBWATCH_ENV")
        if requested is None and env:
            requested = "%s-%02d" % (run_name(), int(env)) if env.isdigit() else _clean_name(env, 64)
        try:
            import fcntl  # noqa: F401
        except ImportError:  # no flock: names as asked, no uniqueness check
            name = requested or "%s-%02d" % (run_name(), _worker_index() or 0)
            return name, None
        if requested is not None:
            fd = claims.take(requested)
            if fd is not None:
                return requested, fd
            owner = claims.owner(requested)
            n = 2
            while True:
                name = "%s_%d" % (requested[:60], n)
                fd = claims.take(name)
                if fd is not None:
                    print("gbwatch: %s is already published by pid %d; this publisher (pid %d) uses %s" % (requested, owner, os.getpid(), name), file=sys.stderr)
                    return name, fd
                n += 1
        run = run_name()
        prefer = _worker_index()
        if prefer is not None:
            fd = claims.take("%s-%02d" % (run, prefer))
            if fd is not None:
                return "%s-%02d" % (run, prefer), fd
        i = 0
        while True:
            name = "%s-%02d" % (run, i)
            fd = claims.take(name)
            if fd is not None:
                return name, fd
            i += 1

    def _check(self, frame, now):
        """Create the slot on first use and refresh the watched flag."""
        self._heartbeat_checked_ns = now
        if self._failed:
            self._watched = False
            return
        try:
            if self._mm is None:
                if frame is None:
                    return
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
        self._release_slot()
        atexit.register(self.close)
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        _record_bin(self.directory)
        if self._claim_fd is None:
            self.name, self._claim_fd = self._claim()
            self.path = os.path.join(self.directory, self.name + ".slot")
            mp = sys.modules.get("multiprocessing")
            try:
                if mp is not None and mp.parent_process() is not None:
                    # multiprocessing children end with os._exit (no atexit): remove the
                    # slot at their exit all the same.
                    import multiprocessing.util

                    multiprocessing.util.Finalize(None, self.close, exitpriority=0)
            except Exception:
                pass
        stride = w * _BPP[fmt]
        size = HEADER_SIZE + stride * h + _INFO_AREA
        tmp = os.path.join(self.directory, ".%s.slot.tmp-%d" % (self.name, os.getpid()))
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            os.ftruncate(fd, size)
            mm = mmap.mmap(fd, size)
            flags = _FLAG_INFO | (_FLAG_CHECKSUM if self._checksum else 0)
            generation = (time.time_ns() ^ (os.getpid() << 40) ^ int.from_bytes(os.urandom(8), "little")) & (2**64 - 1) | 1
            _HEADER.pack_into(mm, 0, MAGIC, VERSION, HEADER_SIZE, w, h, fmt, stride, os.getpid(), flags, generation)
            _U32.pack_into(mm, _OFF_INFO_CAPACITY, _INFO_AREA)
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
        self._info_off = HEADER_SIZE + stride * h
        self._info_len = 0
        self._info_prefix = None
        # Trust a heartbeat written after we appear; until then assume nobody watches.
        self._watched = False

    def _fail(self, exc):
        self._failed = True
        self._watched = False
        print("gbwatch: publishing to %s stopped: %s: %s (training continues)" % (self.path or self.directory, type(exc).__name__, exc), file=sys.stderr)
        try:
            self._release_slot()
        except Exception:
            pass


def publish_pyboy(publisher, pyboy, info=None):
    """Publish a PyBoy instance's current screen with its frame count as the frame index."""
    return publisher.publish(pyboy.screen.raw_buffer, getattr(pyboy, "frame_count", None), info)


# -- gymnasium-style wrapper -------------------------------------------------------------------

_PYBOY_NAMES = ("pyboy", "emulator", "game", "gb", "_pyboy", "pyboy_instance")


def _is_pyboy(obj):
    try:
        return hasattr(obj.screen, "raw_buffer")
    except Exception:
        return False


def _find_pyboy(env):
    """An object with `.screen.raw_buffer` held by `env` or `env.unwrapped`, or None."""
    seen = []
    for obj in (env, getattr(env, "unwrapped", None)):
        if obj is None or any(obj is s for s in seen):
            continue
        seen.append(obj)
        if _is_pyboy(obj):
            return obj
        # Instance attributes only: properties are not evaluated.
        attrs = getattr(obj, "__dict__", None) or {}
        for name in _PYBOY_NAMES:
            if _is_pyboy(attrs.get(name)):
                return attrs[name]
        for cand in list(attrs.values()):
            if _is_pyboy(cand):
                return cand
    return None


def _scalar(value):
    """A value as an info scalar: numpy scalars and one-element arrays as Python numbers,
    other arrays and sequences as short text; None when it cannot be shown."""
    t = type(value)
    if t in (int, float, bool, str):
        return value
    if value is None:
        return None
    item = getattr(value, "item", None)
    if item is not None and getattr(value, "size", 2) == 1:
        try:
            return item()
        except Exception:
            pass
    tolist = getattr(value, "tolist", None)
    try:
        return str(tolist() if tolist is not None else value)[:64]
    except Exception:
        return None


class _Watch:
    """What `wrap()` adds to an env: publishing after each step."""

    def _gbwatch_setup(self, env, name, fields, directory):
        self._gbwatch_pub = Publisher(name, directory=directory)
        self._gbwatch_fields = tuple(fields or ())
        self._gbwatch_step = 0
        self._gbwatch_episode = 0
        self._gbwatch_return = 0.0
        self._gbwatch_pyboy = None
        self._gbwatch_searched = False
        self._gbwatch_warned = False

    @property
    def gbwatch_name(self):
        """The slot name, once the first step has claimed it (None before)."""
        return self._gbwatch_pub.name if self._gbwatch_pub._claim_fd is not None else None

    @property
    def gbwatch_publisher(self):
        return self._gbwatch_pub

    def reset(self, *args, **kwargs):
        result = self.env.reset(*args, **kwargs)
        if self._gbwatch_step:
            self._gbwatch_episode += 1
        self._gbwatch_return = 0.0
        return result

    def step(self, action):
        result = self.env.step(action)
        try:
            self._gbwatch_after_step(action, result)
        except Exception as e:  # never raise into the training loop
            if not self._gbwatch_warned:
                self._gbwatch_warned = True
                print("gbwatch: wrap: %s: %s (training continues)" % (type(e).__name__, e), file=sys.stderr)
        return result

    def _gbwatch_after_step(self, action, result):
        self._gbwatch_step += 1
        reward = result[1]
        try:
            reward = float(reward)
        except (TypeError, ValueError):
            reward = 0.0
        self._gbwatch_return += reward
        pub = self._gbwatch_pub
        if not pub.ready():
            return
        if not self._gbwatch_searched:
            self._gbwatch_searched = True
            self._gbwatch_pyboy = _find_pyboy(self.env)
        info = {
            "step": self._gbwatch_step,
            "episode": self._gbwatch_episode,
            "episode_return": self._gbwatch_return,
            "reward": reward,
            "action": _scalar(action),
        }
        if info["action"] is None:
            del info["action"]
        if self._gbwatch_fields:
            step_info = result[-1] if isinstance(result[-1], dict) else {}
            for key in self._gbwatch_fields:
                if key in step_info:
                    v = _scalar(step_info[key])
                    if v is not None:
                        info[key] = v
        pyboy = self._gbwatch_pyboy
        if pyboy is not None:
            pub.publish(pyboy.screen.raw_buffer, getattr(pyboy, "frame_count", None), info)
        else:
            frame = self.env.render()
            if frame is not None:
                pub.publish(frame, self._gbwatch_step, info)

    def close(self):
        try:
            self._gbwatch_pub.close()
        finally:
            return self.env.close()


class _DuckWrapper(_Watch):
    """The wrapper when gymnasium is not installed (or the env is not a gymnasium.Env)."""

    def __init__(self, env, name=None, fields=None, directory=None):
        self.env = env
        self._gbwatch_setup(env, name, fields, directory)

    def __getattr__(self, name):
        if name.startswith("_gbwatch") or name == "env":
            raise AttributeError(name)
        return getattr(self.env, name)

    @property
    def unwrapped(self):
        return getattr(self.env, "unwrapped", self.env)

    def render(self, *args, **kwargs):
        return self.env.render(*args, **kwargs)

    def get_wrapper_attr(self, name):
        if name in ("gbwatch_name", "gbwatch_publisher") or name in self.__dict__:
            return getattr(self, name)
        inner = getattr(self.env, "get_wrapper_attr", None)
        return inner(name) if inner is not None else getattr(self.env, name)

    def has_wrapper_attr(self, name):
        try:
            self.get_wrapper_attr(name)
            return True
        except AttributeError:
            return False

    def set_wrapper_attr(self, name, value, *, force=True):
        setattr(self.env, name, value)

    def __repr__(self):
        return "<gbwatch.wrap%r>" % (self.env,)


_gym_wrapper_class = None


def _gym_class():
    """A gymnasium.Wrapper subclass, made the first time it is needed (gymnasium is only
    imported when an env is wrapped, and only if it is installed)."""
    global _gym_wrapper_class
    if _gym_wrapper_class is None:
        import gymnasium

        class GbwatchWrapper(_Watch, gymnasium.Wrapper):
            def __init__(self, env, name=None, fields=None, directory=None):
                gymnasium.Wrapper.__init__(self, env)
                self._gbwatch_setup(env, name, fields, directory)

        _gym_wrapper_class = GbwatchWrapper
    return _gym_wrapper_class


def wrap(env, name=None, fields=None, directory=None):
    """Publishes `env` to gbwatch after every step(): the PyBoy screen when the env holds a
    PyBoy (on the env or its `unwrapped`), else `render()` (rgb_array mode), with info
    `step`, `episode`, `episode_return`, `reward`, `action` and the step info's keys listed
    in `fields`. `name=None` picks one at the first step (see Publisher). Nothing is
    rendered or encoded while no monitor is reading."""
    gym = sys.modules.get("gymnasium")
    if gym is None:
        try:
            import gymnasium as gym
        except ImportError:
            gym = None
    if gym is not None and isinstance(env, gym.Env):
        return _gym_class()(env, name=name, fields=fields, directory=directory)
    return _DuckWrapper(env, name=name, fields=fields, directory=directory)
