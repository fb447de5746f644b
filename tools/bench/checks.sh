#!/bin/bash
# The agent at scale: xlbd with 100 VIPs of 100 backends each (10,000 in
# all, XLB_BENCH_BACKENDS to change), checked by tcp every second, in a
# namespace pair made here. Prints the agent's CPU share of one core, how
# late checks start against their schedule (p50, p99) and how long a
# /metrics scrape takes (issues #4, #5); writes build/bench-checks.json.
# Then how late checks start while a scrape and a reload that changes every
# backend run at once (issue #15); writes build/bench-checks-busy.json.
#
#   lb (10.200.255.254) --veth-- be (10.200.0.1 ... : N addresses, one server)
#
# Figures only: nothing here passes or fails on a number. XLB_BENCH_NS
# names the namespaces and the pin directory (default xlbb), so that two
# benches on one host do not collide.
set -u
BUILD=${1:-build}
N=${XLB_BENCH_BACKENDS:-10000}
SECS=${XLB_BENCH_SECONDS:-20}
XLBD=$(realpath "$BUILD/xlbd")
XLBCTL=$(realpath "$BUILD/xlbctl")
LAB_TCP=$(realpath "$BUILD/tests/xlb-lab-tcp")
P=${XLB_BENCH_NS:-xlbb}
PIN=/sys/fs/bpf/$P
TMP=$(mktemp -d /tmp/xlb-bench-checks.XXXXXX)
PIDS=()

# shellcheck source=tools/bench/lab10k.sh
. "$(dirname "$0")/lab10k.sh"
trap lab10k_cleanup EXIT

lab10k_up checks
NV=100
lab10k_config "$TMP/xlb.yaml" "tcp 1s"

"$XLBD" --detach --pin-dir "$PIN" 2>/dev/null
nsenter --net=/run/netns/$P-lb $PIN_CPU "$XLBD" -c "$TMP/xlb.yaml" --pin-dir "$PIN" \
	--state-dir "$TMP/state" --socket "$TMP/sock" --metrics 127.0.0.1:19641 -l warn \
	>"$TMP/xlbd.log" 2>&1 &
XPID=$!
PIDS+=($XPID)
ctl() { "$XLBCTL" -s "$TMP/sock" "$@"; }

# Backends up, from /metrics: at 10,000 backends on a loaded host the
# control socket's list and status replies can miss their deadline.
count_up() {
	ip netns exec $P-lb curl -s -m 20 http://127.0.0.1:19641/metrics |
		grep -c '^xlb_backend_up{.*} 1$'
}
t0=$(date +%s)
up=0
while [ $(($(date +%s) - t0)) -lt 120 ]; do
	up=$(count_up)
	[ "$up" -ge "$N" ] && break
	sleep 1
done
warm=$(($(date +%s) - t0))
[ "$up" -ge "$N" ] || { echo "bench checks: only $up of $N backends up after ${warm}s"; tail -5 "$TMP/xlbd.log"; }

