# shellcheck shell=bash
# The agent in a fleet (issue #13): its heartbeat, xlb-guard withdrawing a
# silent agent's routes, and systemd's readiness and watchdog protocol.
# Sourced by run.sh, which defines on, bg_net, ctl, xlbd_start, $BUILD, $P,
# $XPIN, $TMP, $XLBD and $XLBD_PID. Each case returns 0 or 1 and says why on
# "    " lines.

LAB_BEAT=$(realpath "$BUILD/tests/xlb-lab-beat")
LAB_NOTIFY=$(realpath "$BUILD/tests/xlb-lab-notify")
XLB_GUARD=$(realpath "$BUILD/xlb-guard")
GPIN=/sys/fs/bpf/$P-guard # the guard cases' own "agent" pin dir
# xlb-guard after setup: CAP_NET_ADMIN (12) and CAP_BPF (39) only.
GUARD_CAPS=0000008000001000

# Field $1 of the beat pinned in $2 ("pid P age_ms A hold_ms H table T ...").
beat_field() { "$LAB_BEAT" read "$2" | awk -v f="$1" '{ for (i = 1; i < NF; i++) if ($i == f) print $(i + 1) }'; }

# The running xlbd beats at every tick of its loop (200 ms): its pid, no
# announce table here (the lab config has no announce block), a fresh
# beat; stopped (SIGSTOP: a hung loop), it stops beating; continued, it
# beats again. xlb-guard --once sees an agent that announces nothing.
t_xlbd_beats() {
	local ok=0 age
	[ "$(beat_field pid "$XPIN")" = "$XLBD_PID" ] ||
		{ echo "    beat pid '$(beat_field pid "$XPIN")', xlbd is $XLBD_PID"; ok=1; }
	[ "$(beat_field table "$XPIN")" = 0 ] || { echo "    announce table in the beat without announce:"; ok=1; }
	age=$(beat_field age_ms "$XPIN")
	[ -n "$age" ] && [ "$age" -le 600 ] || { echo "    the beat is ${age:-?} ms old, want at most 3 ticks"; ok=1; }
	kill -STOP "$XLBD_PID"
	sleep 1.2
	age=$(beat_field age_ms "$XPIN")
	kill -CONT "$XLBD_PID"
	[ -n "$age" ] && [ "$age" -ge 1000 ] || { echo "    stopped 1.2 s, the beat is ${age:-?} ms old"; ok=1; }
	sleep 0.5
	age=$(beat_field age_ms "$XPIN")
	[ -n "$age" ] && [ "$age" -le 600 ] || { echo "    continued, the beat is ${age:-?} ms old"; ok=1; }
	nsenter --net="/run/netns/$P-lb" "$XLB_GUARD" --once --pin-dir "$XPIN" >"$TMP/guard-once" 2>&1 ||
		{ echo "    xlb-guard --once failed: $(cat "$TMP/guard-once")"; ok=1; }
	grep -q "agent pid $XLBD_PID: .*not announcing" "$TMP/guard-once" ||
		{ echo "    xlb-guard --once: $(cat "$TMP/guard-once")"; ok=1; }
	return $ok
}

# In the LB's namespace: the agent's routes (table 9641, protocol 250) and
# routes it must never touch (same table, other protocols; same protocol,
# another table).
guard_routes() {
	on lb ip route add 10.99.200.1/32 dev lo table 9641 proto 250 &&
		on lb ip -6 route add fd99:200::1/128 dev lo table 9641 proto 250 &&
		on lb ip route add 10.99.200.2/32 dev lo table 9641 proto 251 &&
		on lb ip -6 route add fd99:200::2/128 dev lo table 9641 proto static &&
		on lb ip route add 10.99.200.3/32 dev lo table 100 proto 250
}
ours() { { on lb ip route show table 9641 proto 250; on lb ip -6 route show table 9641 proto 250; } | grep -c .; }
foreign() {
	{ on lb ip route show table 9641 proto 251; on lb ip -6 route show table 9641 proto static
	  on lb ip route show table 100 proto 250; } | grep -c .
}
guard_clean() {
	on lb ip route flush table 9641 2>/dev/null; on lb ip -6 route flush table 9641 2>/dev/null
	on lb ip route flush table 100 2>/dev/null
	rm -f "$GPIN/beat"; rmdir "$GPIN" 2>/dev/null
}

