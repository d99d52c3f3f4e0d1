#!/usr/bin/env bash
# Regenerates assets/demo.gbrec, the demo recording built into gbwatch: real PyBoy runs the
# project's own ROM (assets/demo.gb) at 60 fps and publishes every frame through the real
# publisher (examples/python/gbwatch/__init__.py); `gbwatch record` records SECONDS of it (default 15).
#
#   bash examples/rom/make_demo_recording.sh [SECONDS]
#
# Needs a Python with PyBoy: $GBWATCH_PYTHON, else .venv/bin/python (tests/run-all.sh makes it).
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${GBWATCH_PYTHON:-.venv/bin/python}
seconds=${1:-15}
dir=$(mktemp -d)
pub=
cleanup() {
  [ -n "$pub" ] && kill "$pub" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
cargo build --release --quiet
"$python" tests/py/pyboy_publisher.py --dir "$dir/slots" --name demo --fps 60 \
  --seconds $((seconds + 20)) >"$dir/publisher.out" &
pub=$!
until grep -q ready "$dir/publisher.out" 2>/dev/null; do
  kill -0 "$pub" 2>/dev/null || { echo "the PyBoy publisher failed to start" >&2; exit 1; }
  sleep 0.1
done
# Capture at 120 fps so every one of the publisher's 60 frames per second is recorded.
./target/release/gbwatch record "$dir/slots" --fps 120 --duration "$seconds" -o "$dir/demo.gbrec"
mv "$dir/demo.gbrec" assets/demo.gbrec
ls -l assets/demo.gbrec
