# Which check sees which failure (issue #16). Sourced by run.sh.

# A backend's health and last check reason on VIP $1, backend $2, from
# xlbctl status: "up (ok)".
ck_health() {
	ctl status | awk -v v="$1" -v b="$2" '$1 == v && $2 == b {
		r = ""; for (i = 12; i <= NF; i++) r = r (r ? " " : "") $i
		print $4 " (" r ")" }'
}

# The application frozen (SIGSTOP; a deadlock looks the same) while its
# kernel still completes handshakes. Two VIPs check the same servers on b1
# and b3: with a plain tcp check b3 stays up; with send/expect it goes down
# within fall x interval + timeout (+ slack); after SIGCONT it is back
# after rise good checks. Printed side by side.
t_check_frozen_app_tcp_expect() {
	local plain=10.99.100.5:91/tcp talk=10.99.100.5:92/tcp ok=0 pid b t0 el
	local timing='interval: 500ms, timeout: 300ms, rise: 2, fall: 2, port: 96'
	local p1
	bg b1 "$LAB_TCP" 96 b1 http
	p1=${PIDS[-1]}
	bg b3 "$LAB_TCP" 96 b3 http
	pid=${PIDS[-1]}
	for b in b1 b3; do
		for _ in $(seq 50); do on $b ss -Hltn "sport = :96" | grep -q . && break; sleep 0.1; done
	done
	ck_frozen_run || ok=1
	kill -CONT "$pid" 2>/dev/null
	ctl vip del $plain >/dev/null 2>&1
	ctl vip del $talk >/dev/null 2>&1
	kill "$p1" "$pid" 2>/dev/null
	return $ok
}

# The case itself; plain, talk, timing and pid are its caller's.
ck_frozen_run() {
	local ok=0 v t0 el
	ctl vip add $plain check "{$timing}" || return 1
	ctl vip add $talk check "{type: tcp, send: 'HEAD / HTTP/1.0\r\n\r\n', expect: '200 OK', $timing}" ||
		return 1
	for v in $plain $talk; do
		for b in 11 13; do ctl backend add $v 10.99.0.$b || return 1; done
		wait_health $v 2 up || return 1
	done
	kill -STOP "$pid"
	t0=$(date +%s%N)
	wait_health $talk 1 down >/dev/null || { echo "    send/expect: b3 not down in 10 s"; ok=1; }
	el=$(since "$t0")
	# fall 2 x (interval 500 ms + 10% jitter) + timeout 300 ms = 1.4 s, + 1.6 s
	# slack for a loaded host (the plain check never sees it at all)
	le "$el" 3 || { echo "    send/expect: b3 down after ${el}s, want <= 3s"; ok=1; }
	sleep 1 # the plain check has had as long again
	echo "    b3 frozen ${el}s: plain tcp: $(ck_health $plain 10.99.0.13)" \
		" | send/expect: $(ck_health $talk 10.99.0.13)"
	ck_health $plain 10.99.0.13 | grep -q '^up (ok)' ||
		{ echo "    plain tcp: a frozen b3 should pass a connect check"; ok=1; }
	ck_health $talk 10.99.0.13 | grep -q '^down (timeout waiting for reply)' ||
		{ echo "    send/expect: want down, 'timeout waiting for reply'"; ok=1; }
	ck_health $talk 10.99.0.11 | grep -q '^up (ok)' ||
		{ echo "    send/expect: b1 $(ck_health $talk 10.99.0.11), want up (ok)"; ok=1; }
	ctl events | grep "$talk" | grep 10.99.0.13 | grep -E ' up +down ' |
		grep -q 'tcp check timeout waiting for reply' ||
		{ echo "    no event naming the reason:"; ctl events | tail -3 | sed 's/^/    /'; ok=1; }
	kill -CONT "$pid"
	t0=$(date +%s%N)
	wait_health $talk 2 up >/dev/null || { echo "    send/expect: b3 not back in 10 s"; return 1; }
	el=$(since "$t0")
	# rise 2 x 550 ms, + slack
	le "$el" 3 || { echo "    send/expect: b3 back after ${el}s, want <= 3s"; ok=1; }
	echo "    b3 continued, back after ${el}s: plain tcp: $(ck_health $plain 10.99.0.13)" \
		" | send/expect: $(ck_health $talk 10.99.0.13)"
	return $ok
}

# Completed passive opens in namespace $1 (handshakes its kernel finished).
passive_opens() { on "$1" awk '/^Tcp:/ && $7 ~ /^[0-9]+$/ { print $7 }' /proc/net/snmp; }

# Plain tcp checks are half-open (issue #15): b1's kernel answers the SYN,
# the LB's kernel resets the SYN-ACK, and no connection ever reaches the
# application: with a check every 200 ms finding b1 up, b1's kernel
# completes no handshake at all (a connect() check completes one a
# check). A stopped server is down with "refused" and back up once it
# listens again, as with connect().
t_check_plain_tcp_half_open() {
	local v=10.99.100.5:93/tcp ok=0 p0 p1 pid
	grep -q 'plain tcp checks: half-open' "$TMP/xlbd.log" ||
		{ echo "    xlbd does not say its plain tcp checks are half-open:"; grep 'plain tcp' "$TMP/xlbd.log"; ok=1; }
	bg b1 "$LAB_TCP" 97 b1 http
	pid=${PIDS[-1]}
	for _ in $(seq 50); do on b1 ss -Hltn "sport = :97" | grep -q . && break; sleep 0.1; done
	ctl vip add $v check '{interval: 200ms, timeout: 150ms, rise: 1, fall: 1, port: 97}' || return 1
	ctl backend add $v 10.99.0.11 || return 1
	wait_health $v 1 up >/dev/null || { echo "    b1 not up"; ok=1; }
	p0=$(passive_opens b1)
	sleep 2
	p1=$(passive_opens b1)
	echo "    2 s of checks every 200 ms: b1 completed $((p1 - p0)) handshakes;" \
		"b1 $(ck_health $v 10.99.0.11)"
	[ "$p1" -eq "$p0" ] || { echo "    want 0: checks are not half-open"; ok=1; }
	ck_health $v 10.99.0.11 | grep -q '^up (ok)' || ok=1
	kill "$pid"
	wait_health $v 1 down >/dev/null || { echo "    b1 not down with its server stopped"; ok=1; }
	ck_health $v 10.99.0.11 | grep -q '^down (refused)' ||
		{ echo "    b1 $(ck_health $v 10.99.0.11), want down (refused)"; ok=1; }
	bg b1 "$LAB_TCP" 97 b1 http
	pid=${PIDS[-1]}
	wait_health $v 1 up >/dev/null || { echo "    b1 not back up"; ok=1; }
	kill "$pid"
	ctl vip del $v >/dev/null 2>&1
	return $ok
}
