#!/bin/bash
# End-to-end test of a fleet (issue #13): three xlb hosts behind a router's
# ECMP, VIPs announced by BGP, BFD on every session, backends shared by all
# three in dsr mode, and the same backends behind a stateless ipip VIP
# (issue #14). Real xlbd, real BIRD and FRR, the shipped configs of
# tools/fleet/ as they are (per-host values in small generated files).
#
#   client cl (10.97.0.2) -- rt: the router, FRR zebra+bgpd+bfdd, ECMP
#                               | lan 10.98.0.0/24, fd98::/64 (a bridge, ns sw)
#        +---------+--------+---+----+-------- ... --------+
#       lb1       lb2      lb3       b1 (10.98.0.11)  ...  b11 (10.98.0.21)
#      xlbd      xlbd     xlbd       VIPs on lo, xlb-lab-tcp servers,
#      BIRD      BIRD     FRR        default route via the router (DSR),
#                                    xlb-decap on eth0 (the ipip VIP)
#
# The router reaches the LBs and the LBs the backends over one L2 segment,
# so an LB's link going down (on the LB's side) leaves the router's own
# link up: only BFD can tell it. Each case is a function; a cleanup trap
# always runs. Exit 77 = skipped (not root, no netns, no BIRD or FRR).
#
# Each xlbd announces its VIPs as routes in its announce table (BIRD and
# FRR export them), and each LB runs xlb-guard, which withdraws them when
# its xlbd stays silent longer than the hold.
set -u

BUILD=${1:-build}
LAB_DP=$(realpath "$BUILD/tests/xlb-lab-dp")
LAB_TCP=$(realpath "$BUILD/tests/xlb-lab-tcp")
LAB_LOAD=$(realpath "$BUILD/tests/xlb-lab-load")
XLBD=$(realpath "$BUILD/xlbd")
XLBCTL=$(realpath "$BUILD/xlbctl")
XLB_GUARD=$(realpath "$BUILD/xlb-guard")
XLB_DECAP=$(realpath "$BUILD/xlb-decap")
FLEET=$(realpath "$(dirname "$0")/../../tools/fleet")
FRR=/usr/lib/frr
P=${XLB_E2E_NS:-xf}  # namespace, pin and FRR path-space prefix
XPIN=/sys/fs/bpf/$P-xlbd # xlbd of lbN pins under $XPIN-lbN
DPIN=/sys/fs/bpf/$P-decap # backend bN's xlb-decap pins under $DPIN-bN
# Which LB runs FRR instead of BIRD ("" = none): both are proven.
FRR_LB=${XLB_FLEET_FRR_LB-lb3}
LBS="lb1 lb2 lb3"
BACKENDS="b1 b2 b3 b4 b5 b6 b7 b8 b9 b10"
EXTRA=b11 # the backend case c adds
HOSTS="rt cl $LBS $BACKENDS $EXTRA"
TABLE=9641     # xlb.yaml announce.table, bird-lb.conf's kernel table
FRR_TABLE=200  # on FRR LBs: ip import-table takes 1-252 (frr-lb.conf)
RTPROTO=250    # xlb.yaml announce.protocol
HOLD=10        # xlb.yaml announce.hold (the default): xlb-guard's patience
VIP=10.96.0.1  # port 81, the ten (eleven) backends
VIPB=10.96.0.2 # port 81, backends b1 b2, checked on port 82 (case d)
VIP6=fd96::1   # port 81, b1..b3 over IPv6
VIPS=10.96.0.3 # port 81, ipip, flow_state stateless: the ten (eleven) again
UP_ALL=25      # backends up and active over the four VIPs: 10 + 2 + 3 + 10
ENCAP_ALLOW=172.16.0.0/16 # xlbd's ipip outer sources (README "ipip encapsulation")
TMP=$(mktemp -d /tmp/xlb-fleet.XXXXXX)
PASS=0
FAIL=0
PIDS=()

. "$(dirname "$0")/lib.sh" # log, result, on, bg, bg_net, lab_can_run

frr_dir() { echo "/var/run/frr/$P-$1"; }

cleanup() {
	exec 2>/dev/null
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for h in $HOSTS sw; do
		ip netns pids "$P-$h" 2>/dev/null | xargs -r kill -9 2>/dev/null
	done
	wait 2>/dev/null
	for h in $HOSTS sw; do ip netns del "$P-$h" 2>/dev/null; done
	for lb in $LBS; do
		"$XLBD" --detach --pin-dir "$XPIN-$lb" 2>/dev/null
		cp "$TMP/$lb/xlbd.log" "$BUILD/fleet-xlbd-$lb.log" 2>/dev/null
	done
	for h in $BACKENDS $EXTRA; do
		"$XLB_DECAP" detach eth0 --pin-dir "$DPIN-$h" >/dev/null 2>&1
		rmdir "$DPIN-$h" 2>/dev/null
	done
	cp "$(frr_dir rt)/frr.log" "$BUILD/fleet-router.log" 2>/dev/null
	rm -rf "$(frr_dir rt)" "$(frr_dir "$FRR_LB")" 2>/dev/null
	rm -rf "$TMP"
}

lab_can_run test-fleet
if ! [ -x /usr/sbin/bird ] || ! [ -x "$FRR/bgpd" ] || ! [ -x "$FRR/bfdd" ]; then
	echo "test-fleet: needs BIRD 2 (bird2) and FRR (frr); skipped"
	exit 77
fi
trap cleanup EXIT
[ -n "${XLB_E2E_KEEP:-}" ] && trap - EXIT # leave the lab up (then: XLB_E2E_KEEP= ... to clean)

