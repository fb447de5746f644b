# Stateless forwarding (issue #14), one LB: a stateless ipip VIP keeps its
# connections across backend additions, a drain and an agent restart by
# the previous hop each table slot carries; the backends' xlb-decap hands
# packets of connections they do not own on to it. Sourced by run.sh.

SL_VIP=10.99.100.5:81/tcp

# A reason counter of the LB's data plane, from /metrics (0 when absent).
lb_reason() {
	scrape /metrics | awk -v r="reason=\"$1\"" 'index($0, r) && !/^#/ {s += $NF} END {print s + 0}'
}
# The sum of a decap counter over the three backends.
decap_sum() {
	local b s=0 v
	for b in b1 b2 b3; do v=$(decap_count "$b" "$1"); s=$((s + ${v:-0})); done
	echo $s
}

# 20 streams start on b1 alone; b2 and b3 are added (most slots move off
# b1), xlbd is SIGKILLed and restarted, then b1 is drained: every stream
# still ends with every byte on b1, the moved ones through the previous
# hop, and new connections go to b2 and b3 only.
t_stateless_streams_survive_adds_restart_drain() {
	local v=$SL_VIP ok=0 prev0 ho0 prev1 ho1 on_b1
	ctl vip add $v mode ipip flow-state stateless \
		check '{interval: 500ms, timeout: 200ms, rise: 1, fall: 2}' || return 1
	ctl backend add $v 10.99.0.11 || return 1
	wait_health $v 1 up || return 1
	prev0=$(lb_reason stateless_prev_hop); ho0=$(decap_sum sl_handed_on)
	stream_start 20 120 sl 10.99.100.5
	streams_connected sl 20 || ok=1
	ctl backend add $v 10.99.0.12 && ctl backend add $v 10.99.0.13 || ok=1
	wait_health $v 3 up || ok=1
	sleep 1
	prev1=$(lb_reason stateless_prev_hop); ho1=$(decap_sum sl_handed_on)
	log "      after b2, b3 joined: $((prev1 - prev0)) packets carried a previous hop, $((ho1 - ho0)) handed on by the backends; $(ctl -j vip list | jq -r ".vips[] | select(.vip == \"$v\") | .slots_with_prev") slots carry one"
	[ $((prev1 - prev0)) -gt 0 ] || { echo "    no packet carried a previous hop"; ok=1; }
	[ $((ho1 - ho0)) -gt 0 ] || { echo "    no backend handed a packet on"; ok=1; }
	kill -KILL "$XLBD_PID"
	wait "$XLBD_PID" 2>/dev/null
	ADOPT=1 xlbd_start || return 1
	ctl backend drain $v 10.99.0.11 || ok=1
	many 10.99.100.5 81 20 >"$TMP/out"
	grep -q '^b1$' "$TMP/out" && { echo "    a new connection reached the drained b1"; ok=1; }
	grep -qE '^b(2|3)$' "$TMP/out" || { echo "    new connections: $(sort "$TMP/out" | uniq -c | tr '\n' ' ')"; ok=1; }
	wait "${CONNS[@]}"
	on_b1=$(for i in $(seq 20); do head -1 "$TMP/sl$i"; done | grep -c '^b1$')
	[ "$on_b1" = 20 ] || { echo "    $on_b1 of 20 streams answered by b1 first"; ok=1; }
	stream_check sl 20 1320 'b1' || ok=1
	log "      20 streams: $(for i in $(seq 20); do tail -1 "$TMP/sl$i"; done | grep -cx ' *1320') complete; handed on in all: $(($(decap_sum sl_handed_on) - ho0))"
	ctl vip del $v
	return $ok
}