# An agent beating every 200 ms with hold $1 ms, in the background.
beater_start() {
	( while :; do "$LAB_BEAT" write "$GPIN" 0 "$1" 9641 250 4242 || exit 1; sleep 0.2; done ) &
	BEATER=$!
	PIDS+=("$BEATER")
}

# xlb-guard (every 200 ms) next to an agent that beats (hold 2 s): the
# routes stay. The agent goes silent: within hold + 2 s (not before hold)
# its routes go, both families, and only those; the guard says so, and
# says when beats resume, without adding anything back. It holds
# CAP_NET_ADMIN and CAP_BPF only.
t_guard_withdraws_a_silent_agent() {
	local ok=0 guard t0 gone="" i
	guard_clean
	mkdir -p "$GPIN"
	guard_routes || { echo "    couldn't add the lab routes"; guard_clean; return 1; }
	beater_start 2000
	sleep 0.3
	bg_net lb "$XLB_GUARD" --pin-dir "$GPIN" --interval 200 >"$TMP/guard.log" 2>&1
	guard=${PIDS[-1]}
	sleep 2.5
	[ "$(awk '/^CapEff:/ {print $2}' "/proc/$guard/status")" = $GUARD_CAPS ] ||
		{ echo "    xlb-guard CapEff $(awk '/^CapEff:/ {print $2}' "/proc/$guard/status"), want $GUARD_CAPS"; ok=1; }
	[ "$(awk '/^CapPrm:/ {print $2}' "/proc/$guard/status")" = $GUARD_CAPS ] ||
		{ echo "    xlb-guard CapPrm $(awk '/^CapPrm:/ {print $2}' "/proc/$guard/status")"; ok=1; }
	[ "$(ours)" = 2 ] || { echo "    beating agent: $(ours) of its 2 routes left"; ok=1; }
	kill "$BEATER"; wait "$BEATER" 2>/dev/null
	# the last beat, now: the silence starts here however slow the loop was
	"$LAB_BEAT" write "$GPIN" 0 2000 9641 250 4242 || ok=1
	t0=$(date +%s%N)
	sleep 1
	[ "$(ours)" = 2 ] || { echo "    silent 1 s (hold 2 s): $(ours) of 2 routes left"; sed "s/^/    /" "$TMP/guard.log"; ok=1; }
	for i in $(seq 40); do
		[ "$(ours)" = 0 ] && { gone=$(( ($(date +%s%N) - t0) / 1000000 )); break; }
		sleep 0.1
	done
	[ -n "$gone" ] && [ "$gone" -le 4000 ] || { echo "    silent 4 s (hold 2 s): $(ours) routes left"; ok=1; }
	[ "$(foreign)" = 3 ] || { echo "    foreign routes: $(foreign) of 3 left"; ok=1; }
	grep -q "agent silent for .* (pid 4242): withdrew 2 routes from table 9641" "$TMP/guard.log" ||
		{ echo "    guard log:"; sed 's/^/    /' "$TMP/guard.log"; ok=1; }
	beater_start 2000
	for i in $(seq 20); do grep -q "agent beats again (pid 4242)" "$TMP/guard.log" && break; sleep 0.1; done
	grep -q "agent beats again (pid 4242)" "$TMP/guard.log" || { echo "    no word of the beats resuming"; ok=1; }
	[ "$(ours)" = 0 ] || { echo "    the guard added routes back"; ok=1; }
	[ "$(grep -c withdrew "$TMP/guard.log")" = 1 ] || { echo "    withdrew more than once"; ok=1; }
	kill "$BEATER" "$guard"; wait "$BEATER" "$guard" 2>/dev/null
	guard_clean
	return $ok
}

