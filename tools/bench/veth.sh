#!/bin/bash
# Throughput through native XDP on a veth pair (issue #7): makes the
# namespaces, runs build/tools/xlb-veth-bench, removes them.
set -u
BUILD=${1:-build}
P=${XLB_BENCH_NS:-xlbv} # namespace prefix (two runs on one host: set it)
cleanup() { ip netns del $P-gen 2>/dev/null; ip netns del $P-lb 2>/dev/null; }
trap cleanup EXIT
cleanup
ip netns add $P-gen && ip netns add $P-lb || { echo "bench veth: needs root and netns"; exit 1; }
ip link add g0 netns $P-gen type veth peer name l0 netns $P-lb
for ns in gen lb; do ip -n $P-$ns link set lo up; done
ip -n $P-gen link set g0 up
ip -n $P-lb link set l0 up
# bpf_stats_enabled costs every program on the path about half its speed
[ "$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null)" = 1 ] &&
	echo "bench veth: kernel.bpf_stats_enabled=1 halves these figures"
# Defaults for a shared host: packets per CPU-second of the generator's
# thread (which runs the LB's veth receive too), and each row's ratio to a
# trivial run right after it. XLB_BENCH_CLOCK=wall XLB_BENCH_PAIRED=0: the
# old wall-clock figures.
export XLB_BENCH_CLOCK=${XLB_BENCH_CLOCK-cpu} XLB_BENCH_PAIRED=${XLB_BENCH_PAIRED-1}
"$BUILD/tools/xlb-veth-bench" /run/netns/$P-gen g0 /run/netns/$P-lb l0 "$BUILD/bench-veth.json"
