# shellcheck shell=bash
# Outlier detection (issue #16): xlbd ejects a backend whose clients
# retransmit their SYNs, long before a slow active check would notice, and
# takes it back after its ejection time and a passing check. Sourced by
# run.sh; uses cases_blackhole.sh's helpers (bh_link, bh_report).

# Ports of their own (one probe per backend address and port).
OL_ON=10.99.100.5:8018/tcp  # outlier on (short ejection time), another-backend
OL_OFF=10.99.100.5:8019/tcp # outlier off, same-backend: the old way

ol_state() { # VIP ADDRESS: its state in backend list
	ctl -j backend list "$1" | jq -r ".backends[] | select(.address == \"$2\") | .state"
}

# Three backends, a check every 10 s (fall 3: 30 s to notice), 50 new
# connections/s to each VIP for 7 s while b3 is black-holed (its link down).
# With outlier detection b3 is ejected within 2 s of the first
# retransmissions (1 s after the black hole) and connections that hit it
# complete through the second chance; without it (outlier off, syn_retry
# same-backend) the clients sent to b3 fail for the whole run. Then b3
# answers again and comes back after its ejection time and a passing check.
t_outlier_ejects_a_black_hole() {
	local ok=0 p1 p2 n t0 tej b v st
	for b in b1 b2 b3; do
		bg "$b" "$LAB_TCP" 8018 "$b" greet
		bg "$b" "$LAB_TCP" 8019 "$b" greet
	done
	for b in b1 b2 b3; do
		for _ in $(seq 50); do
			[ "$(on "$b" ss -Hltn | grep -cE ':(8018|8019) ')" -ge 2 ] && break
			sleep 0.1
		done
	done
	{ ctl vip add $OL_ON check '{interval: 10s, fast_interval: 1s, timeout: 500ms, rise: 1, fall: 3, jitter: 0%, start: up}' \
		outlier '{base_ejection_time: 2s}' &&
		ctl vip add $OL_OFF check "$BH_CHECK" syn-retry same-backend outlier off; } >"$TMP/out" 2>&1 ||
		{ echo "    vip add: $(cat "$TMP/out")"; ctl vip del $OL_ON >/dev/null 2>&1; return 1; }
	for v in $OL_ON $OL_OFF; do
		for b in 10.99.0.11 10.99.0.12 10.99.0.13; do
			ctl backend add "$v" "$b" >/dev/null || { echo "    backend add $v $b failed"; ok=1; }
		done
	done
	wait_health $OL_ON 3 && wait_health $OL_OFF 3 || ok=1
	t0=$(date +%s%3N)
	bh_link down
	on cl "$LAB_LOAD" 10.99.100.5 8018 -r 50 -d 7 -t 4000 -l >"$TMP/ol-on" 2>&1 &
	p1=$!
	on cl "$LAB_LOAD" 10.99.100.5 8019 -r 50 -d 7 -t 4000 -l >"$TMP/ol-off" 2>&1 &
	p2=$!
	wait $p1 $p2
	ctl -j events >"$TMP/ol-events"
	tej=$(jq -r "[.events[] | select(.kind == \"outlier\" and .vip == \"$OL_ON\" and .backend == \"10.99.0.13\" and .to == \"ejected\")][0].time_ms // empty" "$TMP/ol-events")
	scrape /metrics >"$TMP/bh-scrape"
	echo "    b3 black-holed, 50 new connections/s for 7 s to each VIP, client timeout 4 s:"
	bh_report "outlier on" "$TMP/ol-on"
	bh_report "outlier off" "$TMP/ol-off"
	if [ -n "$tej" ]; then
		echo "    b3 ejected $((tej - t0)) ms after its link went down (first retransmissions ~1000 ms): $(jq -r "[.events[] | select(.kind == \"outlier\" and .to == \"ejected\")][0].reason" "$TMP/ol-events")"
		[ $((tej - t0)) -le 3000 ] || { echo "    ejected too late: want within 2 s of the first retransmissions"; ok=1; }
	else
		echo "    b3 never ejected"; ok=1
	fi
	n=$(grep -c '^fail .* conn ' "$TMP/ol-on")
	[ "$n" = 0 ] || { echo "    outlier on: $n connections failed, want 0"; ok=1; }
	grep -q '^summary conns [1-9]' "$TMP/ol-on" || { echo "    no load report"; ok=1; }
	n=$(awk '$1 == "conn" && $2 > 800' "$TMP/ol-on" | wc -l)
	[ "$n" -le 50 ] || { echo "    outlier on: $n connections took the second chance: b3 stayed in the table"; ok=1; }
	n=$(grep -c '^fail .* conn ' "$TMP/ol-off")
	[ "$n" -ge 40 ] || { echo "    outlier off: $n connections failed, want about 110"; ok=1; }
	[ "$(bh_metric xlb_backend_ejected $OL_OFF 10.99.0.13)" = 0 ] ||
		{ echo "    outlier off: b3 ejected"; ok=1; }
	[ "$(bh_metric xlb_backend_ejections_total $OL_ON 10.99.0.13)" = 1 ] ||
		{ echo "    xlb_backend_ejections_total of b3: $(bh_metric xlb_backend_ejections_total $OL_ON 10.99.0.13)"; ok=1; }
	for b in 10.99.0.11 10.99.0.12; do
		[ "$(bh_metric xlb_backend_ejected $OL_ON $b)" = 0 ] || { echo "    $b ejected too"; ok=1; }
	done
	st=$(ol_state $OL_ON 10.99.0.13)
	case $st in
	ejected) ;;
	down) echo "    b3: ejected, then down by its check (fast_interval while ejected)" ;;
	*) echo "    b3 is $st during the black hole"; ok=1 ;;
	esac
	ctl status | grep -q "10.99.0.13 .*ejected" || [ "$st" = down ] ||
		{ echo "    status does not show b3 ejected"; ok=1; }
	# It answers again: back after base_ejection_time (2 s, long over) and
	# a passing check (fast_interval 1 s while ejected).
	bh_link up
	t0=$(date +%s%3N)
	for _ in $(seq 100); do
		[ "$(ol_state $OL_ON 10.99.0.13)" = active ] && break
		sleep 0.1
	done
	st=$(ol_state $OL_ON 10.99.0.13)
	echo "    b3 answers again: $st after $(($(date +%s%3N) - t0)) ms"
	[ "$st" = active ] || { echo "    b3 not readmitted within 10 s: $st"; ok=1; }
	ctl -j events | jq -e ".events[] | select(.kind == \"outlier\" and .vip == \"$OL_ON\" and .from == \"ejected\" and .to == \"in\")" >/dev/null ||
		{ echo "    no readmission event"; ok=1; }
	on cl "$LAB_LOAD" 10.99.100.5 8018 -r 50 -d 2 -t 2000 -l >"$TMP/ol-after" 2>&1
	n=$(grep -c '^fail .* conn ' "$TMP/ol-after")
	[ "$n" = 0 ] || { echo "    after readmission: $n connections failed"; ok=1; }
	ctl vip del $OL_ON >/dev/null
	ctl vip del $OL_OFF >/dev/null
	return $ok
}

