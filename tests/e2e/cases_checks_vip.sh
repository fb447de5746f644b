# Checks that see what clients see: `via: vip` (issue #16). Sourced by run.sh.

# A backend that lost its VIP (here: the address gone from b3's loopback)
# passes a check sent to its own address, while every client sent there
# hangs. Three VIPs on the same backends, the same timing: the two checked
# through the VIP (dsr with a tcp check, ipip with an http check: the
# probe encapsulated, decapsulated by b3's xlb-decap) take b3 down within
# fall x interval + timeout (+ slack), the one checked the old way keeps it
# up (printed side by side); with the address back b3 is up again after
# rise good checks.
#
# The LB namespace has no route to the VIPs (only its /24): a load balancer
# has one through its NIC, normally the default route via the router; the
# case adds that route for the VIP (via the client, the lab's "router") and
# removes it at the end. xlb itself adds no route.
t_check_via_vip_sees_a_lost_vip() {
	local vipv=10.99.100.5:93/tcp vipi=10.99.100.5:95/tcp old=10.99.100.5:94/tcp ok=0
	local timing='interval: 500ms, timeout: 300ms, rise: 2, fall: 2' pids=() b
	# Without that route every probe would miss the data path and the VIP
	# would empty: refused, naming the fix, and nothing changes.
	ctl config dump >"$TMP/cv-before"
	if ctl vip add $vipv check "{via: vip, port: 80, $timing}" >"$TMP/out" 2>&1; then
		echo "    via vip accepted without a route to the VIP"
		ctl vip del $vipv >/dev/null
		return 1
	fi
	grep -q "no route to 10.99.100.5.*ip route add" "$TMP/out" ||
		{ echo "    the refusal does not say why: $(cat "$TMP/out")"; return 1; }
	ctl config dump | cmp -s - "$TMP/cv-before" || { echo "    the refused request changed the configuration"; return 1; }
	on lb ip route add 10.99.100.5/32 via 10.99.0.1 dev eth0 || return 1
	for b in b1 b2 b3; do
		bg $b "$LAB_TCP" 97 $b http
		pids+=("${PIDS[-1]}")
	done
	for b in b1 b2 b3; do
		for _ in $(seq 50); do on $b ss -Hltn "sport = :97" | grep -q . && break; sleep 0.1; done
	done
	cv_run || ok=1
	kill "${pids[@]}" 2>/dev/null
	on b3 ip addr add 10.99.100.5/32 dev lo 2>/dev/null # back, whatever happened
	ctl vip del $vipv >/dev/null 2>&1
	ctl vip del $old >/dev/null 2>&1
	ctl vip del $vipi >/dev/null 2>&1
	on lb ip route del 10.99.100.5/32 via 10.99.0.1 dev eth0
	return $ok
}