ticks() { awk '{print $14 + $15}' "/proc/$XPID/stat"; }
hz=$(getconf CLK_TCK)
ev() { ctl events | grep -c ' health '; }
e0=$(ev)
read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$XPID/stat")
# Checks the agent made (its result counter, whatever the way: a half-open
# check opens no connection), for the CPU a check costs whatever the rate.
# Read outside the CPU window: a scrape costs the agent CPU too.
opens() {
	ip netns exec $P-lb curl -s -m 20 http://127.0.0.1:19641/metrics |
		awk '/^xlb_healthcheck_results_total/ { n += $NF } END { printf "%d\n", n }'
}
o0=$(opens)
c0=$(ticks)
sleep "$SECS"
c1=$(ticks)
o1=$(opens)
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$XPID/stat")
e1=$(ev)
# Scrapes: the slowest of five, and the size of one.
scrape_ms=0
for _ in 1 2 3 4 5; do
	t=$(ip netns exec $P-lb curl -s -o "$TMP/scrape" -w '%{time_total}' http://127.0.0.1:19641/metrics)
	t=$(awk -v t="$t" 'BEGIN { printf "%.1f", t * 1000 }')
	scrape_ms=$(awk -v a="$scrape_ms" -v b="$t" 'BEGIN { print (b > a) ? b : a }')
done
series=$(grep -vc '^#' "$TMP/scrape")
ctl events | grep ' health ' | tail -3 >"$TMP/last-events"
# A status reply (retried: it can miss its deadline on a loaded host).
status() {
	for _ in 1 2 3; do
		ctl -j status >"$TMP/status.json" 2>/dev/null && return
		sleep 1
	done
	echo "bench checks: no status reply" >&2
}
# A number of the status reply in ms, 2 decimals ("null" when missing):
# json-c prints doubles in full (0.068000000000000005).
field() {
	grep "\"$1\"" "$TMP/status.json" | head -1 | sed 's/.*: *//; s/,$//' |
		awk '{ printf "%.2f", $1; got = 1 } END { if (!got) printf "null" }'
}
status
p50=$(field check_lateness_p50_ms)
p99=$(field check_lateness_p99_ms)
cpu=$(awk -v d=$((c1 - c0)) -v hz="$hz" -v s="$SECS" 'BEGIN { printf "%.1f", d * 100 / hz / s }')

echo
echo "The agent at scale: $NV VIPs, $N backends, tcp checks every 1 s (+-10% jitter), ${SECS} s measured"
printf '  %-34s %s\n' "backends up after start" "$up of $N in ${warm}s"
printf '  %-34s %s %%   (target < 10%%)\n' "xlbd CPU, share of one core" "$cpu"
checks=$((o1 - o0))
per_check=$(awk -v d=$((c1 - c0)) -v hz="$hz" -v n="$checks" \
	'BEGIN { printf "%.1f", n ? d * 1e6 / hz / n : 0 }')
printf '  %-34s %s a second, %s us of CPU each\n' "tcp checks while measured" \
	"$((checks / SECS))" "$per_check"
per() { awk -v d="$1" -v hz="$hz" -v n="$checks" 'BEGIN { printf "%.1f", n ? d * 1e6 / hz / n : 0 }'; }
printf '  %-34s %s %% user, %s %% kernel (%s + %s us a check)\n' "  of which" \
	"$(awk -v d=$((u1 - u0)) -v hz="$hz" -v s="$SECS" 'BEGIN { printf "%.1f", d * 100 / hz / s }')" \
	"$(awk -v d=$((s1 - s0)) -v hz="$hz" -v s="$SECS" 'BEGIN { printf "%.1f", d * 100 / hz / s }')" \
	"$(per $((u1 - u0)))" "$(per $((s1 - s0)))"
printf '  %-34s %s\n' "health changes while measured" "$((e1 - e0)) (history holds 1024)"
sed 's/^/    /' "$TMP/last-events"
printf '  %-34s %s ms\n' "check start lateness p50" "$p50"
printf '  %-34s %s ms   (target < 50 ms)\n' "check start lateness p99" "$p99"
printf '  %-34s %s ms, %s series   (target < 100 ms)\n' "/metrics scrape, slowest of 5" \
	"$scrape_ms" "$series"
cat >"$BUILD/bench-checks.json" <<JSON
{"backends": $N, "interval_ms": 1000, "seconds": $SECS, "up": $up,
 "warmup_s": $warm, "cpu_percent": $cpu, "lateness_p50_ms": $p50, "lateness_p99_ms": $p99,
 "checks_per_s": $((checks / SECS)), "cpu_us_per_check": $per_check, "vips": $NV, "scrape_ms": $scrape_ms, "scrape_series": $series}
JSON

# A scrape and a reload that changes every backend's weight (every table
# rebuilt, every backend record written) at the same moment, three times,
# alternating weight 2 and 1: the lateness p99 of the checks around it
# (the agent keeps the last ~6 s of checks), read once the checks the two
# delayed have run. Then five scrapes alone, a second apart.
# (A reload of xlbd's -c FILE: the file is beyond what apply -f sends.)
cp "$TMP/xlb.yaml" "$TMP/xlb-w1.yaml"
sed 's/^\(      - address: .*\)$/\1\n        weight: 2/' "$TMP/xlb.yaml" >"$TMP/xlb-w2.yaml"
scrape() { # one scrape: its time in ms; nothing if it was not a 200
	ip netns exec $P-lb curl -s -o /dev/null -w '%{http_code} %{time_total}' \
		http://127.0.0.1:19641/metrics | awk '$1 == 200 { printf "%.1f", $2 * 1000 }'
}
# median (range) of numbers, one a line
median() { sort -g | awk '{ v[NR] = $1 } END { printf "%s (%s-%s)", v[int((NR + 1) / 2)], v[1], v[NR] }'; }
busy=
for w in 2 1 2; do
	cp "$TMP/xlb-w$w.yaml" "$TMP/xlb.yaml"
	sleep 2
	scrape >/dev/null &
	sp=$!
	ctl reload >/dev/null || echo "bench checks: reload to weight $w failed"
	wait $sp
	sleep 1
	status
	busy="$busy $(field check_lateness_p99_ms)"
done
alone=
for _ in 1 2 3 4 5; do
	alone="$alone $(scrape)"
	sleep 1
done
printf '  %-34s %s ms   (target < 50 ms)\n' "lateness p99, scrape + reload, 3x" \
	"$(echo $busy | tr ' ' '\n' | median)"
printf '  %-34s %s ms, %s of 5 answered   (target < 100 ms)\n' "/metrics scrape alone" \
	"$(echo $alone | tr ' ' '\n' | median)" "$(echo $alone | wc -w)"
cat >"$BUILD/bench-checks-busy.json" <<JSON
{"backends": $N, "busy_lateness_p99_ms": [$(echo $busy | tr ' ' ',')],
 "scrape_ms": [$(echo $alone | tr ' ' ',')]}
JSON
