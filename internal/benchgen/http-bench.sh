#!/usr/bin/env bash
# Measures FHIR reads on SQLite with N synthetic patients, with wrk
# (Debian package wrk) as the load generator on loopback. SCRIPT is
# read.lua (by id, the default) or search.lua (by family and birth date).
#
#   internal/benchgen/http-bench.sh [N] [CONNECTIONS] [SECONDS] [SCRIPT]
set -euo pipefail
N=${1:-100000}
CONNS=${2:-16}
SECS=${3:-10}
SCRIPT=${4:-read.lua}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/nexus-bench.XXXXXX)
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT

command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 1; }
cd "$ROOT"
go build -o "$WORK/nexusd" ./cmd/nexusd
go run ./internal/benchgen -n "$N" -out "$WORK/data"
"$WORK/nexusd" import --db "sqlite:$WORK/bench.db" "$WORK/data" | tail -n 1
"$WORK/nexusd" --log-level warn serve --db "sqlite:$WORK/bench.db" --addr 127.0.0.1:18090 &
PID=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:18090/readyz >/dev/null && break; sleep 0.1; done
# Warm the page cache, then measure.
wrk -t2 -c"$CONNS" -d3s -s "$WORK/data/$SCRIPT" http://127.0.0.1:18090 >/dev/null
wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$WORK/data/$SCRIPT" http://127.0.0.1:18090
