#!/usr/bin/env bash
# Benchmarks (not tests), side by side in one run, so ratios hold however loaded the machine is:
#  1. log scan: `whatap doctor --no-network --full --log F` vs `rg -c` vs `grep -E -c` with the
#     catalog's log patterns (rules/catalog.toml) on generated 256 MiB and 1 GiB logs: warm page
#     cache, outputs to files (GNU grep stops at the first match when stdout is /dev/null);
#  2. whole-host `whatap doctor --no-network --json` and `detect --json` vs the vendor's
#     `whatap-doctor --json` (whatap-python from PyPI), with the state dir's probe cache and
#     without a state dir (every PHP probed, as on a host nothing was installed on yet);
#  3. `whatap install --dry-run` on a Tomcat tree, doctor on an installed one (without and with
#     the collector probe), and `whatap --help`;
#  4. peak RSS of each (GNU time's %M) and the binary's size.
# Every contender runs in turn, round after round (the median of the rounds is shown), so a
# burst of load hits them alike. The table it prints is what README.md's speed table holds.
#
# Usage: scripts/bench.sh [--quick]   (--quick: 64 MiB log only, 5 rounds)
# WHATAP_MUSL_BIN=target/x86_64-unknown-linux-musl/release/whatap adds the musl build (musl's
# own allocator) to the whole-host rows.
# Needs: rg (Debian: apt-get install ripgrep; or cargo install ripgrep --root DIR, then
# RG=DIR/bin/rg), GNU grep and time (/usr/bin/time: Debian's `time`), python3 (3.11+), and a venv with
# whatap-python (WHATAP_TEST_VENV, default /opt/whatap-test/venv; python3 -m venv V &&
# V/bin/pip install whatap-python).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=false
[[ "${1:-}" == "--quick" ]] && quick=true
rg=${RG:-$(command -v rg || true)}
venv=${WHATAP_TEST_VENV:-/opt/whatap-test/venv}
[[ -n "$rg" && -x "$rg" ]] || { echo "no rg: apt-get install ripgrep (or cargo install ripgrep --root DIR; RG=DIR/bin/rg)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "no /usr/bin/time: apt-get install time" >&2; exit 2; }
[[ -x "$venv/bin/whatap-doctor" ]] || { echo "no whatap-doctor in $venv: python3 -m venv $venv && $venv/bin/pip install whatap-python" >&2; exit 2; }
cargo build --release -q
bin=$PWD/target/release/whatap
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/state"

# A Tomcat tree for install --dry-run, and one installed (its own state dir) for doctor on one
# runtime; the collector port is one nothing listens on.
cp -r fixtures/tomcat/tomcat9 "$work/tomcat"
cp -r fixtures/tomcat/tomcat9 "$work/installed"
printf 'PK\003\004bench' > "$work/whatap.agent.tracer-1.0.0.jar"
WHATAP_STATE_DIR="$work/installed-state" "$bin" install --home "$work/installed" --license benchmark-license-0000 \
  --host 127.0.0.1 --set whatap.server.port=9 --agent-jar "$work/whatap.agent.tracer-1.0.0.jar" -y -q

python3 - "$work" "$bin" "$rg" "$venv" "$quick" <<'PY'
import os, re, statistics, subprocess, sys, time, tomllib, platform
work, bin_, rg, venv, quick = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "true"
env = dict(os.environ, WHATAP_STATE_DIR=f"{work}/state")

with open("rules/catalog.toml", "rb") as f:
    logs = [p for r in tomllib.load(f)["rule"] for p in r.get("log", [])]
regexes = [p["regex"] for p in logs]
# rg: each pattern in its own group, so one's (?i) stays its own.
rg_pattern = "|".join(f"(?:{x})" for x in regexes)
def ere(x):
    """The same pattern for grep -E: plain groups, POSIX classes, case folded by hand."""
    fold = x.startswith("(?i)")
    x = x.removeprefix("(?i)")
    x = re.sub(r"\(\?(P<\w+>|:)", "(", x).replace(r"\d", "[0-9]").replace(r"[\w.$]", "[[:alnum:]_.$]")
    if fold:
        out, escaped = "", False
        for c in x:
            out += c if escaped or not c.isalpha() or c == "\\" else f"[{c.upper()}{c.lower()}]"
            escaped = c == "\\" and not escaped
        x = out
    return x
grep_pattern = "|".join(ere(x) for x in regexes)

def generate(path, mib):
    """Ordinary server noise (request lines, stack traces, the agent's chatter) with one of
    the catalog's example lines every 8000 lines."""
    noise = [
        b"2026-11-27 10:00:00.123 INFO  [http-nio-8080-exec-7] o.a.c.c.StandardWrapperValve request served in 12 ms for /api/orders/12345\n",
        b"\tat org.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:197)\n",
        b"27-Nov-2026 10:00:01.001 INFO [main] org.apache.catalina.startup.Catalina.start Server startup in [812] milliseconds\n",
        b"2026/11/27 10:00:02 [WhaTap] whatap.agent.trace: connected to whatap.server.host 10.0.0.1:6600 (license ok)\n",
        b"[2026-11-27 10:00:03] : WHATAP_AGENT - heartbeat sent, 14 active transactions, config unchanged\n",
        b"2026-11-27 10:00:04,991 DEBUG [pool-2-thread-1] c.e.shop.OrderService - Loaded 25 items from cache in 3 ms\n",
    ]
    block = b"".join(noise[i % len(noise)] for i in range(8000))
    examples = [p["example"].encode() + b"\n" for p in logs]
    with open(path, "wb") as out:
        written = i = 0
        while written < mib << 20:
            out.write(block)
            out.write(examples[i % len(examples)])
            written += len(block)
            i += 1

def run(cmd, out_path, cwd=None, extra_env=None):
    """Wall time (s) and peak RSS (KiB) of one run, stdout to a file. GNU time, not wait4 from
    here: a child's peak RSS starts at its parent's before exec (Python's ~17 MiB would show);
    it is the largest of the process and the children it waited for (a PHP doctor probes)."""
    tfile = f"{work}/time.txt"
    with open(out_path, "wb") as out:
        start = time.perf_counter()
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tfile] + cmd, stdout=out,
                       stderr=subprocess.DEVNULL, cwd=cwd, env=dict(env, **(extra_env or {})))
        wall = time.perf_counter() - start
    with open(tfile) as f:
        rss = int(f.read().strip().splitlines()[-1])
    return wall, rss

