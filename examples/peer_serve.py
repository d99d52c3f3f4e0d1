"""The peer for examples/bench_serve.rs: the same job as `gbwatch serve`'s /stream done the
straightforward Python way, with Pillow (libjpeg-turbo) and the standard library.

    python examples/peer_serve.py SLOT_DIR --bind 127.0.0.1:0 --scale 2 --fps 10 --quality 75

It reads the first slot in SLOT_DIR with the seqlock of src/slot/FORMAT.md (and
writes the reader heartbeat, so the publisher copies frames), encodes each new frame once
(RGBA -> RGB, nearest-neighbour resize, JPEG 4:2:0), and streams the newest JPEG to every
/stream client as multipart parts with the headers gbwatch sends (X-Timestamp,
X-Frame-Age-Us). Not a product: a fair baseline, encoding once for all clients as gbwatch
does. Prints "peer: serving on http://ADDR/" on stderr once listening.
"""

import argparse
import glob
import io
import mmap
import os
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

HEADER = 128
BOUNDARY = "gbwatchframe"

parser = argparse.ArgumentParser()
parser.add_argument("dir")
parser.add_argument("--bind", default="127.0.0.1:0")
parser.add_argument("--scale", type=int, default=2)
parser.add_argument("--fps", type=int, default=10)
parser.add_argument("--quality", type=int, default=75)
args = parser.parse_args()


class Latest:
    """The newest JPEG and its publish timestamp; clients wait on it."""

    def __init__(self):
        self.cond = threading.Condition()
        self.seq = 0
        self.jpeg = b""
        self.ts_ns = 0
        self.index = 0

    def put(self, jpeg, ts_ns, index):
        with self.cond:
            self.seq += 1
            self.jpeg, self.ts_ns, self.index = jpeg, ts_ns, index
            self.cond.notify_all()

    def wait_newer(self, seq, timeout):
        with self.cond:
            self.cond.wait_for(lambda: self.seq > seq, timeout)
            return self.seq, self.jpeg, self.ts_ns, self.index


latest = Latest()


def capture():
    while not (paths := sorted(glob.glob(os.path.join(args.dir, "*.slot")))):
        time.sleep(0.1)
    f = open(paths[0], "r+b")
    m = mmap.mmap(f.fileno(), 0)
    width, height, fmt, stride = struct.unpack_from("<4I", m, 16)
    assert fmt == 1, "RGBA slots only"
    size = stride * height
    interval = 1.0 / args.fps
    last_index, next_beat, due = None, 0.0, time.monotonic()
    while True:
        now = time.monotonic()
        if now >= next_beat:
            struct.pack_into("<QQ", m, 96, time.monotonic_ns(), args.fps)
            next_beat = now + 0.25
        for _ in range(8):
            (s1,) = struct.unpack_from("<Q", m, 88)
            if s1 == 0 or s1 & 1:
                continue
            index, ts_ns = struct.unpack_from("<QQ", m, 48)
            pixels = m[HEADER:HEADER + size]
            (s2,) = struct.unpack_from("<Q", m, 88)
            if s1 == s2:
                break
        else:
            index = None
        if index is not None and index != last_index:
            last_index = index
            img = Image.frombuffer("RGBA", (width, height), pixels, "raw", "RGBA", stride, 1)
            img = img.convert("RGB")
            if args.scale != 1:
                img = img.resize((width * args.scale, height * args.scale), Image.NEAREST)
            out = io.BytesIO()
            img.save(out, format="JPEG", quality=args.quality, subsampling="4:2:0")
            latest.put(out.getvalue(), ts_ns, index)
        due = max(due + interval, time.monotonic())
        time.sleep(max(0.0, due - time.monotonic()))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path != "/stream":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace;boundary={BOUNDARY}")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        seq = 0
        try:
            while True:
                seq, jpeg, ts_ns, index = latest.wait_newer(seq, 0.5)
                if not jpeg:
                    continue
                age_us = (time.monotonic_ns() - ts_ns) // 1000
                head = (
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n"
                    f"X-Timestamp: {ts_ns // 1_000_000_000}.{(ts_ns % 1_000_000_000) // 1000:06}\r\n"
                    f"X-Frame-Index: {index}\r\nX-Frame-Age-Us: {age_us}\r\n\r\n"
                )
                self.wfile.write(head.encode() + jpeg + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass


threading.Thread(target=capture, daemon=True).start()
host, port = args.bind.rsplit(":", 1)
server = ThreadingHTTPServer((host, int(port)), Handler)
server.daemon_threads = True
print(f"peer: serving on http://{host}:{server.server_address[1]}/", file=sys.stderr, flush=True)
server.serve_forever()