# No beat pinned (no agent yet): the guard leaves every route; --once on a
# stale beat withdraws the agent's and only those.
t_guard_once_without_and_with_a_stale_agent() {
	local ok=0
	guard_clean
	mkdir -p "$GPIN"
	guard_routes || { echo "    couldn't add the lab routes"; guard_clean; return 1; }
	nsenter --net="/run/netns/$P-lb" "$XLB_GUARD" --once --pin-dir "$GPIN" >"$TMP/guard-once" 2>&1 ||
		{ echo "    --once without a beat failed"; ok=1; }
	grep -q "no agent beat" "$TMP/guard-once" || { echo "    --once: $(cat "$TMP/guard-once")"; ok=1; }
	[ "$(ours)" = 2 ] || { echo "    no agent: $(ours) of 2 routes left"; ok=1; }
	"$LAB_BEAT" write "$GPIN" 800 1000 9641 250 4343 || ok=1
	nsenter --net="/run/netns/$P-lb" "$XLB_GUARD" --once --pin-dir "$GPIN" >"$TMP/guard-once" 2>&1
	[ "$(ours)" = 2 ] || { echo "    beat 0.8 s old, hold 1 s: $(ours) of 2 routes left"; ok=1; }
	"$LAB_BEAT" write "$GPIN" 5000 1000 9641 250 4343 || ok=1
	nsenter --net="/run/netns/$P-lb" "$XLB_GUARD" --once --pin-dir "$GPIN" >"$TMP/guard-once" 2>&1 ||
		{ echo "    --once on a stale beat failed: $(cat "$TMP/guard-once")"; ok=1; }
	[ "$(ours)" = 0 ] || { echo "    stale beat: $(ours) routes left"; ok=1; }
	[ "$(foreign)" = 3 ] || { echo "    foreign routes: $(foreign) of 3 left"; ok=1; }
	grep -q "withdrew 2 routes from table 9641" "$TMP/guard-once" ||
		{ echo "    --once: $(cat "$TMP/guard-once")"; ok=1; }
	guard_clean
	return $ok
}

# Lines of the notify log with $1 (a field), from line $2 on.
notes() { tail -n +"${2:-1}" "$TMP/notify.log" | grep -c -- "$1"; }

# systemd's protocol without systemd (none runs as PID 1 here): xlbd
# started afresh (detached first, so it loads and attaches again) with
# NOTIFY_SOCKET at a socket of the test's and WATCHDOG_USEC=1 s. READY=1
# comes once the program is attached (checked when it arrives), with a
# status line; WATCHDOG=1 comes every half interval from the loop, stops
# while xlbd is SIGSTOPped (a hung loop) and comes again on SIGCONT; a
# SIGHUP is RELOADING=1 then READY=1; SIGTERM says STOPPING=1. Then the
# suite's xlbd is back (adopting).
t_xlbd_sd_notify() {
	local ok=0 listener from n
	kill -TERM "$XLBD_PID"; wait "$XLBD_PID" 2>/dev/null
	"$XLBD" --detach --pin-dir "$XPIN" || { echo "    couldn't detach"; ok=1; }
	on lb ip link show eth0 | grep -q 'prog/xdp' && { echo "    still attached after detach"; ok=1; }
	"$LAB_NOTIFY" "$TMP/notify.sock" "ip -n $P-lb link show eth0 | grep -q prog/xdp" >"$TMP/notify.log" 2>&1 &
	listener=$!
	PIDS+=("$listener")
	for _ in $(seq 20); do grep -q '^ready' "$TMP/notify.log" && break; sleep 0.1; done
	export NOTIFY_SOCKET=$TMP/notify.sock WATCHDOG_USEC=1000000
	xlbd_start || ok=1
	unset NOTIFY_SOCKET WATCHDOG_USEC
	for _ in $(seq 30); do [ "$(notes READY=1)" -ge 1 ] && break; sleep 0.1; done
	grep -q '^on-ready rc=0' "$TMP/notify.log" ||
		{ echo "    READY=1 before the program was attached (or never):"; sed 's/^/    /' "$TMP/notify.log"; ok=1; }
	grep -m1 'READY=1' "$TMP/notify.log" | grep -q 'STATUS=forwarding on eth0: 4 VIPs, [0-9]* of [0-9]* backends in service' ||
		{ echo "    READY without the status line: $(grep -m1 READY=1 "$TMP/notify.log")"; ok=1; }
	[ "$(notes READY=1)" = 1 ] || { echo "    $(notes READY=1) READY=1 at start, want 1"; ok=1; }
	# pings every 0.5-0.6 s (half the interval, on 200 ms ticks)
	from=$(($(wc -l <"$TMP/notify.log") + 1))
	sleep 3
	n=$(notes WATCHDOG=1 "$from")
	[ "$n" -ge 4 ] && [ "$n" -le 7 ] || { echo "    $n WATCHDOG=1 in 3 s, want 4-7"; ok=1; }
	kill -STOP "$XLBD_PID"
	sleep 0.3 # one in flight at the stop
	from=$(($(wc -l <"$TMP/notify.log") + 1))
	sleep 2
	n=$(notes WATCHDOG=1 "$from")
	[ "$n" = 0 ] || { echo "    $n WATCHDOG=1 while xlbd was stopped"; ok=1; }
	kill -CONT "$XLBD_PID"
	for _ in $(seq 15); do [ "$(notes WATCHDOG=1 "$from")" -ge 1 ] && break; sleep 0.1; done
	[ "$(notes WATCHDOG=1 "$from")" -ge 1 ] || { echo "    no WATCHDOG=1 within 1.5 s of SIGCONT"; ok=1; }
	from=$(($(wc -l <"$TMP/notify.log") + 1))
	kill -HUP "$XLBD_PID"
	for _ in $(seq 30); do [ "$(notes READY=1 "$from")" -ge 1 ] && break; sleep 0.1; done
	tail -n +"$from" "$TMP/notify.log" | grep -E 'RELOADING=1|READY=1' | awk '{print $2}' | tr '\n' ' ' |
		grep -q '^RELOADING=1 READY=1 $' ||
		{ echo "    SIGHUP: $(tail -n +"$from" "$TMP/notify.log" | tr '\n' '|')"; ok=1; }
	kill -TERM "$XLBD_PID"; wait "$XLBD_PID" 2>/dev/null
	sleep 0.2
	grep -q 'STOPPING=1' "$TMP/notify.log" || { echo "    no STOPPING=1 at SIGTERM"; ok=1; }
	kill "$listener"; wait "$listener" 2>/dev/null
	ADOPT=1 xlbd_start || { echo "    xlbd did not come back"; return 1; }
	return $ok
}

