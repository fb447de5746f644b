# shellcheck shell=bash
# Announcing VIPs as routes for BGP (issue #13), sourced by run.sh, which
# defines ctl, on, bg, listen, xlbd_conf, xlbd_start, $TMP and $XLBD_PID.
# Each case returns 0 or 1 and says why on "    " lines.
#
# The lab's xlbd runs without 'announce:'. t_announce_off_touches_nothing
# runs against it; ann_begin restarts xlbd with an announcing config of
# its own (same VIPs and seed: nothing moves) and ann_end detaches it and
# starts the lab's xlbd again, from its own state, as it was.

ANN_T=9641
ANN_P=250
ANN_VIP8=10.99.100.8:93/tcp # one backend (b1), checked on port 93 of b1

# Every route of the announce table and protocol in the LB, one a line.
ann_routes() {
	on lb ip -4 route show table $ANN_T proto $ANN_P 2>/dev/null
	on lb ip -6 route show table $ANN_T proto $ANN_P 2>/dev/null
}
ann_has() { ann_routes | awk '{print $1}' | grep -qx "$1"; }
# ann_wait ADDR present|absent [TENTHS]: 1 with the table when it does not.
ann_wait() {
	for _ in $(seq "${3:-40}"); do
		if ann_has "$1"; then [ "$2" = present ] && return 0; else [ "$2" = absent ] && return 0; fi
		sleep 0.1
	done
	echo "    $1 not $2 in table $ANN_T after $((${3:-40} / 10))s:"
	ann_routes | sed 's/^/      /'
	return 1
}

ann_conf() {
	echo "announce: {}"
	xlbd_conf
	cat <<EOF
  - address: 10.99.100.8
    port: 93
    protocol: tcp
    check: {interval: 500ms, timeout: 200ms, rise: 1, fall: 1}
    backends:
      - address: 10.99.0.11
  - address: 10.99.100.20
    port: 80
    protocol: tcp
    announce: never
    check: {type: none}
    backends:
      - address: 10.99.0.11
EOF
}

ANN_ALL="10.99.100.1 10.99.100.2 fd99:100::1 10.99.100.8"

# Restart xlbd with the announcing config (kept in $TMP/ann.yaml).
ann_begin() {
	[ -n "${ANN_ON:-}" ] && return 0
	listen b1 93 "echo b1"
	ANN_LPID=$LPID
	cp "$TMP/xlbd.yaml" "$TMP/ann-lab.yaml"
	cp "$TMP/state/running.yaml" "$TMP/ann-lab-running.yaml"
	kill -TERM "$XLBD_PID"
	wait "$XLBD_PID" 2>/dev/null
	ann_conf >"$TMP/ann.yaml"
	cp "$TMP/ann.yaml" "$TMP/xlbd.yaml"
	rm -f "$TMP/state/running.yaml"
	ADOPT=1 xlbd_start || return 1
	ANN_ON=1
	for a in $ANN_ALL; do ann_wait "$a" present || return 1; done
}

# Back to the lab's xlbd: detach withdraws every route first (checked),
# then the lab's state starts a new xlbd.
ann_end() {
	local ok=0
	[ -z "${ANN_ON:-}" ] && return 0
	ANN_ON=
	ctl maintenance off >/dev/null 2>&1
	ctl detach >/dev/null || ok=1
	for _ in $(seq 30); do kill -0 "$XLBD_PID" 2>/dev/null || break; sleep 0.1; done
	[ -z "$(ann_routes)" ] || { echo "    routes left after detach:"; ann_routes | sed 's/^/      /'; ok=1; }
	grep -q 'kind=announce vip=10.99.100.1/32 .*to=withdrawn reason="program not attached' "$TMP/xlbd.log" ||
		{ echo "    detach: no withdrawal event 'program not attached'"; ok=1; }
	kill "$ANN_LPID" 2>/dev/null
	rm -f "$TMP/state/maintenance"
	cp "$TMP/ann-lab.yaml" "$TMP/xlbd.yaml"
	cp "$TMP/ann-lab-running.yaml" "$TMP/state/running.yaml"
	xlbd_start || ok=1
	return $ok
}

