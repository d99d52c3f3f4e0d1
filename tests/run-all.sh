#!/usr/bin/env bash
# Runs every gbwatch test, real PyBoy included, after installing what the tests need:
# system tools (apt, when missing and allowed), a Python venv in .venv with PyBoy, numpy,
# Pillow, gymnasium and maturin, the gbwatch publisher from this checkout, and the gbwatch
# wheel (built with maturin before the tests). Safe to run again: finished steps are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
started=$(date +%s)

need_apt=()
for tool in tmux:tmux ffmpeg:ffmpeg cmake:cmake nasm:nasm chromium:chromium \
    Xvfb:xvfb xterm:xterm kitty:kitty import:imagemagick timg:timg chafa:chafa \
    img2sixel:libsixel-bin python3:python3 ssh:openssh-client; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need_apt+=("${tool##*:}")
done
# The real OpenSSH server of tests/ssh_source.rs (sshd lives in /usr/sbin, off a user's PATH).
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
# The real Slurm of tests/network/slurm_source.rs: daemons in /usr/sbin, clients on PATH.
for tool in slurmctld slurmd munged mungekey; do
  [ -x /usr/sbin/$tool ] || { need_apt+=(slurm-wlm munge); break; }
done
command -v sbatch >/dev/null 2>&1 || need_apt+=(slurm-client)
# Fonts of the real-terminal tests (tests/graphics_real.rs): kitty's and xterm's.
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || need_apt+=(fonts-dejavu-core)
ls /usr/share/fonts/X11/misc/10x20* >/dev/null 2>&1 || need_apt+=(xfonts-base)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "== missing ${need_apt[*]}: install them (as root: apt-get install ${need_apt[*]})" >&2
    exit 1
  fi
fi

venv=$root/.venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pyboy, numpy, PIL, gymnasium' 2>/dev/null \
    || [ ! -x "$venv/bin/maturin" ]; then
  echo "== preparing $venv (PyBoy, numpy, Pillow, gymnasium, maturin)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'pyboy==2.8.1' numpy pillow gymnasium 'maturin>=1.5,<2'
fi
# The publisher is this checkout's source itself (a path file, no copy), so no test uses a
# stale one; the wheel (publisher and binary) is built below and tested in a venv of its own.
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
"$venv/bin/pip" uninstall -q -y gbwatch >/dev/null 2>&1 || true
echo "$root/examples/python" > "$site/gbwatch-source.pth"
export GBWATCH_PYTHON=$venv/bin/python

echo "== ROMs: regenerate and check in real PyBoy"
romdir=$(mktemp -d)
"$GBWATCH_PYTHON" examples/rom/make_rom.py "$romdir" >/dev/null
cmp "$romdir/demo.gb" assets/demo.gb && cmp "$romdir/demo-static.gb" assets/demo-static.gb \
  && cmp "$romdir/demo-walk.gb" assets/demo-walk.gb
"$GBWATCH_PYTHON" examples/rom/check_roms.py

echo "== cargo fmt, clippy, doc"
cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet

echo "== the wheel: maturin build --release (publisher and binary; tests/python/wheel.rs installs it)"
wheel_began=$(date +%s)
wheels=$(mktemp -d)
(cd examples/python && "$venv/bin/maturin" build --quiet --release --out "$wheels" 2> "$wheels/maturin.log") \
  || { cat "$wheels/maturin.log"; exit 1; }
export GBWATCH_WHEEL=$(ls "$wheels"/gbwatch-*.whl)
echo "$(basename "$GBWATCH_WHEEL") in $(($(date +%s) - wheel_began)) s"

echo "== cargo test: build"
# The library, the binary and the five test binaries (examples have no tests: clippy above
# checks that they build).
began=$(date +%s)
work=$(mktemp -d)
cargo test --lib --bins --tests --no-run --message-format=json-render-diagnostics > "$work/build.json"
built=$(date +%s)
# One line per test binary: its name and path.
python3 -c '
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        kind = m["target"]["kind"][0]
        print(m["target"]["name"] + ("-" + kind if kind != "test" else ""), m["executable"])
' "$work/build.json" | sort > "$work/binaries"

echo "== cargo test: every binary at once, each to the end (output below, binary by binary)"
# The binaries mostly wait on real programs (PyBoy, terminals, sshd), so they run side by
# side; each runs its tests two at a time, and none stops at a failure.
while read -r name exe; do
  ( "$exe" --test-threads 2 > "$work/$name.log" 2>&1; echo $? > "$work/$name.status" ) &
done < "$work/binaries"
wait
ended=$(date +%s)
status=0
while read -r name exe; do
  echo "==== test binary $name ($exe)"
  cat "$work/$name.log"
  [ "$(cat "$work/$name.status")" = 0 ] || status=1
done < "$work/binaries"
cat "$work"/*.log | awk '/^test result:/ { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }'
cat "$work"/*.log | grep -E '^test .* FAILED$' | sed 's/^/  failed: /' || true
mmss() { printf '%dm %02ds' $(($1 / 60)) $(($1 % 60)); }
echo "test part: $(mmss $((ended - began))) (build $(mmss $((built - began))), run $(mmss $((ended - built))))"
echo "whole test command: $(mmss $((ended - started)))"
rm -rf "$work" "$wheels"
exit "$status"