# ---- addresses -------------------------------------------------------------

lan4() { # host -> its address on the lan
	case $1 in rt) echo 10.98.0.1 ;; lb*) echo "10.98.0.$((1 + ${1#lb}))" ;;
	b*) echo "10.98.0.$((10 + ${1#b}))" ;; esac
}
lan6() {
	case $1 in rt) echo fd98::1 ;; lb*) echo "fd98::$((1 + ${1#lb}))" ;;
	b*) echo "fd98::$((10 + ${1#b}))" ;; esac
}

lab_up() {
	local h
	ip netns add "$P-sw" || return 1
	on sw ip link add br0 type bridge
	on sw ip link set br0 up
	for h in $HOSTS; do
		ip netns add "$P-$h" || return 1
		on "$h" ip link set lo up
	done
	# the client hangs off the router directly
	ip link add eth0 netns "$P-cl" type veth peer name cl netns "$P-rt"
	on cl ip addr add 10.97.0.2/24 dev eth0
	on cl ip addr add fd97::2/64 dev eth0 nodad
	on rt ip addr add 10.97.0.1/24 dev cl
	on rt ip addr add fd97::1/64 dev cl nodad
	on cl ip link set eth0 up
	on rt ip link set cl up
	on cl ip route add default via 10.97.0.1
	on cl ip -6 route add default via fd97::1
	# everyone else on the lan
	for h in rt $LBS $BACKENDS $EXTRA; do
		local dev=eth0
		[ "$h" = rt ] && dev=lan
		ip link add "$dev" netns "$P-$h" type veth peer name "v-$h" netns "$P-sw"
		on sw ip link set "v-$h" master br0 up
		on "$h" sysctl -qw net.ipv6.conf.all.keep_addr_on_down=1
		on "$h" ip addr add "$(lan4 "$h")/24" dev $dev
		on "$h" ip addr add "$(lan6 "$h")/64" dev $dev nodad
		on "$h" ip link set $dev up
		# frames that went through XDP lost their checksum offload state
		on "$h" ethtool -K $dev tx off >/dev/null 2>&1
	done
	on cl ethtool -K eth0 tx off >/dev/null 2>&1
	on rt ethtool -K cl tx off >/dev/null 2>&1
	# the router: forwarding, ECMP hashed on the 5-tuple
	on rt sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.fib_multipath_hash_policy=1 net.ipv6.fib_multipath_hash_policy=1 \
		net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.lan.send_redirects=0
	for h in $BACKENDS $EXTRA; do
		on "$h" ip addr add $VIP/32 dev lo
		on "$h" ip addr add $VIPB/32 dev lo
		on "$h" ip addr add $VIP6/128 dev lo
		on "$h" ip addr add $VIPS/32 dev lo
		on "$h" ip route add default via 10.98.0.1
		on "$h" ip -6 route add default via fd98::1
		# forwarding on eth0: xlb-decap's route lookup for a packet it
		# hands on (the kernel refuses it otherwise; README)
		on "$h" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0 \
			net.ipv4.conf.eth0.forwarding=1
	done
}

# xlb-decap on every backend's eth0, accepting the LBs' outer sources (pins
# outlive the command: nsenter, not ip netns exec, whose private /sys would
# take them along); it hands packets on with XDP_TX, and XDP_TX'd frames on
# a veth are dropped unless its peer runs XDP: a pass program on v-bN. All
# at once (an attach takes 0.4 s).
decap_up() {
	local h pid attach=()
	for h in $BACKENDS $EXTRA; do
		nsenter --net="/run/netns/$P-$h" "$XLB_DECAP" attach eth0 --allow $ENCAP_ALLOW \
			--pin-dir "$DPIN-$h" >"$TMP/decap-$h.out" 2>&1 &
		attach+=($!)
		bg sw "$LAB_DP" pass "v-$h" >"$TMP/pass-$h.out" 2>&1
	done
	for pid in "${attach[@]}"; do wait "$pid"; done
	for h in $BACKENDS $EXTRA; do
		grep -q '^xlb-decap: attached' "$TMP/decap-$h.out" ||
			{ echo "    xlb-decap attach on $h failed:"; sed 's/^/    /' "$TMP/decap-$h.out"; return 1; }
		for _ in $(seq 50); do
			grep -q ready "$TMP/pass-$h.out" && break
			sleep 0.1
		done
		grep -q ready "$TMP/pass-$h.out" || { echo "    pass on v-$h did not start:"; sed 's/^/    /' "$TMP/pass-$h.out"; return 1; }
	done
}

# The sum of xlb-decap counter $1 over every backend.
decap_sum() {
	local h s=0 v
	for h in $BACKENDS $EXTRA; do
		v=$(nsenter --net="/run/netns/$P-$h" "$XLB_DECAP" status eth0 --pin-dir "$DPIN-$h" |
			awk -v c="$1" '$1 == c {print $2}')
		s=$((s + ${v:-0}))
	done
	echo $s
}

# Run a helper in a namespace and wait for its "ready".
start_ready() {
	local ns=$1 out=$2; shift 2
	bg "$ns" "$@" >"$out" 2>&1
	for _ in $(seq 50); do
		grep -q ready "$out" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "    helper in $ns did not start:"; sed 's/^/    /' "$out"
	return 1
}

# Wait until host $1 listens on TCP port $2.
listening() {
	for _ in $(seq 50); do
		on "$1" ss -Hltn "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	echo "    nothing listens on $1:$2"
	return 1
}

