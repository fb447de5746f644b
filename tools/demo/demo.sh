#!/bin/bash
# make demo: xlb on its built-in lab, narrated. A client, the load balancer
# and three backends running small HTTP servers, each in a network
# namespace on one bridge; xlbd with a built-in configuration; then the
# things operators care about, step by step, each checked:
#   1 traffic spread   2 a server dies   3 it comes back, ramped in
#   4 a drain for a rolling upgrade   5 a canary   6 nothing healthy
#   7 what Prometheus sees
# DEMO_FAST=1: no pauses (the test runs it so). Exit 0 when every step
# showed what it should. Everything it made is removed on exit, Ctrl-C or
# failure.
set -u
BUILD=${BUILD:-build}
XLBD=$(realpath "$BUILD/xlbd")
XLBCTL=$(realpath "$BUILD/xlbctl")
LAB_DP=$(realpath "$BUILD/tests/xlb-lab-dp")
LAB_TCP=$(realpath "$BUILD/tests/xlb-lab-tcp")
P=xlbdemo
PIN=/sys/fs/bpf/xlbdemo
VIP=10.98.100.1
V=$VIP:80/tcp
TMP=$(mktemp -d /tmp/xlb-demo.XXXXXX)
PIDS=()
FAILED=0

B=; N=
[ -t 1 ] && B=$(tput bold 2>/dev/null) && N=$(tput sgr0 2>/dev/null)
cleanup() {
	exec 2>/dev/null
	for pid in "${PIDS[@]}"; do kill "$pid"; done
	for h in cl lb b1 b2 b3 br; do
		ip netns pids $P-$h | xargs -r kill -9
		ip netns del $P-$h
	done
	wait
	"$XLBD" --detach --pin-dir "$PIN"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo; echo "interrupted: cleaning up"; exit 130' INT TERM

say() { printf '\n%s== %s ==%s\n' "$B" "$*" "$N"; }
note() { printf '   %s\n' "$*"; }
pause() { [ -n "${DEMO_FAST:-}" ] || sleep "${1:-2}"; }
check() { # check STEP CONDITION-TEXT: the last command's status
	if [ "$1" = 0 ]; then printf '   %sok%s    %s\n' "$B" "$N" "$2"
	else printf '   %sFAIL%s  %s\n' "$B" "$N" "$2"; FAILED=1; fi
}
on() { local h=$1; shift; ip netns exec $P-$h "$@"; }
bg() { local h=$1; shift; ip netns exec $P-$h "$@" & PIDS+=($!); }
ctl() { "$XLBCTL" -s "$TMP/xlbd.sock" "$@"; }
status() { ctl status | awk 'f; /^$/ {f++}' | awk 'NF' | sed 's/^/   /'; }

[ "$(id -u)" = 0 ] || { echo "make demo needs root (BPF, network namespaces)"; exit 1; }

# ---- the lab ----------------------------------------------------------------

addr() { case $1 in cl) echo 10.98.0.1;; lb) echo 10.98.0.2;; b1) echo 10.98.0.11;; b2) echo 10.98.0.12;; b3) echo 10.98.0.13;; esac; }
lab() {
	ip netns add $P-br && on br ip link add br0 type bridge && on br ip link set br0 up || return 1
	for h in cl lb b1 b2 b3; do
		ip netns add $P-$h || return 1
		ip link add eth0 netns $P-$h type veth peer name v-$h netns $P-br
		on br ip link set v-$h master br0 up
		on $h ip link set lo up
		on $h ip link set eth0 up
		on $h ip addr add "$(addr $h)/24" dev eth0
		# a frame that went through XDP lost its checksum offload
		on $h ethtool -K eth0 tx off >/dev/null 2>&1
	done
	on cl ip route add 10.98.100.0/24 via 10.98.0.2
	for b in b1 b2 b3; do
		on $b ip addr add $VIP/32 dev lo # dsr: the backend owns the VIP
		on $b sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
		server $b
	done
	# XDP_TX out of a veth needs XDP on its peer
	bg br "$LAB_DP" pass v-lb >/dev/null
}
server() { bg "$1" "$LAB_TCP" 80 "$1" http; eval "SRV_$1=\${PIDS[-1]}"; }