# ol_vip VIP PORT [vip add options...]: a VIP on b1-b3, each serving PORT.
ol_vip() {
	local v=$1 port=$2 b
	shift 2
	for b in b1 b2 b3; do bg "$b" "$LAB_TCP" "$port" "$b" greet; done
	for b in b1 b2 b3; do
		for _ in $(seq 50); do
			on "$b" ss -Hltn | grep -q ":$port " && break
			sleep 0.1
		done
	done
	ctl vip add "$v" check "$BH_CHECK" "$@" >"$TMP/out" 2>&1 || { echo "    vip add: $(cat "$TMP/out")"; return 1; }
	for b in 10.99.0.11 10.99.0.12 10.99.0.13; do
		ctl backend add "$v" "$b" >/dev/null || { echo "    backend add $v $b failed"; return 1; }
	done
	wait_health "$v" 3
}

ol_ejections() { # VIP: ejection events so far
	ctl -j events | jq "[.events[] | select(.kind == \"outlier\" and .vip == \"$1\" and .to == \"ejected\")] | length"
}

# 1% loss on the client's link (every 100th packet each way dropped by a
# tc program: this kernel has no netem), 50 new connections/s for
# XLB_E2E_LOSS_SECONDS (default 60): the clients retransmit SYNs on every
# backend alike, and nobody is ejected.
t_outlier_client_loss_ejects_nobody() {
	local v=10.99.100.5:8020/tcp ok=0 secs=${XLB_E2E_LOSS_SECONDS:-60} n r b
	ol_vip $v 8020 || return 1
	on cl tc qdisc add dev eth0 clsact
	{ on cl tc filter add dev eth0 egress bpf da obj "$LOSS_OBJ" sec tc &&
		on cl tc filter add dev eth0 ingress bpf da obj "$LOSS_OBJ" sec tc; } >"$TMP/out" 2>&1 ||
		{ echo "    tc: $(cat "$TMP/out")"; on cl tc qdisc del dev eth0 clsact; ctl vip del $v >/dev/null; return 1; }
	on cl "$LAB_LOAD" 10.99.100.5 8020 -r 50 -d "$secs" -t 4000 >"$TMP/ol-loss" 2>&1
	on cl tc qdisc del dev eth0 clsact
	scrape /metrics >"$TMP/bh-scrape"
	r=0
	for b in 10.99.0.11 10.99.0.12 10.99.0.13; do
		r=$((r + $(bh_metric xlb_backend_syn_retransmits_total $v $b)))
	done
	n=$(ol_ejections $v)
	echo "    1% loss each way, 50 new connections/s for $secs s: $(awk '/^summary/ {print $3, "attempts,", $5, "ok"}' "$TMP/ol-loss"), $r SYN retransmits seen, $n ejections"
	[ "$r" -ge 5 ] || { echo "    only $r retransmitted SYNs: the loss did not reach the SYNs, the case proves nothing"; ok=1; }
	[ "$n" = 0 ] || { echo "    $n backends ejected for loss on the clients' side:"; ctl -j events | jq -r '.events[] | select(.kind == "outlier") | "      \(.backend) \(.to) \(.reason)"'; ok=1; }
	ctl vip del $v >/dev/null
	return $ok
}

