#!/usr/bin/env bash
# Reproduces the project's own HTTP server figures (docs/BENCHMARKS.md) without the peer kit:
# the server pinned to core 1, one wrk thread pinned to core 0, server CPU per request from
# /proc/PID/stat, memory per idle keep-alive connection from VmRSS.
#
#   benches/http_bench.sh [--rounds N] [--duration S] [--warmup S] [--conns N] [--no-memory]
#                         [--server NAME=COMMAND]...
#
# COMMAND gets the port in $PORT (default servers: our examples hello_http and bench_web).
# Needs Linux, 2+ cores, wrk, taskset, python3; installs wrk with apt-get when run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=1 duration=10 warmup=2 conns=10000 memory=1 port=8199
servers=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --conns) conns=$2; shift 2 ;;
        --no-memory) memory=0; shift ;;
        --port) port=$2; shift 2 ;;
        --server) servers+=("$2"); shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done

if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq wrk >/dev/null
    else
        echo "wrk is needed: sudo apt-get install -y wrk" >&2; exit 1
    fi
fi
for tool in taskset python3; do
    command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "needs 2 cores (server on core 1, wrk on core 0)" >&2; exit 1; }

if [ ${#servers[@]} -eq 0 ]; then
    cargo build --release -q -p tornado-examples --example hello_http --example bench_web
    servers=("hello_http=target/release/examples/hello_http --port \$PORT"
             "bench_web=target/release/examples/bench_web --port \$PORT")
fi
ulimit -n $((conns + 1000)) 2>/dev/null || echo "warning: ulimit -n $((conns + 1000)) refused; memory test may fail" >&2
ticks=$(getconf CLK_TCK)
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

start_server() { # cmd -> pid
    PORT=$port taskset -c 1 bash -c "exec $1" >"$results/server.log" 2>&1 &
    local pid=$!
    for _ in $(seq 100); do
        if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
            echo "$pid"; return
        fi
        sleep 0.1
    done
    echo "server did not listen on $port: $(cat "$results/server.log")" >&2; exit 1
}
stop_server() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }

run_wrk() { # pid name workload -> appends "workload req/s user_us sys_us p50 p99" to results
    local pid=$1 name=$2 workload=$3 url="http://127.0.0.1:$port/plaintext" extra=()
    case "$workload" in
        json) url="http://127.0.0.1:$port/json" ;;
        pipelined) extra=(-s benches/http/pipeline.lua) ;;
    esac
    local args=(-t1 -c64 --latency "${extra[@]}" "$url")
    [ "$workload" = pipelined ] && args+=(-- 16)
    taskset -c 0 wrk -d"${warmup}s" "${args[@]}" >/dev/null
    read -r u0 s0 < <(cpu_ticks "$pid")
    taskset -c 0 wrk -d"${duration}s" "${args[@]}" >"$results/wrk.out"
    read -r u1 s1 < <(cpu_ticks "$pid")
    python3 - "$results/wrk.out" "$u0" "$s0" "$u1" "$s1" "$ticks" "$name" "$workload" >>"$results/rows" <<'PY'
import re, sys
out = open(sys.argv[1]).read()
u0, s0, u1, s1, ticks = map(int, sys.argv[2:7])
n = int(re.search(r"(\d+) requests in", out).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
def pct(p):
    m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", out, re.M)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
us = lambda t: (t / ticks) * 1e6 / max(n, 1)
print(sys.argv[7], sys.argv[8], f"{rps:.0f}", f"{us(u1 - u0):.2f}", f"{us(s1 - s0):.2f}", f"{pct(50):.3f}", f"{pct(99):.3f}")
PY
}

for round in $(seq "$rounds"); do
    for entry in "${servers[@]}"; do
        name=${entry%%=*} cmd=${entry#*=}
        echo "round $round: $name" >&2
        pid=$(start_server "$cmd")
        for workload in plaintext json pipelined; do
            run_wrk "$pid" "$name" "$workload"
        done
        stop_server "$pid"
        if [ "$memory" = 1 ]; then
            pid=$(start_server "$cmd")
            sleep 1
            rss0=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
            coproc IDLE { python3 benches/http/idle_conns.py "$port" "$conns"; }
            read -r ready <&"${IDLE[0]}"
            sleep 1
            rss1=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
            echo >&"${IDLE[1]}"
            read -r _ alive <&"${IDLE[0]}"
            wait "$IDLE_PID" 2>/dev/null || true
            echo "$name memory $rss0 $rss1 $alive" >>"$results/rows"
            stop_server "$pid"
        fi
    done
done

python3 - "$results/rows" "$conns" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
conns = int(sys.argv[2])
names = list(dict.fromkeys(r[0] for r in rows))
med = lambda xs: statistics.median(xs) if xs else float("nan")
print("| server | plaintext req/s | JSON req/s | pipelined req/s | p50 / p99 ms (plaintext) | user µs/req: plaintext / JSON / pipelined | sys µs/req: plaintext / JSON / pipelined | KiB per idle conn |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for n in names:
    w = lambda wl, i: med([float(r[i]) for r in rows if r[0] == n and r[1] == wl])
    mem = [r for r in rows if r[0] == n and r[1] == "memory"]
    kib = med([(int(r[3]) - int(r[2])) / conns for r in mem]) if mem else float("nan")
    alive = min((int(r[4]) for r in mem), default=0)
    print(f"| {n} | {w('plaintext',2):,.0f} | {w('json',2):,.0f} | {w('pipelined',2):,.0f} | "
          f"{w('plaintext',5):.3f} / {w('plaintext',6):.3f} | "
          f"{w('plaintext',3):.2f} / {w('json',3):.2f} / {w('pipelined',3):.2f} | "
          f"{w('plaintext',4):.2f} / {w('json',4):.2f} / {w('pipelined',4):.2f} | "
          f"{kib:.2f}" + (f" ({alive} of {conns} kept)" if mem and alive != conns else "") + " |")
PY
