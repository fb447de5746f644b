#!/bin/bash
# The agent's event loop at its busiest (issue #15): xlbd with 100 VIPs of
# 100 backends each (10,000, XLB_BENCH_BACKENDS to change), unchecked
# (XLB_BENCH_CHECK="tcp 1s" checks them), in a namespace pair made here (as
# checks.sh). While a
# probe asks the control socket every 5 ms (tools/bench/loop_probe.c: a
# reply is late by the loop turn it waited for), one thing at a time:
#
#   quiet      31 s, nothing asked (the periodic next-hop re-check falls in it)
#   status     5 x `xlbctl status` (every backend, its flows)
#   list       5 x `xlbctl backend list`
#   apply      5 x a weight change and back (one VIP table rebuilt, 10,000
#              backends planned)
#   routes     1,000 route changes (500 /32 added, then deleted) for prefixes
#              that hold no backend, as a BGP daemon on the host makes them
#   route1     a /32 route for one backend added and deleted
#
# Per phase: the probe's slowest reply and p99 (the loop's longest turn,
# to within 5 ms), the slowest command, and xlbd's CPU time. Writes
# build/bench-loop.json. XLB_BENCH_RUNS runs several builds in turn on
# the same lab (paired before/after, below); XLB_BENCH_NS names the
# namespaces.
# Figures only: nothing here passes or fails on a number.
set -u
BUILD=${1:-build}
N=${XLB_BENCH_BACKENDS:-10000}
# No health checks by default (checks.sh measures those; on a busy host
# their own load would hide the costs measured here): 'tcp 1s' adds them.
CHECK=${XLB_BENCH_CHECK:-none}
XLBD=$(realpath "$BUILD/xlbd")
XLBCTL=$(realpath "$BUILD/xlbctl")
LAB_TCP=$(realpath "$BUILD/tests/xlb-lab-tcp")
PROBE=$(realpath "$BUILD/tools/xlb-loop-probe")
P=${XLB_BENCH_NS:-xlbl}
PIN=/sys/fs/bpf/$P
TMP=$(mktemp -d /tmp/xlb-bench-loop.XXXXXX)
PIDS=()

# shellcheck source=tools/bench/lab10k.sh
. "$(dirname "$0")/lab10k.sh"
trap lab10k_cleanup EXIT

lab10k_up loop
NV=100
lab10k_config "$TMP/xlb.yaml" "$CHECK"

ctl() { "$XLBCTL" -s "$TMP/sock" "$@"; }

# Start XLBD afresh (nothing pinned, no state) and wait for every backend up.
start_xlbd() {
	"$1" --detach --pin-dir "$PIN" >/dev/null 2>&1
	rm -rf "$TMP/state"
	nsenter --net=/run/netns/$P-lb $PIN_CPU "$1" -c "$TMP/xlb.yaml" --pin-dir "$PIN" \
		--state-dir "$TMP/state" --socket "$TMP/sock" --metrics off -l warn >"$TMP/xlbd.log" 2>&1 &
	XPID=$!
	PIDS+=($XPID)
	local t0
	t0=$(date +%s)
	up=0
	# the first and the last VIP's backends (a list of all 10,000 is a
	# reply of megabytes: a busy host may not read it before xlbd gives up
	# on the reader)
	while [ $(($(date +%s) - t0)) -lt 300 ]; do
		up=$( (ctl backend list 10.201.0.1:80/tcp; ctl backend list 10.201.0.$NV:80/tcp) 2>/dev/null |
			grep ' up ' | grep -c ' resolved')
		[ "$up" -ge $((2 * N / NV)) ] && break
		sleep 1
	done
	warm=$(($(date +%s) - t0))
	[ "$up" -ge $((2 * N / NV)) ] ||
		{ echo "bench loop: only $up of the first and last VIPs' $((2 * N / NV)) backends up after ${warm}s"; tail -5 "$TMP/xlbd.log"; }
	sleep 2 # the last coming-up applies settle
}

stop_xlbd() {
	kill "$XPID" 2>/dev/null
	wait "$XPID" 2>/dev/null
	"$1" --detach --pin-dir "$PIN" >/dev/null 2>&1
}

cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{printf "%d", ($14 + $15) * 1000 / hz}' "/proc/$XPID/stat"; }
now_ms() { date +%s%3N; }
# time CMD... in ms
timed() {
	local t0 t1
	t0=$(now_ms)
	"$@" >/dev/null 2>&1
	t1=$(now_ms)
	echo $((t1 - t0))
}

# phase NAME SECONDS FN: the probe runs SECONDS; FN starts 0.5 s in and
# prints the slowest of its commands (ms) on fd 3.
JSON=
phase() {
	local name=$1 secs=$2 fn=$3 c0 c1 slowest
	c0=$(cpu_ms)
	"$PROBE" "$TMP/sock" "$secs" 5 >"$TMP/probe" &
	local pp=$!
	sleep 0.5
	slowest=$($fn)
	wait $pp
	c1=$(cpu_ms)
	read -r _ n _ max _ p99 _ <"$TMP/probe"
	printf '  %-8s %-38s probe max %7s ms  p99 %6s ms  (%5s probes)  slowest cmd %5s ms  xlbd CPU %5s ms\n' \
		"$name" "$4" "$max" "$p99" "$n" "${slowest:--}" $((c1 - c0))
	JSON="$JSON${JSON:+, }\"$name\": {\"probe_max_ms\": $max, \"probe_p99_ms\": $p99, \"slowest_cmd_ms\": ${slowest:-null}, \"cpu_ms\": $((c1 - c0))}"
}

quiet() { :; }
status5() {
	local s=0 t
	for _ in 1 2 3 4 5; do t=$(timed ctl status); [ "$t" -gt $s ] && s=$t; sleep 0.5; done
	echo $s
}
list5() {
	local s=0 t
	for _ in 1 2 3 4 5; do t=$(timed ctl backend list); [ "$t" -gt $s ] && s=$t; sleep 0.5; done
	echo $s
}
apply5() {
	local s=0 t w
	for w in 2 1 2 1 2; do
		t=$(timed ctl backend set 10.201.0.1:80/tcp 10.200.0.1 weight $w)
		[ "$t" -gt $s ] && s=$t
		sleep 0.5
	done
	ctl backend set 10.201.0.1:80/tcp 10.200.0.1 weight 1 >/dev/null
	echo $s
}
routes() {
	awk 'BEGIN { for (c = 0; c < 2; c++) for (i = 0; i < 500; i++)
		printf "route %s 192.168.%d.%d/32 via 10.200.255.253\n", c ? "del" : "add", int(i / 250), i % 250 + 1 }' \
		>"$TMP/routes.batch"
	timed ip -n $P-lb -batch "$TMP/routes.batch"
}
route1() {
	timed sh -c "ip -n $P-lb route add 10.200.0.1/32 via 10.200.255.253 && sleep 1 && \
		ip -n $P-lb route del 10.200.0.1/32 via 10.200.255.253"
}

# XLB_BENCH_PHASES="quiet routes": only those phases.
on() { [ -z "${XLB_BENCH_PHASES:-}" ] || [[ " $XLB_BENCH_PHASES " == *" $1 "* ]]; }

# XLB_BENCH_RUNS="before:/path/to/old/xlbd after:build/xlbd ...": the
# phases for each build in turn on the same lab (paired figures in one
# sitting); default: this build once.
RUNS=${XLB_BENCH_RUNS:-this:$XLBD}
ALL=
for run in $RUNS; do
	label=${run%%:*}
	bin=$(realpath "${run#*:}")
	start_xlbd "$bin"
	echo
	echo "The event loop at its busiest ($label): $NV VIPs, $N backends (first and last VIP: $up of $((2 * N / NV)) up and resolved after ${warm}s), checks: $CHECK"
	JSON=
	on quiet && phase quiet 31 quiet "31 s, nothing asked"
	on status && phase status 4 status5 "5 x status"
	on list && phase list 4 list5 "5 x backend list"
	on apply && phase apply 4 apply5 "5 x weight change (one table)"
	on routes && phase routes 4 routes "1,000 route changes, no backend's"
	on route1 && phase route1 3 route1 "one backend's /32 added, deleted"
	stop_xlbd "$bin"
	ALL="$ALL${ALL:+,
 }{\"run\": \"$label\", \"backends\": $N, \"vips\": $NV, $JSON}"
done
cat >"$BUILD/bench-loop.json" <<JSON
[$ALL]
JSON