servers_up() {
	local b
	for b in $BACKENDS $EXTRA; do bg "$b" "$LAB_TCP" 81 "$b" count; done
	# VIP B's health-check target on b1 and b2 (case d kills it)
	bg b1 "$LAB_TCP" 82 b1 greet
	CHK_b1=${PIDS[-1]}
	bg b2 "$LAB_TCP" 82 b2 greet
	CHK_b2=${PIDS[-1]}
	for b in $BACKENDS $EXTRA; do listening "$b" 81 || return 1; done
	listening b1 82 && listening b2 82
}

# ---- the announcement ----------------------------------------------------------

announce_table() { if [ "$1" = "$FRR_LB" ]; then echo $FRR_TABLE; else echo $TABLE; fi; }

ctl() { local lb=$1; shift; "$XLBCTL" -s "$TMP/$lb/xlbd.sock" "$@"; }

# A VIP of LB has a usable backend (up and in the table).
usable() { ctl "$1" backend list "$2" 2>/dev/null | grep -qE ' up +active '; }

maintenance() { ctl "$1" maintenance "$2" >/dev/null; } # LB on|off

# ---- the agents --------------------------------------------------------------

SEED=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n') # one secret for the fleet

# The same file for every LB (same VIPs, backends, seed: same Maglev
# tables); the announce block differs on an FRR host (its table).
vip_yaml() { # ADDRESS CHECK dsr|stateless BACKEND...
	local a=$1 check=$2 mode=$3 b
	shift 3
	echo "  - address: $a"
	echo "    port: 81"
	echo "    protocol: tcp"
	case $mode in
	dsr) echo "    mode: dsr" ;;
	stateless) echo "    mode: ipip"; echo "    flow_state: stateless" ;;
	esac
	echo "    check: $check"
	echo "    backends:"
	for b in "$@"; do echo "      - address: $b"; done
}

xlbd_conf() { # LB
	echo "interface: eth0"
	echo "hash_seed: $SEED"
	echo "announce: {table: $(announce_table "$1"), protocol: $RTPROTO, hold: ${HOLD}s}"
	echo "vips:"
	local b addrs=()
	for b in $BACKENDS; do addrs+=("$(lan4 "$b")"); done
	vip_yaml $VIP "{interval: 1s, timeout: 500ms, rise: 1, fall: 2}" dsr "${addrs[@]}"
	vip_yaml $VIPB "{interval: 500ms, timeout: 300ms, rise: 1, fall: 2, port: 82}" dsr "$(lan4 b1)" "$(lan4 b2)"
	vip_yaml $VIP6 "{interval: 1s, timeout: 500ms, rise: 1, fall: 2}" dsr "$(lan6 b1)" "$(lan6 b2)" "$(lan6 b3)"
	# the same hosts behind a stateless VIP: backend records of its own
	vip_yaml $VIPS "{interval: 1s, timeout: 500ms, rise: 1, fall: 2}" stateless "${addrs[@]}"
}

xlbd_start() { # LB
	local lb=$1
	mkdir -p "$TMP/$lb"
	xlbd_conf "$lb" >"$TMP/$lb/xlbd.yaml"
	bg_net "$lb" "$XLBD" -c "$TMP/$lb/xlbd.yaml" --pin-dir "$XPIN-$lb" \
		--state-dir "$TMP/$lb/state" --socket "$TMP/$lb/xlbd.sock" >>"$TMP/$lb/xlbd.log" 2>&1
	eval "XLBD_PID_$lb=${PIDS[-1]}"
	# (metrics: the default 127.0.0.1:9641 of the LB's own namespace)
}

# Every LB forwarding, every backend of every VIP up (30 s at most).
xlbd_ready() {
	local lb
	for lb in $LBS; do
		for _ in $(seq 300); do
			[ -S "$TMP/$lb/xlbd.sock" ] && ctl "$lb" backend list >"$TMP/$lb/health" 2>&1 &&
				[ "$(grep -cE ' up +active ' "$TMP/$lb/health")" -ge $UP_ALL ] && break
			sleep 0.1
		done
		[ "$(grep -cE ' up +active ' "$TMP/$lb/health")" -ge $UP_ALL ] || {
			echo "    xlbd on $lb: not every backend up:"
			sed 's/^/    /' "$TMP/$lb/health" "$TMP/$lb/xlbd.log" | tail -30
			return 1
		}
	done
}

# ---- BGP daemons -------------------------------------------------------------

# FRR's zebra, bfdd, bgpd in namespace $1 (path space $P-$1: own sockets,
# pid files), then the configuration $2 through vtysh.
frr_up() {
	local h=$1 conf=$2 d dir
	dir=$(frr_dir "$h")
	rm -rf "$dir"
	mkdir -p "$dir" && chown frr:frr "$dir" || return 1
	for d in zebra bfdd bgpd; do
		bg "$h" "$FRR/$d" -N "$P-$h" -f /dev/null -i "$dir/$d.pid" >"$TMP/frr-$h-$d.log" 2>&1
		for _ in $(seq 100); do
			[ -S "$dir/$d.vty" ] && break
			sleep 0.05
		done
		[ -S "$dir/$d.vty" ] || { echo "    $d in $h did not start:"; sed 's/^/    /' "$TMP/frr-$h-$d.log"; return 1; }
	done
	vtysh_ "$h" -f "$conf" >"$TMP/vtysh-$h.out" 2>&1 ||
		{ echo "    vtysh -f $conf in $h:"; sed 's/^/    /' "$TMP/vtysh-$h.out"; return 1; }
}

