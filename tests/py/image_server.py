"""A loopback HTTP server that serves real PyBoy frames the ways other tools do, plus broken
variants, for gbwatch's HTTP source tests.

    python tests/py/image_server.py [--frames N] [--save-frames FILE] [--no-stream]

Runs PyBoy on assets/demo.gb, keeps N frames as JPEG (Pillow, quality 90) and PNG, binds a
free loopback port and prints "ready PORT". Exits when its stdin closes. --save-frames writes the JPEGs' decoded pixels as
(u32 width, u32 height, RGB bytes) records so a test can compare what gbwatch shows.

Routes:
  /api/screenshot      next frame as image/jpeg (like the original dashboard)
  /png                 next frame as image/png
  /stream?fps=F&len=0  MJPEG (multipart/x-mixed-replace, boundary "frame"); len=0 leaves out
                       the parts' Content-Length; --no-stream makes it 404
  /broken-stream       three good frames, then a part that is not an image, then a cut
  /stall               one frame, then half of the next, then silence
  /garbage             image/jpeg whose body is random bytes
  /html                text/html page
  /octet/jpeg, /octet/png      the next frame as application/octet-stream (http.server, Flask
                               send_file without a mimetype, object stores)
  /untyped/jpeg, /untyped/png  the next frame with no Content-Type at all
  /octet/text                  application/octet-stream whose body is not an image
  /big                 image/jpeg of 5 MB
  anything else        404
"""

import argparse
import io
import os
import random
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from PIL import Image
from pyboy import PyBoy

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")

ap = argparse.ArgumentParser()
ap.add_argument("--frames", type=int, default=24)
ap.add_argument("--save-frames", default=None)
ap.add_argument("--no-stream", action="store_true")
args = ap.parse_args()

pyboy = PyBoy(os.path.join(ROOT, "assets", "demo.gb"), window="null", sound_emulated=False)
pyboy.set_emulation_speed(0)
pyboy.tick(120, True)
JPEGS, PNGS = [], []
save = open(args.save_frames, "wb") if args.save_frames else None
for _ in range(args.frames):
    pyboy.tick(5, True)
    img = pyboy.screen.image.convert("RGB")
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90)
    JPEGS.append(buf.getvalue())
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    PNGS.append(buf.getvalue())
    if save:
        dec = Image.open(io.BytesIO(JPEGS[-1])).convert("RGB")
        save.write(struct.pack("<II", dec.width, dec.height))
        save.write(dec.tobytes())
if save:
    save.close()
pyboy.stop(save=False)

counter = [0]
lock = threading.Lock()


def next_index():
    with lock:
        counter[0] += 1
        return counter[0] % len(JPEGS)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_body(self, ctype, body, status=200):
        self.send_response(status)
        if ctype is not None:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def start_stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace;boundary=frame")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def part(self, body, with_len=True):
        head = b"--frame\r\nContent-Type: image/jpeg\r\n"
        if with_len:
            head += b"Content-Length: %d\r\n" % len(body)
        self.wfile.write(head + b"\r\n" + body + b"\r\n")
        self.wfile.flush()

    def do_GET(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        try:
            if url.path == "/api/screenshot":
                self.send_body("image/jpeg", JPEGS[next_index()])
            elif url.path == "/png":
                self.send_body("image/png", PNGS[next_index()])
            elif url.path == "/stream" and not args.no_stream:
                fps = float(q.get("fps", ["30"])[0])
                with_len = q.get("len", ["1"])[0] != "0"
                self.start_stream()
                while True:
                    self.part(JPEGS[next_index()], with_len)
                    time.sleep(1.0 / fps)
            elif url.path == "/broken-stream":
                self.start_stream()
                for _ in range(3):
                    self.part(JPEGS[next_index()])
                    time.sleep(0.05)
                self.part(b"this is not an image at all")
                time.sleep(0.3)
                self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 9999\r\n\r\nabc")
                self.wfile.flush()
            elif url.path == "/stall":
                self.start_stream()
                self.part(JPEGS[0])
                body = JPEGS[1]
                self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(body))
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                time.sleep(60)
            elif url.path == "/garbage":
                self.send_body("image/jpeg", random.randbytes(5000))
            elif url.path in ("/octet/jpeg", "/octet/png", "/untyped/jpeg", "/untyped/png"):
                images = JPEGS if url.path.endswith("jpeg") else PNGS
                ctype = "application/octet-stream" if url.path.startswith("/octet") else None
                self.send_body(ctype, images[next_index()])
            elif url.path == "/octet/text":
                self.send_body("application/octet-stream", b"just some bytes, not a picture")
            elif url.path == "/html":
                self.send_body("text/html", b"<html><body>dashboard</body></html>")
            elif url.path == "/big":
                self.send_body("image/jpeg", JPEGS[0][:-2] + b"\0" * (5 * 1024 * 1024) + b"\xff\xd9")
            else:
                self.send_body("text/plain", b"not found", status=404)
        except (BrokenPipeError, ConnectionResetError):
            pass


def exit_with_parent():
    # The test process holds our stdin: when it exits, so do we.
    sys.stdin.read()
    os._exit(0)


threading.Thread(target=exit_with_parent, daemon=True).start()
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print("ready", server.server_address[1], flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