cat >"$TMP/xlb.yaml" <<YAML
interface: eth0
hash_seed: $(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
vips:
  - address: $VIP
    port: 80
    protocol: tcp
    mode: dsr
    on_empty: reject
    slow_start: 6s
    check: {type: http, path: /, interval: 1s, timeout: 500ms, rise: 2, fall: 2}
    backends:
      - {address: 10.98.0.11, weight: 10}
      - {address: 10.98.0.12, weight: 10}
      - {address: 10.98.0.13, weight: 10}
YAML

# N requests from the client; one "bN" or "failed" a line.
requests() {
	on cl bash -c 'for i in $(seq '"$1"'); do
		curl -s --max-time 2 http://'"$VIP"'/ || echo failed; done' 2>/dev/null
}
tally() { sort "$1" | uniq -c | awk '{printf "%s %s  ", $2, $1}'; echo; }
count() { grep -c "^$1$" "$2"; }
wait_for() { # wait_for SECONDS COMMAND...: until it succeeds
	local end=$((SECONDS + $1)); shift
	until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.2; done
}
# Health $2 for backend $1, and the table follows (down: DOWN, up: active).
health_is() {
	local st=active
	[ "$2" = down ] && st=down
	ctl backend list $V | awk -v a="$1" -v h="$2" -v s=$st '$2 == a && $5 == h && $6 == s' | grep -q .
}
all_down() { [ "$(ctl backend list $V | awk '$5 == "down" && $6 == "down"' | wc -l)" = 3 ]; }

echo "${B}xlb demo${N}: an XDP load balancer on a lab of network namespaces"
note "client 10.98.0.1 -> VIP $VIP:80 on the load balancer 10.98.0.2 -> backends b1 b2 b3 (.11 .12 .13)"
lab || { echo "couldn't build the lab"; exit 1; }
"$XLBD" --detach --pin-dir "$PIN" 2>/dev/null
nsenter --net=/run/netns/$P-lb "$XLBD" -c "$TMP/xlb.yaml" --pin-dir "$PIN" \
	--state-dir "$TMP/state" --socket "$TMP/xlbd.sock" >"$TMP/xlbd.log" 2>&1 &
PIDS+=($!)
wait_for 20 bash -c "[ \$($XLBCTL -s $TMP/xlbd.sock backend list $V 2>/dev/null | grep -c ' up ') = 3 ]" ||
	{ echo "xlbd did not start:"; cat "$TMP/xlbd.log"; exit 1; }
note "xlbd runs (XDP on the load balancer's eth0), all three backends passed their http checks"

say "1. traffic spreads over the three backends"
requests 60 >"$TMP/r1"
note "60 requests: $(tally "$TMP/r1")"
status
[ "$(count failed "$TMP/r1")" = 0 ] && [ "$(count b1 "$TMP/r1")" -gt 5 ] &&
	[ "$(count b2 "$TMP/r1")" -gt 5 ] && [ "$(count b3 "$TMP/r1")" -gt 5 ]
check $? "every request answered, each backend took a share"
pause 3

say "2. b2's server dies: the check notices, the table changes, clients keep succeeding"
kill "$SRV_b2"
note "killed b2's HTTP server; waiting for fall=2 failed checks (about 2 s)..."
wait_for 10 health_is 10.98.0.12 down
check $? "b2 is down"
ctl events | grep 10.98.0.12 | tail -2 | sed 's/^/   /'
requests 30 >"$TMP/r2"
note "30 requests: $(tally "$TMP/r2")"
[ "$(count failed "$TMP/r2")" = 0 ] && [ "$(count b2 "$TMP/r2")" = 0 ]
check $? "every request answered, none sent to b2"
pause 3

say "3. b2 comes back and is ramped in (slow start: 10% -> 100% over 6 s)"
server b2
wait_for 10 health_is 10.98.0.12 up
check $? "b2 is up after rise=2 good checks"
sleep 1
status
note "(effective_weight: b2 starts low and grows)"
sleep 6
requests 60 >"$TMP/r3"
note "60 requests after the ramp: $(tally "$TMP/r3")"
[ "$(count failed "$TMP/r3")" = 0 ] && [ "$(count b2 "$TMP/r3")" -gt 5 ]
check $? "b2 takes its share again"
pause 3

say "4. rolling upgrade: drain a backend while a long download runs on it"
on cl curl -sN --max-time 20 http://$VIP/slow >"$TMP/download" &
DL=$!
wait_for 5 grep -q chunk "$TMP/download"
busy=$(grep -m1 -o '^b[123]' "$TMP/download")
case $busy in b1) ba=10.98.0.11 ;; b2) ba=10.98.0.12 ;; *) ba=10.98.0.13 ;; esac
note "a download (40 lines over 8 s) runs on $busy; draining $busy ($ba)"
ctl backend drain $V $ba
requests 30 >"$TMP/r4"
# flow counts come from a background pass (at most about 2 s old): wait
# for one that saw the download
for _ in $(seq 30); do
	flows=$(ctl backend list $V | awk -v a=$ba '$2 == a {print $7}')
	[ "${flows:-0}" -ge 1 ] && break
	sleep 0.1