# The case itself; vipv, vipi, old and timing are its caller's.
cv_run() {
	local ok=0 v b t0 el eli
	ctl vip add $vipv check "{via: vip, port: 80, $timing}" || return 1
	ctl vip add $vipi mode ipip check "{type: http, via: vip, port: 97, $timing}" || return 1
	ctl vip add $old check "{port: 80, $timing}" || return 1
	for v in $vipv $vipi $old; do
		for b in 11 12 13; do ctl backend add $v 10.99.0.$b || return 1; done
		wait_health $v 3 up || return 1
	done
	[ -e "$XPIN/check_link" ] || { echo "    no probe path pinned ($XPIN/check_link)"; ok=1; }
	on b3 ip addr del 10.99.100.5/32 dev lo || return 1
	t0=$(date +%s%N)
	wait_health $vipv 1 down >/dev/null || { echo "    via vip: b3 not down in 10 s"; ok=1; }
	el=$(since "$t0")
	wait_health $vipi 1 down >/dev/null || { echo "    via vip (ipip): b3 not down in 10 s"; ok=1; }
	eli=$(since "$t0")
	# fall 2 x (interval 500 ms + 10% jitter) + timeout 300 ms = 1.4 s, + 1.6 s
	# slack for a loaded host (the old check never sees it at all)
	le "$el" 3 || { echo "    via vip: b3 down after ${el}s, want <= 3s"; ok=1; }
	le "$eli" 3 || { echo "    via vip (ipip): b3 down after ${eli}s, want <= 3s"; ok=1; }
	sleep 1 # the old check has had as long again
	echo "    b3 without the VIP (down after ${el}s, ipip ${eli}s): via backend:" \
		"$(ck_health $old 10.99.0.13) | via vip: $(ck_health $vipv 10.99.0.13)" \
		"| ipip http via vip: $(ck_health $vipi 10.99.0.13)"
	ck_health $old 10.99.0.13 | grep -q '^up (ok)' ||
		{ echo "    via backend: b3 should pass a check to its own address"; ok=1; }
	ck_health $vipv 10.99.0.13 | grep -q '^down (timeout)' ||
		{ echo "    via vip: want b3 down (timeout)"; ok=1; }
	ck_health $vipi 10.99.0.13 | grep -q '^down (timeout)' ||
		{ echo "    via vip (ipip): want b3 down (timeout)"; ok=1; }
	for v in $vipv $vipi; do
		for b in 11 12; do
			ck_health $v 10.99.0.$b | grep -q '^up (ok)' ||
				{ echo "    $v: 10.99.0.$b $(ck_health $v 10.99.0.$b), want up (ok)"; ok=1; }
		done
	done
	on b3 ip addr add 10.99.100.5/32 dev lo || return 1
	t0=$(date +%s%N)
	wait_health $vipv 3 up >/dev/null || { echo "    via vip: b3 not back in 10 s"; return 1; }
	wait_health $vipi 3 up >/dev/null || { echo "    via vip (ipip): b3 not back in 10 s"; return 1; }
	el=$(since "$t0")
	le "$el" 3 || { echo "    via vip: b3 back after ${el}s, want <= 3s"; ok=1; }
	echo "    VIP back on b3, up after ${el}s: via backend: $(ck_health $old 10.99.0.13)" \
		" | via vip: $(ck_health $vipv 10.99.0.13) | ipip http via vip: $(ck_health $vipi 10.99.0.13)"
	return $ok
}

# At start as at reload: a config with a `via: vip` check on a host that
# does not route the VIP out of the NIC is refused (exit 1, naming the
# route to add) before anything changes (an empty state directory: the
# file alone is the configuration); the program attached keeps
# forwarding the streams, and xlbd started again with its own config
# adopts the data plane.
t_xlbd_start_refuses_via_vip_without_route() {
	local ok=0 rc out="$TMP/via-start.out" prog
	sed '0,/^    check: {interval: 1s, \(.*\), port: 80}$/s//    check: {via: vip, interval: 1s, \1, port: 80}/' \
		"$TMP/xlbd.yaml" >"$TMP/via.yaml"
	grep -q 'via: vip' "$TMP/via.yaml" || { echo "    no check rewritten in the config"; return 1; }
	prog=$(on lb ip -j link show eth0 | jq '.[0].xdp.prog.id')
	stream_start 6 30 vs 10.99.100.1
	sleep 0.5
	kill -KILL "$XLBD_PID"
	wait "$XLBD_PID" 2>/dev/null
	timeout 20 nsenter --net="/run/netns/$P-lb" "$XLBD" -c "$TMP/via.yaml" --pin-dir "$XPIN" \
		--state-dir "$TMP/state-via" --socket "$TMP/xlbd.sock" >"$out" 2>&1
	rc=$?
	[ "$rc" = 1 ] || { echo "    xlbd exited $rc, want 1:"; sed "s/^/    /" "$out"; ok=1; }
	grep -q "no route to 10.99.100.1.*ip route add" "$out" ||
		{ echo "    the refusal does not say why:"; sed 's/^/    /' "$out"; ok=1; }
	[ "$(on lb ip -j link show eth0 | jq '.[0].xdp.prog.id')" = "$prog" ] ||
		{ echo "    the attached program changed"; ok=1; }
	ADOPT=1 xlbd_start || return 1
	wait "${CONNS[@]}"
	stream_check vs 6 330 'b[123]' || ok=1
	return $ok
}
