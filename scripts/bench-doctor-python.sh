#!/usr/bin/env bash
# Benchmark (not a test): `whatap doctor --runtime python` against the vendor's own
# `whatap-doctor` (shipped in whatap-python) on the same app: a real gunicorn started through
# `whatap-start-agent` on a loopback port, WHATAP_HOME in a temp dir, collector a loopback port.
# Prints the mean of N runs of each and their ratio. Usage: scripts/bench-doctor-python.sh [RUNS]
# Needs a venv with whatap-python and gunicorn (WHATAP_TEST_VENV, default /opt/whatap-test/venv).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
venv=${WHATAP_TEST_VENV:-/opt/whatap-test/venv}
[[ -x "$venv/bin/whatap-doctor" && -x "$venv/bin/gunicorn" ]] || {
  echo "no whatap-python + gunicorn venv at $venv (python3 -m venv $venv && $venv/bin/pip install whatap-python gunicorn)" >&2
  exit 2
}
# WHATAP_BIN: time an already built binary (e.g. target/debug/whatap) instead of a release build.
if [[ -n "${WHATAP_BIN:-}" ]]; then
  bin=$(realpath "$WHATAP_BIN")
else
  cargo build --release -q
  bin=$PWD/target/release/whatap
fi
work=$(mktemp -d)
app_pid=
cleanup() {
  if [[ -n "$app_pid" ]]; then kill -- "-$app_pid" 2>/dev/null || kill "$app_pid" 2>/dev/null || true; wait "$app_pid" 2>/dev/null || true; fi
  for pid in $(pgrep -x whatap_python || true); do
    [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == "$work/whatap" ]] && kill "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/app"
printf 'def application(environ, start_response):\n    start_response("200 OK", [])\n    return [b"ok"]\n' > "$work/app/app.py"
printf '#!/bin/sh\ncd "$(dirname "$0")"\nexec %s -b 127.0.0.1:%s app:application\n' "$venv/bin/gunicorn" "$port" > "$work/app/start.sh"
chmod +x "$work/app/start.sh"
WHATAP_STATE_DIR="$work/state" "$bin" install --runtime python --home "$work/whatap" \
  --start-script "$work/app/start.sh" --license benchmark-license-0000 --host 127.0.0.1 \
  --set whatap.server.port=9 --app-name bench -y -q
setsid "$work/app/start.sh" >/dev/null 2>&1 &
app_pid=$!
for _ in $(seq 50); do
  curl -fs "127.0.0.1:$port" >/dev/null 2>&1 && break
  sleep 0.2
done

measure() {
  local total=0 start end
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    total=$(( total + end - start ))
  done
  echo $(( total / runs / 1000 ))
}
# The vendor's tool reads WHATAP_HOME and the current directory, like the operator would run it.
ours=$(cd "$work/app" && WHATAP_STATE_DIR="$work/state" measure "$bin" doctor --runtime python --home "$work/whatap" --no-network)
theirs=$(cd "$work/app" && WHATAP_HOME="$work/whatap" measure "$venv/bin/whatap-doctor")
echo "whatap doctor --runtime python: mean $(( ours / 1000 )).$(( ours % 1000 / 100 )) ms over $runs runs"
echo "whatap-doctor (vendor):         mean $(( theirs / 1000 )).$(( theirs % 1000 / 100 )) ms over $runs runs"
echo "ratio: vendor / ours = $(( theirs * 10 / ours / 10 )).$(( theirs * 10 / ours % 10 ))x"