def rounds(contenders, n):
    """One warm-up run of each (page cache, probe cache), then each contender once per round,
    in turn; median wall time and the largest peak RSS of each."""
    for _, runner in contenders:
        runner()
    results = {name: [] for name, _ in contenders}
    for _ in range(n):
        for name, runner in contenders:
            results[name].append(runner())
    return {name: (statistics.median(w for w, _ in r), max(m for _, m in r))
            for name, r in results.items()}

def ms(s):
    return f"{s * 1000:.0f} ms" if s < 10 else f"{s:.1f} s"
def mib(kib):
    return f"{kib / 1024:.1f} MiB"

load_start = os.getloadavg()
rows = []
sizes = [64] if quick else [256, 1024]
log_rounds = 3 if quick else 5
for size in sizes:
    log = f"{work}/{size}.log"
    generate(log, size)
    subprocess.run(["cat", log], stdout=subprocess.DEVNULL)  # warm the page cache for all alike
    contenders = [
        ("doctor", lambda: run([bin_, "doctor", "--no-network", "--full", "--log", log], f"{work}/doctor.out")),
        ("rg", lambda: run([rg, "-a", "-c", "-e", rg_pattern, log], f"{work}/rg.out")),
        ("grep", lambda: run(["grep", "-a", "-E", "-c", "-e", grep_pattern, log], f"{work}/grep.out")),
    ]
    r = rounds(contenders, log_rounds)
    with open(f"{work}/rg.out") as a, open(f"{work}/grep.out") as b:
        counts = (a.read().strip(), b.read().strip())
    d, g, e = r["doctor"], r["rg"], r["grep"]
    rows.append((f"log scan {size} MiB: `doctor --no-network --full --log F`",
                 f"{ms(d[0])}, peak {mib(d[1])}",
                 f"{d[0] / g[0]:.2f}x rg, {d[0] / e[0]:.2f}x grep"))
    rows.append((f"same patterns, `rg -c` ({os.path.basename(rg)} {subprocess.run([rg, '--version'], capture_output=True, text=True).stdout.split()[1]})",
                 f"{ms(g[0])}, peak {mib(g[1])}", f"{counts[0]} lines"))
    rows.append(("same patterns, `grep -E -c`", f"{ms(e[0])}, peak {mib(e[1])}", f"{counts[1]} lines"))
    os.remove(log)

