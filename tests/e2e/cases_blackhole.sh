# shellcheck shell=bash
# A backend that goes silent (issue #16): the client's own retransmitted SYN
# is the signal, and syn_retry another-backend gives it a second chance on
# another backend. Sourced by run.sh.

# Ports of their own, served only here: xlbd runs one probe per backend
# address and port, and the lab's other VIPs check ports 80 and 81 every
# second, which would find the black hole for these VIPs too.
BH_ANOTHER=10.99.100.5:8016/tcp # syn_retry another-backend (the default)
BH_SAME=10.99.100.5:8017/tcp    # syn_retry same-backend
# A long interval, so the active check has not noticed within the run (fall
# 3 x 10 s); backends start up, so the table has them at once.
BH_CHECK='{interval: 10s, timeout: 1s, rise: 2, fall: 3, jitter: 0%, start: up}'

# The LB's neighbour entry of b3 is pinned meanwhile: a black hole that
# still answers ARP (a firewall, a hung service). Otherwise the kernel's
# ARP probes fail within a few seconds, depending on the entry's state
# when the link goes, and b3 leaves every table for want of a next hop,
# which is another mechanism than the one these cases measure.
bh_link() { # up|down: b3's link; its IPv6 address stays (other cases use it)
	if [ "$1" = down ]; then
		on lb ip neigh replace 10.99.0.13 lladdr "$(mac b3)" dev eth0 nud permanent
	fi
	on b3 sysctl -qw net.ipv6.conf.eth0.keep_addr_on_down=1
	on b3 ip link set eth0 "$1"
	if [ "$1" = up ]; then
		on lb ip neigh replace 10.99.0.13 lladdr "$(mac b3)" dev eth0 nud reachable
	fi
}

# bh_report NAME FILE: one line of xlb-lab-load's results, and the latency
# distribution (ms) of the connections that took over 500 ms (those whose
# first SYN went unanswered).
bh_report() {
	local name=$1 f=$2 att okc fails
	att=$(awk '/^summary/ {print $3}' "$f")
	okc=$(awk '/^summary/ {print $5}' "$f")
	fails=$(grep -c '^fail .* conn ' "$f")
	printf '    %-16s attempts %4s  ok %4s  failed %4s (%s)  slow (>500 ms): %s\n' \
		"$name" "${att:-?}" "${okc:-?}" "$fails" \
		"$(grep '^fail .* conn ' "$f" | awk '{print $4}' | sort | uniq -c | awk '{printf "%s %s ", $1, $2}')" \
		"$(awk '$1 == "conn" && $2 > 500 {print $2}' "$f" | sort -n | awk '
			{ v[NR] = $1 }
			END {
				if (!NR) { print "none"; exit }
				printf "%d, ms min %d p50 %d p90 %d max %d", NR, v[1],
					v[int((NR + 1) / 2)], v[int((NR * 9 + 9) / 10)], v[NR]
			}')"
}

bh_metric() { # name vip backend
	awk -v m="$1{vip=\"$2\",backend=\"$3\"}" '$1 == m {print $2}' "$TMP/bh-scrape"
}