# vtysh of the FRR in namespace $1 (its missing vtysh.conf is fine).
vtysh_() { local h=$1; shift; vtysh -N "$P-$h" "$@" 2> >(grep -v 'vtysh.conf' >&2); }

# BIRD on LB $1 with tools/fleet/bird-lb.conf as it is, its per-host part
# in xlb-host.conf next to it, its own control socket.
bird_up() {
	local lb=$1 d=$TMP/$1
	mkdir -p "$d"
	cp "$FLEET/bird-lb.conf" "$d/bird-lb.conf"
	cat >"$d/xlb-host.conf" <<BIRD
router id $(lan4 "$lb");
protocol bgp uplink1 from xlb_uplink4 {
	local $(lan4 "$lb") as 65001;
	neighbor $(lan4 rt) as 65000;
}
protocol bgp uplink1v6 from xlb_uplink6 {
	local $(lan6 "$lb") as 65001;
	neighbor $(lan6 rt) as 65000;
}
BIRD
	rm -f "$d/bird.ctl"
	bg "$lb" bird -f -c "$d/bird-lb.conf" -s "$d/bird.ctl" -P "$d/bird.pid" >>"$d/bird.log" 2>&1
	eval "BIRD_PID_$lb=${PIDS[-1]}"
	for _ in $(seq 50); do [ -S "$d/bird.ctl" ] && return 0; sleep 0.1; done
	echo "    BIRD on $lb did not start:"; sed 's/^/    /' "$d/bird.log"
	return 1
}

# FRR on LB $1: tools/fleet/frr-lb.conf as it is plus its per-host lines.
frr_lb_up() {
	local lb=$1 d=$TMP/$1
	mkdir -p "$d"
	{
		cat "$FLEET/frr-lb.conf"
		echo "router bgp 65001"
		echo " bgp router-id $(lan4 "$lb")"
		echo " neighbor $(lan4 rt) peer-group UPLINK"
		echo "exit"
	} >"$d/frr.conf"
	frr_up "$lb" "$d/frr.conf"
}

bgp_up() {
	local lb
	frr_up rt "$FLEET/frr-router.conf" || return 1
	# the lab's own addition: a log of the router's session changes
	vtysh_ rt -c 'conf t' -c "log file $(frr_dir rt)/frr.log informational" >/dev/null
	for lb in $LBS; do
		if [ "$lb" = "$FRR_LB" ]; then frr_lb_up "$lb" || return 1; else bird_up "$lb" || return 1; fi
	done
	# XDP_TX'd frames on a veth are dropped unless its peer runs XDP
	for lb in $LBS; do start_ready sw "$TMP/pass-$lb.out" "$LAB_DP" pass "v-$lb" || return 1; done
}

# ---- measuring ---------------------------------------------------------------

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# The router's next hops for ADDRESS (0 when it has no route).
nexthops() {
	local fam=-4 out
	case $1 in *:*) fam=-6 ;; esac
	out=$(on rt ip $fam route show "$1" 2>/dev/null)
	[ -z "$out" ] && { echo 0; return; }
	if grep -q nexthop <<<"$out"; then grep -c nexthop <<<"$out"; else echo 1; fi
}

# Wait until the router has N next hops for ADDRESS, at most $3 ms, polling
# every 10 ms; prints the ms it took (or "timeout").
wait_nexthops() {
	local addr=$1 n=$2 max=$3 t0 t
	t0=$(now_ms)
	while :; do
		[ "$(nexthops "$addr")" = "$n" ] && { echo $(($(now_ms) - t0)); return 0; }
		t=$(now_ms)
		[ $((t - t0)) -ge "$max" ] && { echo timeout; return 1; }
		sleep 0.01
	done
}

# Wait until the router has no next hop via LB $2 for IPv4 ADDRESS $1 (a
# BFD flap of another LB on a loaded machine is not this LB's withdrawal),
# at most $3 ms; prints the ms it took (or "timeout").
wait_nexthop_gone() {
	local addr=$1 via="via $(lan4 "$2") " max=$3 t0
	t0=$(now_ms)
	while on rt ip route show "$addr" | grep -q "$via"; do
		[ $(($(now_ms) - t0)) -ge "$max" ] && { echo timeout; return 1; }
		sleep 0.01
	done
	echo $(($(now_ms) - t0))
}

# $1 seconds of load: $2 streams, $3 new connections a second to VIP:81
# (or to $4:81); the report in $TMP/load.out. A connection attempt may take
# 3 s: one lost SYN (retransmitted after 1 s) is not a failure.
load_start() {
	ip netns exec "$P-cl" "$LAB_LOAD" -d "$1" -s "$2" -r "$3" -t 3000 "${4:-$VIP}" 81 >"$TMP/load.out" 2>&1 &
	LOAD_PID=$!
}

# After the load: BROKEN (streams not ok), CONNS, CONN_FAILS, and
# LATE_FAILS (connections that failed though started after $1 ms wall).
load_figures() {
	local after=${1:-0}
	wait "$LOAD_PID"
	STREAMS=$(grep -c '^stream ' "$TMP/load.out")
	BROKEN=$(grep '^stream ' "$TMP/load.out" | grep -vc ' ok$')
	CONNS=$(awk '/^summary/ {print $3}' "$TMP/load.out")
	CONN_FAILS=$(grep -c '^fail [0-9]* conn' "$TMP/load.out")
	# a timed-out attempt started timeout (3 s) before its failure line
	LATE_FAILS=$(awk -v a="$after" '$1 == "fail" && $3 == "conn" {
		s = $2 - ($4 == "timeout" ? 3000 : 0); if (s > a) n++ } END {print n + 0}' "$TMP/load.out")
	grep -q '^summary' "$TMP/load.out" || { echo "    load: no summary:"; tail -5 "$TMP/load.out" | sed 's/^/    /'; return 1; }
	# what broke, for the post-mortem (at most 5 lines)
	grep -E '^(fail|stream) ' "$TMP/load.out" | grep -v ' ok$' | head -5 | sed 's/^/        load: /'
	return 0
}