host_rounds = 5 if quick else 9
musl = os.environ.get("WHATAP_MUSL_BIN")
musl_contenders = [
    ("musl-doctor", lambda: run([musl, "doctor", "--no-network", "--json"], f"{work}/musl.json")),
    ("musl-detect", lambda: run([musl, "detect", "--json"], f"{work}/musl-detect.json")),
] if musl else []
r = rounds(musl_contenders + [
    ("doctor", lambda: run([bin_, "doctor", "--no-network", "--json"], f"{work}/host.json")),
    ("cold", lambda: run([bin_, "doctor", "--no-network", "--json"], f"{work}/cold.json",
                         extra_env={"WHATAP_STATE_DIR": f"{work}/no-state"})),
    ("detect", lambda: run([bin_, "detect", "--json"], f"{work}/detect.json")),
    ("vendor", lambda: run([f"{venv}/bin/whatap-doctor", "--json"], f"{work}/vendor.json", cwd=work)),
    ("dry-run", lambda: run([bin_, "install", "--home", f"{work}/tomcat", "--license", "benchmark-license-0000",
                             "--host", "127.0.0.1", "--agent-jar", f"{work}/whatap.agent.tracer-1.0.0.jar",
                             "--dry-run", "--json"], f"{work}/dry.json")),
    ("help", lambda: run([bin_, "--help"], f"{work}/help.txt")),
    ("tomcat", lambda: run([bin_, "doctor", "--no-network", "--home", f"{work}/installed"], f"{work}/tomcat.txt",
                           extra_env={"WHATAP_STATE_DIR": f"{work}/installed-state"})),
    ("probe", lambda: run([bin_, "doctor", "--home", f"{work}/installed"], f"{work}/probe.txt",
                          extra_env={"WHATAP_STATE_DIR": f"{work}/installed-state"})),
], host_rounds)
v = r["vendor"][0]
rows.append(("whole host: `doctor --no-network --json`", f"{ms(r['doctor'][0])}, peak {mib(r['doctor'][1])}",
             f"{v / r['doctor'][0]:.1f}x faster than whatap-doctor"))
rows.append(("same, no state dir (every PHP probed: its RSS counts)", f"{ms(r['cold'][0])}, peak {mib(r['cold'][1])}",
             f"{v / r['cold'][0]:.1f}x faster than whatap-doctor"))
rows.append(("whole host: `detect --json`", f"{ms(r['detect'][0])}, peak {mib(r['detect'][1])}",
             f"{v / r['detect'][0]:.1f}x faster than whatap-doctor"))
rows.append(("vendor: `whatap-doctor --json` (whatap-python)", f"{ms(v)}, peak {mib(r['vendor'][1])}", ""))
rows.append(("`install --dry-run` on a Tomcat tree", f"{ms(r['dry-run'][0])}, peak {mib(r['dry-run'][1])}", ""))
rows.append(("`doctor --no-network --home T` on an installed Tomcat", f"{ms(r['tomcat'][0])}, peak {mib(r['tomcat'][1])}", ""))
rows.append(("same with the collector probe (refused port)", f"{ms(r['probe'][0])}, peak {mib(r['probe'][1])}", ""))
rows.append(("`whatap --help`", f"{ms(r['help'][0])}, peak {mib(r['help'][1])}", ""))
if musl:
    rows.append(("musl build (its own malloc): `doctor --no-network --json`", f"{ms(r['musl-doctor'][0])}, peak {mib(r['musl-doctor'][1])}",
                 f"{r['musl-doctor'][0] / r['doctor'][0]:.2f}x the glibc build"))
    rows.append(("musl build: `detect --json`", f"{ms(r['musl-detect'][0])}, peak {mib(r['musl-detect'][1])}",
                 f"{r['musl-detect'][0] / r['detect'][0]:.2f}x the glibc build"))
rows.append(("binary size (release)", f"{os.path.getsize(bin_) / (1 << 20):.1f} MiB", ""))
load_end = os.getloadavg()

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"{time.strftime('%Y-%m-%d')}, {platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}); "
      f"load average {load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end; "
      f"median of {log_rounds} (logs) / {host_rounds} (the rest) rounds")
print()
print("| what | median, peak RSS | ratio |")
print("|---|---|---|")
for what, result, ratio in rows:
    print(f"| {what} | {result} | {ratio} |")
PY