# Three backends (outlier detection off: this is the second chance alone;
# cases_outlier.sh has both), new connections at 50/s to each VIP for 3 s, b3 black-holed
# (its link down) while its check, every 10 s, has not noticed: with
# another-backend every connection completes, those sent to b3 about 1 s
# later (the client's first SYN retransmission); with same-backend those
# fail (the client gives up after 3 s: 2 s after the first retransmission,
# room for a late answer on a loaded host). Both VIPs side by side, in the
# same black hole at the same time. About 50 connections a VIP meet b3; the
# case wants at least 20.
t_blackhole_second_chance() {
	local ok=0 p1 p2 n v b
	for b in b1 b2 b3; do
		bg "$b" "$LAB_TCP" 8016 "$b" greet
		bg "$b" "$LAB_TCP" 8017 "$b" greet
	done
	for b in b1 b2 b3; do
		for _ in $(seq 50); do
			[ "$(on "$b" ss -Hltn | grep -cE ':(8016|8017) ')" -ge 2 ] && break
			sleep 0.1
		done
	done
	{ ctl vip add $BH_ANOTHER check "$BH_CHECK" outlier off &&
		ctl vip add $BH_SAME check "$BH_CHECK" syn-retry same-backend outlier off; } >"$TMP/out" 2>&1 ||
		{ echo "    vip add: $(cat "$TMP/out")"; ctl vip del $BH_ANOTHER >/dev/null 2>&1; return 1; }
	for v in $BH_ANOTHER $BH_SAME; do
		for b in 10.99.0.11 10.99.0.12 10.99.0.13; do
			ctl backend add "$v" "$b" >/dev/null || { echo "    backend add $v $b failed"; ok=1; }
		done
	done
	[ "$(ctl -j vip list | jq -r ".vips[] | select(.vip == \"$BH_SAME\") | .syn_retry")" = same-backend ] ||
		{ echo "    $BH_SAME: syn_retry not same-backend"; ok=1; }
	wait_health $BH_ANOTHER 3 && wait_health $BH_SAME 3 || ok=1
	bh_link down
	on cl "$LAB_LOAD" 10.99.100.5 8016 -r 50 -d 3 -t 3000 -l >"$TMP/bh-another" 2>&1 &
	p1=$!
	on cl "$LAB_LOAD" 10.99.100.5 8017 -r 50 -d 3 -t 3000 -l >"$TMP/bh-same" 2>&1 &
	p2=$!
	wait $p1 $p2
	# the active check has not noticed: the second chance did it
	ctl backend list $BH_ANOTHER | awk '$2 == "10.99.0.13" && $5 == "up"' | grep -q . ||
		{ echo "    b3 no longer up: the check noticed, the case proves nothing"; ok=1; }
	bh_link up
	scrape /metrics >"$TMP/bh-scrape"
	echo "    b3 black-holed, 50 new connections/s for 3 s to each VIP, client timeout 3 s:"
	bh_report another-backend "$TMP/bh-another"
	bh_report same-backend "$TMP/bh-same"
	grep -q '^summary conns [1-9]' "$TMP/bh-another" || { echo "    no load report"; ok=1; }
	n=$(grep -c '^fail .* conn ' "$TMP/bh-another")
	[ "$n" = 0 ] || { echo "    another-backend: $n connections failed, want 0"; ok=1; }
	n=$(awk '$1 == "conn" && $2 > 800' "$TMP/bh-another" | wc -l)
	[ "$n" -ge 20 ] || { echo "    another-backend: $n connections took the second chance, want about 50"; ok=1; }
	n=$(grep -c '^fail .* conn ' "$TMP/bh-same")
	[ "$n" -ge 20 ] || { echo "    same-backend: $n connections failed, want about 50"; ok=1; }
	n=$(bh_metric xlb_backend_syn_rerouted_total $BH_ANOTHER 10.99.0.13)
	[ "${n:-0}" -ge 20 ] || { echo "    xlb_backend_syn_rerouted_total of b3: ${n:-none}"; ok=1; }
	n=$(bh_metric xlb_backend_syn_retransmits_total $BH_SAME 10.99.0.13)
	[ "${n:-0}" -ge 20 ] || { echo "    same-backend: b3's retransmits ${n:-none}"; ok=1; }
	n=$(bh_metric xlb_backend_syn_rerouted_total $BH_SAME 10.99.0.13)
	[ "${n:-x}" = 0 ] || { echo "    same-backend: b3 rerouted ${n:-none}, want 0"; ok=1; }
	n=$(bh_metric xlb_backend_syn_retransmits_total $BH_ANOTHER 10.99.0.11)
	[ "${n:-x}" = 0 ] || { echo "    b1 (answering) has ${n:-no} retransmits, want 0"; ok=1; }
	n=$(ctl -j backend list $BH_ANOTHER | jq -r '.backends[] | select(.address == "10.99.0.13") | .syn_rerouted')
	[ "${n:-0}" -ge 20 ] || { echo "    backend list: b3 syn_rerouted ${n:-none}"; ok=1; }
	ctl vip del $BH_ANOTHER >/dev/null
	ctl vip del $BH_SAME >/dev/null
	return $ok
}