wall_ms() { date +%s%3N; }

# Packets of VIP:81 each LB forwarded so far (xlbctl stats): which LBs
# carry the traffic, a space-separated list in the order of $LBS.
lb_packets() {
	local lb
	for lb in $LBS; do
		ctl "$lb" -j stats 2>/dev/null | jq -r --arg v "$VIP:81/tcp" \
			'[.. | objects | select(.vip? == $v and has("new_flows")) | .packets] | first // 0'
	done | tr '\n' ' '
}

# The router's choice of next hop for 1000 client ports to VIP:81 (or
# $1:81; what the kernel's ECMP hash does with them now), one a line.
ecmp_map() {
	local port
	for port in $(seq 20000 20999); do
		echo "route get ${1:-$VIP} from 10.97.0.2 iif cl ipproto tcp sport $port dport 81"
	done | on rt ip -batch - 2>/dev/null | grep -o 'via [0-9.]*'
}

# Bring LB $1's link back and wait for the router to use it again.
lb_back() {
	local t
	on "$1" ip link set eth0 up
	t=$(wait_nexthops $VIP 3 40000) || { echo "    $1 not back in ECMP after 40 s"; return 1; }
	log "      $1 back in the router's ECMP ${t} ms after its link came up"
}

# ---- the cases ---------------------------------------------------------------

# a. Every VIP reaches the router from all three LBs: three next hops,
# the three LBs' addresses; and traffic to the VIP is spread over them.
t_router_learns_each_vip_from_three_lbs() {
	local ok=0 v t lb before after n lbs
	for v in $VIP $VIPB $VIP6 $VIPS; do
		# FRR 8 announces no IPv6 (frr-lb.conf): v6 from the BIRD LBs only
		lbs=$LBS
		case $v in *:*) lbs=$(for lb in $LBS; do [ "$lb" = "$FRR_LB" ] || echo "$lb"; done) ;; esac
		n=$(echo $lbs | wc -w)
		t=$(wait_nexthops $v "$n" 30000) ||
			{ echo "    $v: $(nexthops $v) next hops after 30 s, want $n:"; on rt ip route show $v | sed 's/^/    /'; ok=1; continue; }
		log "      $v: $n next hops (${t} ms after the check began)"
		# (IPv6 next hops are the LBs' link-local addresses)
		case $v in *:*) continue ;; esac
		for lb in $lbs; do
			on rt ip route show $v | grep -q "via $(lan4 "$lb") " ||
				{ echo "    $v: no next hop via $lb ($(lan4 "$lb"))"; ok=1; }
		done
	done
	on rt ip route show $VIP | sed 's/^/        /'
	read -ra before <<<"$(lb_packets)"
	load_start 2 0 100
	load_figures || ok=1
	read -ra after <<<"$(lb_packets)"
	log "      200 connections: $CONN_FAILS failed; VIP packets per LB: $((after[0] - before[0])) $((after[1] - before[1])) $((after[2] - before[2]))"
	[ "$CONN_FAILS" = 0 ] || { echo "    $CONN_FAILS of $CONNS connections failed"; ok=1; }
	for i in 0 1 2; do
		[ $((after[i] - before[i])) -gt 0 ] || { echo "    lb$((i + 1)) forwarded nothing"; ok=1; }
	done
	return $ok
}

# Lose LB $1 (its link down on the LB's side) under $2 s of load: sets DET
# (ms from link down until the router has 2 next hops) and the load figures.
lose_lb_under_load() {
	local lb=$1 secs=$2 t0
	load_start "$secs" 100 50
	sleep 4
	t0=$(wall_ms)
	on "$lb" ip link set eth0 down
	DET=$(wait_nexthops $VIP 2 5000)
	load_figures "$((t0 + ${DET/timeout/5000}))"
}

# b. One LB host lost while 100 long-lived streams and 50 new connections
# a second run: the router notices through BFD only, the moved flows land
# on another LB, which picks the same backend; >= 99% of streams intact,
# new connections succeed once the router has noticed.
t_lb_lost_streams_survive() {
	local ok=0
	lose_lb_under_load lb1 12 || ok=1
	log "      lb1 lost: router down to 2 next hops after $DET ms (BFD 100 ms x 3; target 1 s)"
	log "      streams broken $BROKEN of $STREAMS; connections failed $CONN_FAILS of $CONNS ($LATE_FAILS started after the router noticed)"
	[ "$DET" != timeout ] && [ "$DET" -le 1500 ] || { echo "    detection took $DET ms, want <= 1500"; ok=1; }
	[ "$STREAMS" = 100 ] && [ "$BROKEN" -le 1 ] || { echo "    $BROKEN of $STREAMS streams broken, want <= 1%"; ok=1; }
	[ "$LATE_FAILS" = 0 ] || { echo "    $LATE_FAILS new connections failed after detection"; grep '^fail' "$TMP/load.out" | head -5 | sed 's/^/    /'; ok=1; }
	[ "$BROKEN" = 0 ] || grep '^stream ' "$TMP/load.out" | grep -v ' ok$' | head -5 | sed 's/^/    /'
	lb_back lb1 || ok=1
	return $ok
}