# The beat record removed (xlbd --detach removes the pin dir) after the
# guard saw the agent announce: its last beat counts, so the routes that
# would attract traffic nothing forwards go once it is older than hold.
t_guard_beat_removed_counts_as_silence() {
	local ok=0 guard t0 gone=""
	guard_clean
	mkdir -p "$GPIN"
	guard_routes || { echo "    couldn't add the lab routes"; guard_clean; return 1; }
	"$LAB_BEAT" write "$GPIN" 0 1500 9641 250 4444 || ok=1
	bg_net lb "$XLB_GUARD" --pin-dir "$GPIN" --interval 200 >"$TMP/guard.log" 2>&1
	guard=${PIDS[-1]}
	sleep 0.5
	rm -f "$GPIN/beat"; rmdir "$GPIN"
	t0=$(date +%s%N)
	for _ in $(seq 40); do
		[ "$(ours)" = 0 ] && { gone=$(( ($(date +%s%N) - t0) / 1000000 )); break; }
		sleep 0.1
	done
	[ -n "$gone" ] && [ "$gone" -le 3500 ] || { echo "    beat gone 4 s ago (hold 1.5 s): $(ours) routes left"; ok=1; }
	[ "$(foreign)" = 3 ] || { echo "    foreign routes: $(foreign) of 3 left"; ok=1; }
	grep -q "beat .* is gone; the agent's last one counts (pid 4444" "$TMP/guard.log" &&
		grep -q "withdrew 2 routes from table 9641" "$TMP/guard.log" ||
		{ echo "    guard log:"; sed 's/^/    /' "$TMP/guard.log"; ok=1; }
	kill "$guard"; wait "$guard" 2>/dev/null
	guard_clean
	return $ok
}

# `xlbd --detach` with no agent running (the documented way to remove the
# data plane after stopping xlbd): the routes the last beat names go at
# once, both families, and only those; the pins go. Without it BGP would
# announce the VIPs until xlb-guard noticed the silence (hold).
t_offline_detach_withdraws_routes() {
	local ok=0
	guard_clean
	mkdir -p "$GPIN"
	guard_routes || { echo "    couldn't add the lab routes"; guard_clean; return 1; }
	"$LAB_BEAT" write "$GPIN" 0 10000 9641 250 4545 || ok=1
	nsenter --net="/run/netns/$P-lb" "$XLBD" --detach --pin-dir "$GPIN" >"$TMP/detach.out" 2>&1 ||
		{ echo "    xlbd --detach failed:"; sed 's/^/    /' "$TMP/detach.out"; ok=1; }
	[ "$(ours)" = 0 ] || { echo "    $(ours) of the agent's 2 routes left after --detach"; ok=1; }
	[ "$(foreign)" = 3 ] || { echo "    foreign routes: $(foreign) of 3 left"; ok=1; }
	grep -q "withdrew 2 announced routes" "$TMP/detach.out" || { echo "    --detach said: $(cat "$TMP/detach.out")"; ok=1; }
	[ -e "$GPIN" ] && { echo "    $GPIN still there"; ok=1; }
	guard_clean
	return $ok
}