# Without 'announce:' xlbd touches no table: a foreign route of the table
# and protocol stays across a reload and ticks; a reload that would start
# announcing is refused (CAP_NET_ADMIN is gone) and changes nothing.
t_announce_off_touches_nothing() {
	local ok=0
	on lb ip route add 192.0.2.77/32 dev lo table $ANN_T proto $ANN_P || return 1
	ctl reload >/dev/null || ok=1
	sleep 1.5
	ann_has 192.0.2.77 || { echo "    the foreign route went"; ok=1; }
	ctl status | grep -q "^announce  *off" || { echo "    status: $(ctl status | grep '^announce')"; ok=1; }
	ann_conf >"$TMP/ann-try.yaml"
	ctl apply -f "$TMP/ann-try.yaml" >"$TMP/out" 2>&1 && { echo "    apply with announce: accepted"; ok=1; }
	grep -q "dropped CAP_NET_ADMIN.*nothing changed. Restart xlbd" "$TMP/out" ||
		{ echo "    reply: $(cat "$TMP/out")"; ok=1; }
	ctl vip list | grep -qF "$ANN_VIP8" && { echo "    the refused apply changed the VIPs"; ok=1; }
	[ "$(ann_routes | wc -l)" = 1 ] || { echo "    table changed:"; ann_routes | sed 's/^/      /'; ok=1; }
	on lb ip route del 192.0.2.77/32 dev lo table $ANN_T proto $ANN_P
	return $ok
}

# With 'announce: {}' the VIPs with a usable backend are routes of table
# 9641 proto 250 (the 'never' VIP not); xlbd keeps CAP_NET_ADMIN; a VIP
# whose backends all go down is withdrawn and comes back with them; a
# route someone removed is put back; status and metrics say so.
t_announce_usable_vips_routed() {
	local ok=0
	ann_begin || return 1
	ann_has 10.99.100.20 && { echo "    the 'announce: never' VIP is announced"; ok=1; }
	ann_routes | grep -q "^10.99.100.1 dev lo" || { echo "    route shape: $(ann_routes | head -1)"; ok=1; }
	privs_check "$XLBD_PID" "$PRIVS_KEPT_ANNOUNCE" || ok=1
	ctl status | grep -q "^announce  *table 9641 protocol 250 hold 10000ms" ||
		{ echo "    status: $(ctl status | grep '^announce')"; ok=1; }
	kill "$ANN_LPID"
	ann_wait 10.99.100.8 absent 50 || ok=1
	grep -q 'kind=announce vip=10.99.100.8/32 from=announced to=withdrawn reason="no usable backend' "$TMP/xlbd.log" ||
		{ echo "    no withdrawal event"; ok=1; }
	ctl status | grep "$ANN_VIP8" | grep -q "withdrawn: no usable backend" ||
		{ echo "    status: $(ctl status | grep "$ANN_VIP8" | head -1)"; ok=1; }
	on lb curl -s http://127.0.0.1:9641/metrics >"$TMP/m" 2>/dev/null
	grep -q "^xlb_vip_announced{vip=\"$ANN_VIP8\"} 0" "$TMP/m" && grep -q '^xlb_vip_announced{vip="10.99.100.1:80/tcp"} 1' "$TMP/m" ||
		{ echo "    metrics: $(grep xlb_vip_announced "$TMP/m" | tr '\n' ' ')"; ok=1; }
	ann_has 10.99.100.1 || { echo "    other VIPs went too"; ok=1; }
	listen b1 93 "echo b1"
	ANN_LPID=$LPID
	ann_wait 10.99.100.8 present 50 || ok=1
	on lb ip route del 10.99.100.1/32 table $ANN_T proto $ANN_P
	ann_wait 10.99.100.1 present 30 || { echo "    a removed route was not put back"; ok=1; }
	ctl -j status | grep -q '"announcement":"announced"\|"announcement": "announced"' ||
		{ echo "    status -j has no announcement"; ok=1; }
	return $ok
}