# Backend b11 added to the ten of VIP $1 (on all three LBs) under $2 s of
# load (100 streams, 50 new connections a second), then lb3 lost: sets
# DET, MOVED (% of flows the router moved to another LB), the load
# figures, and logs them (cases c and c2, side by side).
backend_added_then_lb_lost() {
	local vip=$1 secs=$2 ok=0 lb t0
	load_start "$secs" 100 50 "$vip"
	sleep 3
	for lb in $LBS; do ctl "$lb" backend add "$vip:81/tcp" "$(lan4 $EXTRA)" >/dev/null || ok=1; done
	for lb in $LBS; do
		for _ in $(seq 50); do
			[ "$(ctl "$lb" backend list "$vip:81/tcp" | grep -cE ' up +active ')" = 11 ] && break
			sleep 0.1
		done
		[ "$(ctl "$lb" backend list "$vip:81/tcp" | grep -cE ' up +active ')" = 11 ] ||
			{ echo "    $lb: the new backend is not up"; ok=1; }
	done
	ecmp_map "$vip" >"$TMP/ecmp.before"
	t0=$(wall_ms)
	on lb3 ip link set eth0 down
	DET=$(wait_nexthops "$vip" 2 5000)
	ecmp_map "$vip" >"$TMP/ecmp.after"
	# the share of flows the router moved to another LB (lb3's third, and
	# what Linux's hash-threshold ECMP shifts between the other two)
	MOVED=$(paste -d' ' "$TMP/ecmp.before" "$TMP/ecmp.after" | awk '$2 != $4 {m++} END {printf "%d", m / NR * 100 + 0.5}')
	load_figures "$((t0 + ${DET/timeout/5000}))" || ok=1
	log "      $vip: b11 added, then lb3 lost: router noticed after $DET ms; it moved $MOVED% of the flows to another LB"
	log "      $vip: streams broken $BROKEN of $STREAMS (the flow table's loss would be about 1/11 of the moved: $(((MOVED * 100 + 550) / 1100)))"
	log "      $vip: connections failed $CONN_FAILS of $CONNS ($LATE_FAILS started after the router noticed)"
	log "      $vip: backend b11 took $(awk '$1 == "backend" && $2 == "b11" {print $3}' "$TMP/load.out") new connections"
	[ "$DET" != timeout ] || { echo "    the router did not notice"; ok=1; }
	return $ok
}

# c. One backend added to ten (on all three LBs), then an LB host lost:
# the flows that move to another LB are hashed on the new table there, and
# the ~1/11 whose backend changed break. A loose bound; the figure is the
# baseline for case c2.
t_backend_added_then_lb_lost() {
	local ok=0
	backend_added_then_lb_lost $VIP 14 || ok=1
	[ "$STREAMS" = 100 ] && [ "$BROKEN" -lt 25 ] || { echo "    $BROKEN of $STREAMS streams broken, want < 25%"; ok=1; }
	lb_back lb3 || ok=1
	return $ok
}

# The slots of LB $1's table of the stateless VIP that carry a previous hop.
slots_with_prev() {
	ctl "$1" -j vip list | jq -r --arg v "$VIPS:81/tcp" '.vips[] | select(.vip == $v) | .slots_with_prev'
}

# c2. Case c on the stateless VIP (issue #14): the flows that move to
# another LB are hashed on the new table there too, but each moved slot
# carries its previous backend; b11, which owns no socket of a moved
# stream, hands its packets on to that backend: no stream breaks, and new
# connections succeed once the router has noticed.
t_backend_added_then_lb_lost_stateless() {
	local ok=0 ho hops0 t
	t=$(wait_nexthops $VIPS 3 10000) || { echo "    $VIPS: $(nexthops $VIPS) next hops, want 3"; ok=1; }
	ho=$(decap_sum sl_handed_on)
	hops0=$(slots_with_prev lb1)
	backend_added_then_lb_lost $VIPS 12 || ok=1
	ho=$(($(decap_sum sl_handed_on) - ho))
	log "      $VIPS: the backends handed $ho packets on to the previous backend; slots of lb1's table with one: $hops0 before b11, $(slots_with_prev lb1) after"
	# (the ~9 streams on slots b11 took reach their backend through b11 only)
	[ "$ho" -gt 0 ] || { echo "    no backend handed a packet on"; ok=1; }
	[ "$STREAMS" = 100 ] && [ "$BROKEN" = 0 ] || { echo "    $BROKEN of $STREAMS streams broken, want none"; ok=1; }
	[ "$LATE_FAILS" = 0 ] || { echo "    $LATE_FAILS new connections failed after the router noticed"; ok=1; }
	lb_back lb3 || ok=1
	return $ok
}

