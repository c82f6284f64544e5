#!/usr/bin/env bash
# Soak: a broker jar (embedded store) under a steady open-loop load for a long run, sampling its
# heap from /metrics, to show memory and latency stay flat. Not part of CI.
# Usage: loadtest/soak.sh [duration=10m] [rate=2000] [agents=256]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10m}
rate=${2:-2000}
agents=${3:-256}
work=$(mktemp -d)
token="soak-admin-token-$(date +%s)-0123456789"
java -Xmx512m -jar broker/target/license-broker.jar serve --port 0 --metrics-port 0 \
  --data-dir "$work/data" --admin-token "$token" --lease-ttl 30s > "$work/broker.log" 2>&1 &
broker=$!
trap 'kill "$broker" 2>/dev/null || true; wait "$broker" 2>/dev/null || true' EXIT
until grep -q '^listening on ' "$work/broker.log"; do sleep 0.2; done
port=$(sed -n 's/^listening on //p' "$work/broker.log")
metrics=$(sed -n 's/^metrics on //p' "$work/broker.log")
( while kill -0 "$broker" 2>/dev/null; do
    sample=$(curl -s "http://127.0.0.1:$metrics/metrics")
    heap=$(grep '^jvm_memory_used_bytes' <<< "$sample" | grep 'area="heap"' | awk '{s+=$NF} END {printf "%.0f", s/1048576}')
    old=$(grep '^jvm_memory_used_bytes' <<< "$sample" | grep 'Old Gen' | awk '{s+=$NF} END {printf "%.0f", s/1048576}')
    echo "$(date +%T) heap_used_mib=$heap old_gen_mib=$old"
    sleep 30
  done ) > "$work/heap.log" &
sampler=$!
java -jar loadtest/target/license-loadtest.jar run --target "127.0.0.1:$port" --admin-token "$token" \
  --agents "$agents" --licenses "$agents" --duration "$duration" --warmup 10s --open-loop --rate "$rate" \
  --hold 20ms --renew --json "$work/soak.json" 2> "$work/progress.log"
kill "$sampler" 2>/dev/null || true
echo "--- broker heap (MiB used, every 30 s)"
cat "$work/heap.log"
echo "--- ops/s and acquire p99 per minute"
awk 'NR % 60 == 0' "$work/progress.log"
echo "files: $work"