# Maintenance: every route goes, the state survives a SIGKILL restart (no
# route comes back), packets still arriving are shown, 'wait' says safe
# once they stop; one VIP alone; off brings everything back.
t_announce_maintenance() {
	local ok=0 gen rc
	ann_begin || return 1
	ctl maintenance on >"$TMP/out" || return 1
	for a in $ANN_ALL; do ann_wait "$a" absent 20 || ok=1; done
	grep -q "^maintenance: the host" "$TMP/out" || { echo "    on said: $(cat "$TMP/out")"; ok=1; }
	kill -KILL "$XLBD_PID"
	wait "$XLBD_PID" 2>/dev/null
	ADOPT=1 xlbd_start || return 1
	sleep 1.5
	[ -z "$(ann_routes)" ] || { echo "    re-announced after a restart in maintenance:"; ann_routes | sed 's/^/      /'; ok=1; }
	grep -q "maintenance restored" "$TMP/xlbd.log" || { echo "    not restored"; ok=1; }
	ctl status | grep -q "^maintenance  *the host" || { echo "    status: $(ctl status | grep '^maint')"; ok=1; }
	# The client still routes to the LB directly: traffic keeps arriving.
	on cl bash -c 'end=$((SECONDS + 4)); while [ $SECONDS -lt $end ]; do
		(exec 3<>/dev/tcp/10.99.100.1/80 && head -1 <&3) >/dev/null 2>&1; done' &
	gen=$!
	sleep 2.5
	ctl maintenance >"$TMP/out"
	grep -q "not yet: [0-9]* pkt/s still arriving on 10.99.100.1:80/tcp" "$TMP/out" ||
		{ echo "    under traffic:"; sed 's/^/      /' "$TMP/out"; ok=1; }
	ctl maintenance wait -t 0.5 >/dev/null 2>&1
	rc=$?
	[ $rc = 4 ] || { echo "    wait -t under traffic: exit $rc, want 4"; ok=1; }
	wait $gen
	ctl maintenance wait -t 15 >"$TMP/out"
	rc=$?
	{ [ $rc = 0 ] && grep -q "safe to stop: no VIP traffic for [5-9]s" "$TMP/out"; } ||
		{ echo "    wait: exit $rc"; sed 's/^/      /' "$TMP/out"; ok=1; }
	on lb curl -s http://127.0.0.1:9641/metrics | grep -q '^xlb_maintenance 1' || { echo "    xlb_maintenance not 1"; ok=1; }
	ctl maintenance off >/dev/null || ok=1
	for a in $ANN_ALL; do ann_wait "$a" present 20 || ok=1; done
	ctl maintenance on $ANN_VIP8 >/dev/null || ok=1
	ann_wait 10.99.100.8 absent 20 || ok=1
	ann_has 10.99.100.1 || { echo "    VIP maintenance withdrew another VIP"; ok=1; }
	ctl maintenance off $ANN_VIP8 >/dev/null || ok=1
	ann_wait 10.99.100.8 present 20 || ok=1
	ctl maintenance on 10.99.100.9:1/tcp >"$TMP/out" 2>&1 && { echo "    maintenance of an unknown VIP accepted"; ok=1; }
	grep -q "no such VIP" "$TMP/out" || { echo "    unknown VIP: $(cat "$TMP/out")"; ok=1; }
	return $ok
}

# Maintenance is an operator action, not code: a --socket-group member
# may take it (and it is recorded with who).
t_announce_group_member_may_maintain() {
	local ok=0 out
	ann_begin || return 1
	socket_for_group || { socket_for_root; return 1; }
	out=$(as_member maintenance on $ANN_VIP8 2>&1) || { echo "    member refused: $out"; ok=1; }
	ann_wait 10.99.100.8 absent 20 || ok=1
	grep -F "kind=change vip=$ANN_VIP8 " "$TMP/xlbd.log" | grep -q 'to=maintenance .*uid=65534' ||
		{ echo "    no change event naming uid 65534"; ok=1; }
	out=$(as_member maintenance off $ANN_VIP8 2>&1) || { echo "    member refused: $out"; ok=1; }
	ann_wait 10.99.100.8 present 20 || ok=1
	socket_for_root
	return $ok
}

# A SIGKILL restart (and a SIGTERM one) removes no route even for a
# moment: the table is read every 20 ms across both, and 'ip monitor'
# sees every deletion however short (a withdraw and re-add within
# microseconds still reaches the routers as a flap).
t_announce_restart_does_not_flap() {
	local ok=0 poll mon n
	ann_begin || return 1
	n=$(ann_routes | wc -l)
	bg lb ip -o monitor route >"$TMP/ann-mon" 2>/dev/null
	mon=${PIDS[-1]}
	bg lb bash -c 'while :; do { ip -4 route show table '$ANN_T' proto '$ANN_P'
		ip -6 route show table '$ANN_T' proto '$ANN_P'; } | wc -l; sleep 0.02; done' >"$TMP/ann-poll" 2>/dev/null
	poll=${PIDS[-1]}
	sleep 0.3
	kill -KILL "$XLBD_PID"
	wait "$XLBD_PID" 2>/dev/null
	ADOPT=1 xlbd_start || ok=1
	sleep 1.5
	kill -TERM "$XLBD_PID"
	wait "$XLBD_PID" 2>/dev/null
	ADOPT=1 xlbd_start || ok=1
	sleep 1.5
	kill "$poll" "$mon"
	wait "$poll" "$mon" 2>/dev/null
	grep "table $ANN_T" "$TMP/ann-mon" | grep -q '^Deleted' &&
		{ echo "    routes deleted across the restarts:"; grep '^Deleted' "$TMP/ann-mon" | sed 's/^/      /'; ok=1; }
	[ "$(wc -l <"$TMP/ann-poll")" -ge 20 ] || { echo "    only $(wc -l <"$TMP/ann-poll") polls"; ok=1; }
	[ "$(sort -u "$TMP/ann-poll")" = "$n" ] ||
		{ echo "    route counts seen across the restarts: $(sort -n "$TMP/ann-poll" | uniq -c | tr '\n' ' ') (want only $n)"; ok=1; }
	return $ok
}

