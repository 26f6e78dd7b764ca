#!/usr/bin/env bash
# Benchmarks (not tests) for `whatap doctor`:
#  1. doctor on an installed Tomcat tree, without and with the collector probe;
#  2. the log scan: a generated log (default 1 GiB) with the guide's real error lines
#     sprinkled in, `whatap doctor --log FILE --full` against `grep -E` and `rg` over the same
#     patterns (taken from rules/catalog.toml), with wall time and peak memory.
# Usage: scripts/bench-doctor.sh [runs] [log size in MiB]
# WHATAP_BENCH_BIN=PATH times that binary instead of a fresh release build (e.g. a musl
# build from target/<triple>/release/, to compare it with the glibc one).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
log_mib=${2:-1024}
if [[ -n ${WHATAP_BENCH_BIN:-} ]]; then
  bin=$(realpath "$WHATAP_BENCH_BIN")
else
  cargo build --release -q
  bin=$PWD/target/release/whatap
fi
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

# The catalog's log regexes, as one ERE alternation (named groups made plain for grep/rg).
patterns=$(python3 - <<'PY'
import re, tomllib
with open("rules/catalog.toml", "rb") as f:
    rules = tomllib.load(f)["rule"]
regexes = [p["regex"] for r in rules for p in r.get("log", [])]
print("|".join(re.sub(r"\(\?(P<\w+>|:)", "(", x) for x in regexes))
PY
)
examples=$(python3 - <<'PY'
import tomllib
with open("rules/catalog.toml", "rb") as f:
    rules = tomllib.load(f)["rule"]
for r in rules:
    for p in r.get("log", []):
        print(p["example"])
PY
)
log="$work/big.log"
python3 - "$log" "$log_mib" "$examples" <<'PY'
import sys
path, mib, examples = sys.argv[1], int(sys.argv[2]), sys.argv[3].splitlines()
line = b"2026-11-27 10:00:00.123 INFO  [http-nio-8080-exec-7] o.a.c.c.StandardWrapperValve request served in 12 ms for /api/orders/12345\n"
block = line * 8000
with open(path, "wb") as out:
    written, i = 0, 0
    while written < mib << 20:
        out.write(block)
        out.write(examples[i % len(examples)].encode() + b"\n")
        written += len(block)
        i += 1
PY
echo "log: $(du -h "$log" | cut -f1)"
cat "$log" > /dev/null  # warm the page cache for every contender alike
timed() {
  local name=$1; shift
  # Not /dev/null: GNU grep notices it and stops at the first match.
  /usr/bin/time -f "$name: %e s, peak %M KiB" "$@" > "$work/out.txt" 2> "$work/time.txt" || true
  tail -1 "$work/time.txt"
}
timed "whatap doctor --log --full" env WHATAP_STATE_DIR="$work/state" "$bin" doctor --no-network --full --log "$log"
timed "rg -c" rg -a -c -e "$patterns" "$log"
timed "grep -E -c" grep -a -E -c -e "$patterns" "$log"