done
ctl backend list $V | sed 's/^/   /'
note "30 new requests meanwhile: $(tally "$TMP/r4")"
[ "$(count failed "$TMP/r4")" = 0 ] && [ "$(count "$busy" "$TMP/r4")" = 0 ] && [ "${flows:-0}" -ge 1 ]
check $? "new requests avoid $busy, its flow count shows the download ($flows)"
wait $DL
note "the download ended: $(wc -l <"$TMP/download") of 40 lines, last: '$(tail -1 "$TMP/download")'"
[ "$(grep -c "^$busy chunk" "$TMP/download")" = 40 ]
check $? "the download on the drained backend finished"
sleep 0.5
note "flows left on $busy: $(ctl backend list $V | awk -v a=$ba '$2 == a {print $7}') - safe to upgrade it"
ctl backend enable $V $ba
pause 3

say "5. a canary: b3 at weight 1 against 9 and 9"
ctl backend set $V 10.98.0.11 weight 9 && ctl backend set $V 10.98.0.12 weight 9 &&
	ctl backend set $V 10.98.0.13 weight 1
requests 200 >"$TMP/r5"
note "200 requests: $(tally "$TMP/r5")"
c=$(count b3 "$TMP/r5")
[ "$(count failed "$TMP/r5")" = 0 ] && [ "$c" -ge 2 ] && [ "$c" -le 30 ]
check $? "the canary took about 1/19 of them ($c of 200, ~5%)"
pause 3

say "6. every backend down: clients are refused at once, not left hanging"
kill "$SRV_b1" "$SRV_b2" "$SRV_b3"
wait_for 10 all_down
check $? "all three are down"
t0=$(date +%s%N)
out=$(on cl curl -sS --max-time 5 http://$VIP/ 2>&1)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
note "curl: '$out' after $ms ms"
rst=$(on lb true; "$XLBCTL" -s "$TMP/xlbd.sock" stats | awk '$1 == "reject_tcp_rst" {print $2}')
note "TCP RSTs sent by the XDP program so far: ${rst:-0}"
[ "$rc" = 7 ] && [ "$ms" -lt 1000 ] && [ "${rst:-0}" -ge 1 ]
check $? "refused at once by a TCP RST from the XDP program (curl: could not connect, ${ms} ms)"
grep "no usable backend" "$TMP/xlbd.log" | tail -1 | sed 's/^/   log: /'
pause 3

say "7. what Prometheus scrapes (127.0.0.1:9641/metrics on the load balancer)"
on lb curl -s http://127.0.0.1:9641/metrics >"$TMP/metrics"
grep -E '^xlb_(vip_usable_backends|backend_up|no_healthy_backend_packets_total|backend_packets_total)' \
	"$TMP/metrics" | sed 's/^/   /'
grep -q "^xlb_vip_usable_backends{vip=\"$V\"} 0$" "$TMP/metrics" &&
	grep -Eq "^xlb_no_healthy_backend_packets_total\\{vip=\"$V\"\\} [1-9]" "$TMP/metrics"
check $? "metrics show the empty VIP and the refused packets"

echo
if [ $FAILED = 0 ]; then echo "${B}demo: every step showed what it should${N}"; else echo "${B}demo: some steps FAILED${N}"; fi
exit $FAILED
