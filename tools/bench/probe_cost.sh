#!/bin/bash
# What a plain tcp check costs made by syscalls (the prober's way) or
# batched by io_uring: build/tools/xlb-probe-cost (probe_cost.c) in a
# network namespace of its own (XLB_BENCH_NS, default xlbp), on loopback.
# Figures only: nothing here passes or fails on a number.
set -u
BUILD=${1:-build}
NS=${XLB_BENCH_NS:-xlbp}-cost
ip netns add "$NS" || { echo "bench probe cost: needs root and netns"; exit 1; }
trap 'ip netns del "$NS"' EXIT
ip -n "$NS" link set lo up
echo
ip netns exec "$NS" "$BUILD/tools/xlb-probe-cost" "${XLB_BENCH_BATCH:-10}" 20000 5
