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