# Spoofed SYNs, each sent again 300 ms later, from random sources (so over
# every backend) at 300/s, while real clients connect at 50/s: at most
# max_ejection_percent (50%: one of three) is ever ejected at once, and
# every real connection succeeds.
t_outlier_spoofed_syns_eject_at_most_the_cap() {
	local v=10.99.100.5:8021/tcp ok=0 p1 p2 most=0 n
	ol_vip $v 8021 || return 1
	on cl "$LAB_LOAD" 10.99.100.5 8021 -r 50 -d 8 -t 4000 >"$TMP/ol-spoof" 2>&1 &
	p1=$!
	on cl "$LAB_SYN" 10.99.100.5 8021 300 8 300 >"$TMP/ol-syn" 2>&1 &
	p2=$!
	while kill -0 $p1 2>/dev/null; do
		n=$(ctl -j backend list $v | jq '[.backends[] | select(.ejected)] | length')
		[ "${n:-0}" -gt "$most" ] && most=$n
		sleep 0.3
	done
	wait $p1 $p2
	scrape /metrics >"$TMP/bh-scrape"
	echo "    spoofed: $(cat "$TMP/ol-syn"), real: $(awk '/^summary/ {print $3, "attempts,", $5, "ok"}' "$TMP/ol-spoof"); at most $most ejected at once, $(ol_ejections $v) ejections"
	grep -q '^sent [1-9]' "$TMP/ol-syn" || { echo "    no spoofed SYN sent"; ok=1; }
	n=$(bh_metric xlb_backend_syn_retransmits_total $v 10.99.0.11)
	[ "${n:-0}" -ge 50 ] || { echo "    b1 saw ${n:-no} retransmitted SYNs: the spoof did not reach xlb"; ok=1; }
	[ "$most" -le 1 ] || { echo "    $most of 3 ejected at once: above max_ejection_percent 50%"; ok=1; }
	n=$(grep -c '^fail .* conn ' "$TMP/ol-spoof")
	[ "$n" = 0 ] || { echo "    $n real connections failed"; ok=1; }
	ctl vip del $v >/dev/null
	return $ok
}
