#!/usr/bin/env bash
# Benchmark (not a test): how long `whatap doctor` takes on an installed Tomcat tree, with the
# collector check against a loopback port that refuses, and without network. Prints the mean
# and the worst of N runs in milliseconds.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
cargo build --release -q
bin=target/release/whatap
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r fixtures/tomcat/tomcat9 "$work/tomcat"
printf 'PK\003\004bench' > "$work/whatap.agent.tracer-1.0.0.jar"
WHATAP_STATE_DIR="$work/state" "$bin" install --home "$work/tomcat" --license benchmark-license-0000 \
  --host 127.0.0.1 --set whatap.server.port=9 --agent-jar "$work/whatap.agent.tracer-1.0.0.jar" -y -q
measure() {
  local total=0 worst=0 start end ms
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    WHATAP_STATE_DIR="$work/state" "$bin" doctor --home "$work/tomcat" "$@" >/dev/null || true
    end=$(date +%s%N)
    ms=$(( (end - start) / 1000000 ))
    total=$(( total + ms ))
    (( ms > worst )) && worst=$ms
  done
  echo "doctor $*: mean $(( total / runs )) ms, worst $worst ms over $runs runs"
}
measure --no-network
measure