# d. Every backend of VIP B fails:
# every LB withdraws it and the router drops the route, while VIP A stays;
# one backend back: the route is back with three next hops.
t_vip_without_backends_withdrawn() {
	local ok=0 t t0 lb
	kill "$CHK_b1" "$CHK_b2" 2>/dev/null
	t0=$(now_ms)
	for _ in $(seq 100); do
		[ "$(nexthops $VIPB)" = 0 ] && break
		sleep 0.1
	done
	t=$(($(now_ms) - t0))
	[ "$(nexthops $VIPB)" = 0 ] || { echo "    $VIPB still routed: $(on rt ip route show $VIPB)"; ok=1; }
	log "      $VIPB: no usable backend; the router dropped it after $t ms (checks 2 x 500 ms)"
	[ "$(nexthops $VIP)" = 3 ] || { echo "    $VIP lost next hops too: $(nexthops $VIP)"; ok=1; }
	for lb in $LBS; do
		usable "$lb" "$VIPB:81/tcp" && { echo "    $lb still sees a usable backend of $VIPB"; ok=1; }
	done
	bg b1 "$LAB_TCP" 82 b1 greet
	CHK_b1=${PIDS[-1]}
	t0=$(now_ms)
	for _ in $(seq 100); do
		[ "$(nexthops $VIPB)" = 3 ] && break
		sleep 0.1
	done
	t=$(($(now_ms) - t0))
	[ "$(nexthops $VIPB)" = 3 ] || { echo "    $VIPB: $(nexthops $VIPB) next hops after b1 came back"; ok=1; }
	log "      b1 back: $VIPB announced by 3 LBs again after $t ms"
	return $ok
}

# e. Maintenance
# on lb2 under load: its routes go, the router moves its flows to the
# others (same backends), no stream breaks, lb2 forwards nothing more.
t_maintenance_moves_traffic() {
	local ok=0 t p1 p2
	load_start 10 100 50
	sleep 3
	maintenance lb2 on
	t=$(wait_nexthops $VIP 2 5000) || { echo "    $VIP still has $(nexthops $VIP) next hops"; ok=1; }
	sleep 1
	read -ra p1 <<<"$(lb_packets)"
	sleep 1
	read -ra p2 <<<"$(lb_packets)"
	load_figures || ok=1
	log "      lb2 in maintenance: the router down to 2 next hops after $t ms; lb2 forwarded $((p2[1] - p1[1])) packets in the next second (lb1 $((p2[0] - p1[0])), lb3 $((p2[2] - p1[2])))"
	log "      streams broken $BROKEN of $STREAMS; connections failed $CONN_FAILS of $CONNS"
	[ "$STREAMS" = 100 ] && [ "$BROKEN" = 0 ] || { echo "    $BROKEN of $STREAMS streams broken, want none"; ok=1; }
	[ "$CONN_FAILS" = 0 ] || { echo "    $CONN_FAILS connections failed"; ok=1; }
	[ $((p2[1] - p1[1])) = 0 ] || { echo "    lb2 still forwards"; ok=1; }
	[ $((p2[0] - p1[0])) -gt 0 ] && [ $((p2[2] - p1[2])) -gt 0 ] || { echo "    lb1 or lb3 forwards nothing"; ok=1; }
	maintenance lb2 off
	t=$(wait_nexthops $VIP 3 10000) || { echo "    lb2 not back after maintenance off"; ok=1; }
	log "      maintenance off: 3 next hops again after $t ms"
	return $ok
}

# Poll the router's next hops for VIP every 10 ms in the background until
# nh_watch_stop; then NH_MIN is the fewest seen.
nh_watch_start() {
	rm -f "$TMP/nh.stop"
	(while [ ! -e "$TMP/nh.stop" ]; do nexthops $VIP; sleep 0.01; done) >"$TMP/nh.log" &
	NH_PID=$!
}
nh_watch_stop() {
	touch "$TMP/nh.stop"
	wait "$NH_PID"
	NH_MIN=$(sort -n "$TMP/nh.log" | head -1)
}

# f. xlbd on lb1 SIGKILLed and restarted under load: the pinned data plane
# forwards meanwhile, and the announcement stays (the routes are the
# kernel's; xlbd must adopt them, not withdraw and re-add: with xlbd
# announcing this checks that): the router keeps 3 next hops throughout,
# no stream breaks.
t_xlbd_restart_keeps_announcement() {
	local ok=0 pid
	load_start 10 100 50
	sleep 3
	nh_watch_start
	eval "pid=\$XLBD_PID_lb1"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	xlbd_start lb1
	for _ in $(seq 100); do
		[ "$(ctl lb1 backend list 2>/dev/null | grep -cE ' up +active ')" -ge $UP_ALL ] && break
		sleep 0.1
	done
	sleep 1
	nh_watch_stop
	load_figures || ok=1
	log "      xlbd on lb1 killed and restarted: the router's next hops never fewer than $NH_MIN"
	log "      streams broken $BROKEN of $STREAMS; connections failed $CONN_FAILS of $CONNS"
	[ "$NH_MIN" = 3 ] || { echo "    the router lost lb1 during xlbd's restart"; ok=1; }
	[ "$STREAMS" = 100 ] && [ "$BROKEN" = 0 ] || { echo "    $BROKEN of $STREAMS streams broken, want none"; ok=1; }
	[ "$CONN_FAILS" = 0 ] || { echo "    $CONN_FAILS connections failed"; ok=1; }
	grep -q "adopted the pinned data plane" "$TMP/lb1/xlbd.log" || { echo "    xlbd did not adopt"; ok=1; }
	return $ok
}

