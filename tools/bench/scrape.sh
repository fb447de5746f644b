#!/bin/bash
# What a /metrics scrape costs at scale (issue #15): xlbd with 100 VIPs of
# 100 backends each (10,000, XLB_BENCH_BACKENDS to change), tcp-checked
# every second (10,000 checks a second), in a namespace pair made here.
# Rounds of: a quiet window (no scrape), then a window of one scrape a
# second. Prints each scrape's wall time (curl), the agent's own figures of
# the scrape before (xlb_metrics_*_seconds, when the build has them) and the
# check-start lateness p99 of each window (status: the last ~6 s of checks).
#
#   tools/bench/scrape.sh [BUILD]      (BUILD/xlbd, xlbctl, tests/xlb-lab-tcp)
#
# Figures only: nothing passes or fails on a number. XLB_BENCH_NS names the
# namespaces and the pin directory (default xlbs).
set -u
BUILD=${1:-build}
N=${XLB_BENCH_BACKENDS:-10000}
ROUNDS=${XLB_BENCH_ROUNDS:-3}
XLBD=$(realpath "$BUILD/xlbd")
XLBCTL=$(realpath "$BUILD/xlbctl")
LAB_TCP=$(realpath "$BUILD/tests/xlb-lab-tcp")
P=${XLB_BENCH_NS:-xlbs}
PIN=/sys/fs/bpf/$P
TMP=$(mktemp -d /tmp/xlb-bench-scrape.XXXXXX)
PIDS=()

# shellcheck source=tools/bench/lab10k.sh
. "$(dirname "$0")/lab10k.sh"
trap lab10k_cleanup EXIT

lab10k_up scrape
NV=100
lab10k_config "$TMP/xlb.yaml" "tcp 1s"

"$XLBD" --detach --pin-dir "$PIN" 2>/dev/null
nsenter --net=/run/netns/$P-lb $PIN_CPU "$XLBD" -c "$TMP/xlb.yaml" --pin-dir "$PIN" \
	--state-dir "$TMP/state" --socket "$TMP/sock" --metrics 127.0.0.1:19641 -l warn \
	>"$TMP/xlbd.log" 2>&1 &
XPID=$!
PIDS+=($XPID)
ctl() { "$XLBCTL" -s "$TMP/sock" "$@"; }

scrape() { # wall ms of one scrape, body in $TMP/scrape
	ip netns exec $P-lb curl -s -o "$TMP/scrape" -w '%{http_code} %{time_total}' \
		http://127.0.0.1:19641/metrics | awk '$1 == 200 { printf "%.1f", $2 * 1000 }'
}
# Backends up, from a scrape (status and backend list build their reply
# in the loop for a second or more at this size).
t0=$(date +%s)
up=0
while [ $(($(date +%s) - t0)) -lt "${XLB_BENCH_WARM:-180}" ]; do
	scrape >/dev/null
	up=$(grep -c '^xlb_backend_up{.*} 1$' "$TMP/scrape" 2>/dev/null)
	[ "${up:-0}" -ge "$N" ] && break
	sleep 2
done
echo "bench scrape: $up of $N backends up after $(($(date +%s) - t0)) s ($BUILD)"

# Lateness p99 of the checks of the last ~6 s (status: itself a stall of
# the loop, so each reading is followed by 7 s that no window includes).
p99() {
	for _ in 1 2 3; do
		ctl -j status 2>/dev/null | jq -er .check_lateness_p99_ms && return
		sleep 1
	done
	echo "status failed" >&2
}
# CPU ns so far of the event loop (the main thread) and of the HTTP thread
# (the one that is not the main thread and is named MHD-*)
loop_ns() { cut -d' ' -f1 "/proc/$XPID/task/$XPID/schedstat"; }
http_ticks() {
	for t in /proc/$XPID/task/*; do
		case "$(cat "$t/comm")" in MHD*) awk '{print $14 + $15}' "$t/stat"; return ;; esac
	done
	echo 0
}
# the agent's own account of the scrape before this one, in ms
own() { awk -v f="$1" '$1 == f { printf "%.1f", $2 * 1000 }' "$TMP/scrape"; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%s (%s-%s)", v[int((NR + 1) / 2)], v[1], v[NR]; else printf "-" }'; }

first=$(scrape)
series=$(grep -vc '^#' "$TMP/scrape")
: >"$TMP/walls"; : >"$TMP/quiet"; : >"$TMP/busy"; : >"$TMP/snap"; : >"$TMP/render"; : >"$TMP/wait"
: >"$TMP/loopq"; : >"$TMP/loopb"
h0=$(http_ticks)
for r in $(seq "$ROUNDS"); do
	sleep 1
	l0=$(loop_ns) w0=$(date +%s%N)
	sleep 6
	echo $((($(loop_ns) - l0) * 1000 / ($(date +%s%N) - w0))) >>"$TMP/loopq"
	p99 >>"$TMP/quiet"
	sleep 7
	l0=$(loop_ns) w0=$(date +%s%N)
	for _ in 1 2 3 4 5 6; do
		scrape >>"$TMP/walls"; echo >>"$TMP/walls"
		own xlb_metrics_snapshot_seconds >>"$TMP/snap"; echo >>"$TMP/snap"
		own xlb_metrics_render_seconds >>"$TMP/render"; echo >>"$TMP/render"
		own xlb_metrics_wait_seconds >>"$TMP/wait"; echo >>"$TMP/wait"
		sleep 1
	done
	echo $((($(loop_ns) - l0) * 1000 / ($(date +%s%N) - w0))) >>"$TMP/loopb"
	p99 >>"$TMP/busy"
done
h1=$(http_ticks)
hz=$(getconf CLK_TCK)
echo
echo "/metrics at scale: $NV VIPs, $N backends, tcp checks every 1 s; $series series"
printf '  %-40s %s ms\n' "first scrape" "$first"
printf '  %-40s %s ms   (target < 100 ms)\n' "scrape wall, median (range) of $((ROUNDS * 6))" \
	"$(grep . "$TMP/walls" | median)"
printf '  %-40s %s ms\n' "  loop's snapshot (agent's figure)" "$(grep . "$TMP/snap" | median)"
printf '  %-40s %s ms\n' "  waiting for the loop (agent's figure)" "$(grep . "$TMP/wait" | median)"
printf '  %-40s %s ms\n' "  render, thread CPU (agent's figure)" "$(grep . "$TMP/render" | median)"
printf '  %-40s %s ms\n' "HTTP thread CPU a scrape (mean, stat)" \
	"$(awk -v d=$((h1 - h0)) -v hz="$hz" -v n=$((ROUNDS * 6)) 'BEGIN { printf "%.1f", d * 1000 / hz / n }')"
printf '  %-40s %s ms/s\n' "loop CPU, quiet windows (schedstat)" "$(median <"$TMP/loopq")"
printf '  %-40s %s ms/s\n' "loop CPU, scrape windows (schedstat)" "$(median <"$TMP/loopb")"
printf '  %-40s %s ms\n' "lateness p99, quiet windows" "$(median <"$TMP/quiet")"
printf '  %-40s %s ms   (target: no spike)\n' "lateness p99, scrape windows" "$(median <"$TMP/busy")"