# Moving the block to another table withdraws from the old one.
t_announce_table_change() {
	local ok=0
	ann_begin || return 1
	sed 's/^announce: {}/announce: {table: 9642}/' "$TMP/ann.yaml" >"$TMP/ann-9642.yaml"
	ctl apply -f "$TMP/ann-9642.yaml" >"$TMP/out" || { echo "    apply: $(cat "$TMP/out")"; ok=1; }
	grep -q "announce table 9641 -> 9642" "$TMP/out" || { echo "    diff: $(cat "$TMP/out")"; ok=1; }
	for _ in $(seq 20); do [ -z "$(ann_routes)" ] && break; sleep 0.1; done
	[ -z "$(ann_routes)" ] || { echo "    routes left in the old table"; ok=1; }
	on lb ip route show table 9642 proto $ANN_P | grep -q "^10.99.100.1 " || { echo "    not in the new table"; ok=1; }
	ctl apply -f "$TMP/ann.yaml" >/dev/null || ok=1
	on lb ip route show table 9642 proto $ANN_P | grep -q . && { echo "    routes left in 9642"; ok=1; }
	ann_wait 10.99.100.1 present 20 || ok=1
	return $ok
}

# Changes of where and whether VIPs are announced, while streams run: the
# block moves to table 9642 and back, a VIP's 'announce' goes to always
# and back, the protocol to 251 and back. No VIP is unrouted for a
# moment: 'ip monitor' sees each route added to the new table before it
# is deleted from the old one (a BGP daemon exporting both tables
# withdraws nothing), a protocol change replaces each route in place, and
# the setting change touches no route at all. The streams all finish.
t_announce_changes_never_unroute() {
	local ok=0 mon p
	ann_begin || return 1
	sed 's/^announce: {}/announce: {table: 9642}/' "$TMP/ann.yaml" >"$TMP/ann-9642.yaml"
	sed 's/^announce: {}/announce: {protocol: 251}/' "$TMP/ann.yaml" >"$TMP/ann-251.yaml"
	ann_routes | awk '{print $1}' | sort -u >"$TMP/ann-before"
	stream_start 6 40 annst 10.99.100.1
	streams_connected annst 6 || ok=1
	bg lb ip -o monitor route >"$TMP/ann-mon2" 2>/dev/null
	mon=${PIDS[-1]}
	sleep 0.3
	ctl apply -f "$TMP/ann-9642.yaml" >"$TMP/out" || { echo "    apply 9642: $(cat "$TMP/out")"; ok=1; }
	sleep 0.5
	ctl vip set 10.99.100.1:80/tcp announce always >/dev/null || ok=1
	sleep 0.5
	ctl vip set 10.99.100.1:80/tcp announce when-usable >/dev/null || ok=1
	sleep 0.5
	ctl apply -f "$TMP/ann.yaml" >"$TMP/out" || { echo "    apply 9641: $(cat "$TMP/out")"; ok=1; }
	sleep 0.5
	ctl apply -f "$TMP/ann-251.yaml" >"$TMP/out" || { echo "    apply protocol 251: $(cat "$TMP/out")"; ok=1; }
	sleep 0.5
	[ "$(on lb ip route show table $ANN_T proto 251 | wc -l)" = "$(grep -c '\.' "$TMP/ann-before")" ] ||
		{ echo "    protocol 251: $(on lb ip route show table $ANN_T | tr '\n' ' ')"; ok=1; }
	ctl apply -f "$TMP/ann.yaml" >"$TMP/out" || { echo "    apply protocol $ANN_P: $(cat "$TMP/out")"; ok=1; }
	sleep 0.5
	kill "$mon"
	wait "$mon" 2>/dev/null
	# every prefix routed somewhere at every event: +1 per add, -1 per delete
	awk -v t1="table $ANN_T" -v t2='table 9642' 'NR == FNR { n[$1] = 1; next }
		index($0, t1) || index($0, t2) {
			if ($1 == "Deleted") { if (--n[$2] < 1) print "unrouted: " $0 }
			else n[$1]++
		}' "$TMP/ann-before" "$TMP/ann-mon2" >"$TMP/ann-gaps"
	[ -s "$TMP/ann-gaps" ] && { echo "    a VIP had no route for a moment:"; head -4 "$TMP/ann-gaps" | sed 's/^/      /'; ok=1; }
	grep -c "table 9642" "$TMP/ann-mon2" | grep -qx 0 && { echo "    nothing happened in table 9642"; ok=1; }
	for p in $(cat "$TMP/ann-before"); do ann_has "$p" || { echo "    $p not back in $ANN_T"; ok=1; }; done
	on lb ip route show table 9642 proto $ANN_P | grep -q . && { echo "    routes left in 9642"; ok=1; }
	wait "${CONNS[@]}"
	stream_check annst 6 440 '.*' || ok=1
	return $ok
}

# Last of these: detach withdraws every route before the program goes;
# the lab's xlbd comes back from its own state for the cases after.
t_announce_detach_withdraws_everything() {
	ann_end
}