# g. BIRD on lb2 crashes (SIGKILL) under load: its TCP session closes, the
# router withdraws lb2 at once, the flows move to lb1 and lb3 (same
# backends), no stream breaks; BIRD restarted, lb2 is back.
t_bgp_daemon_crash_moves_traffic() {
	local ok=0 t t0 pid lb=lb2
	[ "$lb" = "$FRR_LB" ] && lb=lb1
	load_start 10 100 50
	sleep 3
	eval "pid=\$BIRD_PID_$lb"
	t0=$(wall_ms)
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	t=$(wait_nexthops $VIP 2 5000) || { echo "    the router kept $(nexthops $VIP) next hops"; ok=1; }
	load_figures "$((t0 + ${t/timeout/5000}))" || ok=1
	log "      BIRD on $lb killed: the router down to 2 next hops after $t ms"
	log "      streams broken $BROKEN of $STREAMS; connections failed $CONN_FAILS of $CONNS"
	[ "$STREAMS" = 100 ] && [ "$BROKEN" = 0 ] || { echo "    $BROKEN of $STREAMS streams broken, want none"; ok=1; }
	[ "$LATE_FAILS" = 0 ] || { echo "    $LATE_FAILS connections failed after the router noticed"; ok=1; }
	bird_up "$lb" || return 1
	t=$(wait_nexthops $VIP 3 20000) || { echo "    $lb not back after BIRD's restart"; ok=1; }
	log "      BIRD restarted: 3 next hops again after $t ms"
	return $ok
}

# h. xlbd on lb1 SIGKILLed and not restarted, under load: the pinned data
# plane keeps forwarding and the announcement stays for the hold (a
# restart would be in time), then lb1's xlb-guard withdraws the routes:
# the router drops lb1, the flows move to lb1's peers (same backends), no
# stream breaks. xlbd started again: lb1 announces again by itself.
t_dead_agent_withdrawn_after_hold() {
	local ok=0 t t0 pid
	load_start $((HOLD + 8)) 100 50
	sleep 2
	eval "pid=\$XLBD_PID_lb1"
	t0=$(now_ms)
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	t=$(wait_nexthop_gone $VIP lb1 $(((HOLD + 4) * 1000))) || { echo "    the router kept lb1 for $((HOLD + 4)) s"; ok=1; }
	[ "$t" != timeout ] && t=$(($(now_ms) - t0))
	log "      xlbd on lb1 killed for good: the router dropped lb1 after $t ms (hold $HOLD s)"
	[ "$t" = timeout ] || [ "$t" -ge $(((HOLD - 1) * 1000)) ] || { echo "    withdrawn before the hold: $t ms"; ok=1; }
	grep -q "agent silent" "$TMP/lb1/guard.log" || { echo "    xlb-guard said nothing:"; sed 's/^/    /' "$TMP/lb1/guard.log"; ok=1; }
	load_figures || ok=1
	log "      streams broken $BROKEN of $STREAMS; connections failed $CONN_FAILS of $CONNS"
	[ "$STREAMS" = 100 ] && [ "$BROKEN" = 0 ] || { echo "    $BROKEN of $STREAMS streams broken, want none"; ok=1; }
	[ "$CONN_FAILS" = 0 ] || { echo "    $CONN_FAILS connections failed"; ok=1; }
	xlbd_start lb1
	t=$(wait_nexthops $VIP 3 20000) || { echo "    lb1 not back after xlbd's start"; ok=1; }
	log "      xlbd started again: 3 next hops after $t ms"
	return $ok
}

# Diagnostics: the router's BGP sessions that went down, with the reason
# (the cases take lb1 down once and lb3 twice and crash lb2's BIRD; more
# means a session flapped, e.g. BFD on a loaded host).
downs_report() {
	awk '/%NOTIFICATION: (sent to|received from) neighbor/ {
		n = $0; sub(/.* neighbor /, "", n); sub(/ .*/, "", n)
		r = $0; sub(/.*\(/, "", r); sub(/\).*/, "", r); why[n] = r }
	/%ADJCHANGE: neighbor .* Down/ {
		n = $0; sub(/.* neighbor /, "", n); sub(/\(.*/, "", n)
		r = $0; sub(/.* Down /, "", r); if (n in why) r = why[n]
		delete why[n]; printf "%s (%s); ", n, r }' "$(frr_dir rt)/frr.log" 2>/dev/null
}

echo "test-fleet: building the lab ($P-*, FRR on ${FRR_LB:-no LB})"
lab_up || { echo "test-fleet: couldn't build the lab"; exit 1; }
servers_up || { echo "test-fleet: couldn't start the servers"; exit 1; }
decap_up || { echo "test-fleet: couldn't attach xlb-decap"; exit 1; }
bgp_up || { echo "test-fleet: couldn't start BGP"; exit 1; }
for lb in $LBS; do xlbd_start "$lb"; done
xlbd_ready || { echo "test-fleet: couldn't start xlbd"; exit 1; }
for lb in $LBS; do bg_net "$lb" "$XLB_GUARD" --pin-dir "$XPIN-$lb" >>"$TMP/$lb/guard.log" 2>&1; done
t=$(wait_nexthops $VIP 3 30000) || { echo "test-fleet: the router has $(nexthops $VIP) next hops for $VIP after 30 s"; exit 1; }
echo "test-fleet: the router routes $VIP over 3 LBs ($t ms after xlbd was ready)"
[ -n "${XLB_E2E_KEEP:-}" ] && { echo "lab up in $TMP; XLB_E2E_KEEP set"; exit 0; }

for t in ${XLB_FLEET_ONLY:-t_router_learns_each_vip_from_three_lbs t_lb_lost_streams_survive \
	t_backend_added_then_lb_lost t_backend_added_then_lb_lost_stateless t_vip_without_backends_withdrawn t_maintenance_moves_traffic \
	t_xlbd_restart_keeps_announcement t_bgp_daemon_crash_moves_traffic t_dead_agent_withdrawn_after_hold}; do
	run_case "$t"
done
log "the router's BGP sessions that went down: $(downs_report)"
echo "test-fleet: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
