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

cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	wait 2>/dev/null
	"$XLBD" --detach --pin-dir "$PIN" 2>/dev/null
	ip netns del $P-lb 2>/dev/null
	ip netns del $P-be 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# A line with backend i's address between PREFIX and SUFFIX: addr I PREFIX
# SUFFIX. No command substitution: 20,000 forks take minutes on a loaded
# 2-core host.
addr() { printf '%s10.200.%d.%d%s\n' "$2" $(($1 / 250)) $(($1 % 250 + 1)) "${3:-}"; }

ip netns add $P-lb && ip netns add $P-be || { echo "bench checks: needs root and netns"; exit 1; }
ip link add eth0 netns $P-lb type veth peer name eth0 netns $P-be
ip -n $P-lb link set lo up
ip -n $P-lb link set eth0 up
ip -n $P-lb addr add 10.200.255.254/16 dev eth0
ip -n $P-be link set lo up
ip -n $P-be link set eth0 up
for i in $(seq 0 $((N - 1))); do addr "$i" "addr add " "/16 dev eth0"; done | ip -n $P-be -batch -
# The backends' MACs as permanent neighbour entries (as loop.sh): no ARP
# for 10,000 hops, and permanent entries do not count against gc_thresh,
# host-wide sysctls that a bench raising and restoring them would lower
# under another bench (or an e2e lab) on the same host.
mac=$(ip -n $P-be link show eth0 | awk '/link\/ether/ {print $2}')
awk -v n="$N" -v mac="$mac" 'BEGIN { for (i = 0; i < n; i++)
	printf "neigh replace 10.200.%d.%d lladdr %s dev eth0 nud permanent\n", int(i / 250), i % 250 + 1, mac }' |
	ip -n $P-lb -batch -
# On one host the backends' side of every handshake would run in the
# agent's own softirq (veth delivers synchronously) and be billed to it:
# pin the agent to CPU 0 and steer the backends' receive work to CPU 1.
NCPU=$(nproc)
if [ "$NCPU" -ge 2 ]; then
	ip netns exec $P-be sh -c 'echo 2 > /sys/class/net/eth0/queues/rx-0/rps_cpus'
	PIN_CPU="taskset -c 0"
	ip netns exec $P-be taskset -c 1 "$LAB_TCP" 80 be greet & PIDS+=($!)
else
	PIN_CPU=
	ip netns exec $P-be "$LAB_TCP" 80 be greet & PIDS+=($!)
fi

NV=100
{
	echo "interface: eth0"
	echo "hash_seed: $(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
	echo "vips:"
	for v in $(seq 0 $((NV - 1))); do
		echo "  - address: 10.201.0.$((v + 1))"
		echo "    port: 80"
		echo "    protocol: tcp"
		echo "    table_size: 4093"
		echo "    check: {type: tcp, interval: 1s, timeout: 500ms}"
		echo "    backends:"
		for i in $(seq "$v" "$NV" $((N - 1))); do addr "$i" "      - address: "; done
	done
} >"$TMP/xlb.yaml"

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
# Connections the agent opened (its checks: nothing else in its namespace
# opens TCP connections), for the CPU a check costs whatever the rate.
opens() { ip netns exec $P-lb awk '/^Tcp:/ && $6 ~ /^[0-9]+$/ { print $6 }' /proc/net/snmp; }
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
