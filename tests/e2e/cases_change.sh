# shellcheck shell=bash
# Changes under live traffic (issue #11), sourced by run.sh, which defines
# ctl, on, bg, log, wait_health, $TMP, $LAB_TCP and $LAB_LOAD. Each case
# returns 0 or 1 and says why on "    " lines.
#
# xlb-lab-load (tests/e2e/lab_load.c) keeps long-lived streams and opens new
# connections at a steady rate against the lab's `count` servers on port 81,
# and reports every failure with its wall-clock time.

CHG_VIP=10.99.100.20:81/tcp
CHG_OTHER=10.99.100.21:80/tcp

# Start the load: $1 seconds, $2 streams, $3 new connections a second, to
# 10.99.100.20:81; its report in $TMP/load.out, its pid in LOAD_PID.
load_start() {
	# not through `on`: a function in the background is a subshell, and
	# LOAD_PID must be the client's own (SIGTERM ends it early)
	ip netns exec "$P-cl" "$LAB_LOAD" -d "$1" -s "$2" -r "$3" 10.99.100.20 81 >"$TMP/load.out" 2>&1 &
	LOAD_PID=$!
}

# Wait for the load to end; 0 when every stream counted every byte and no
# new connection failed, else 1 with the failures.
load_clean() {
	wait "$LOAD_PID"
	grep -q '^summary' "$TMP/load.out" || { echo "    load: no summary:"; sed 's/^/    /' "$TMP/load.out"; return 1; }
	if grep -qE '^fail |^stream .* (refused|reset|timeout|closed|short|error)$' "$TMP/load.out"; then
		echo "    $(grep '^summary' "$TMP/load.out")"
		grep -E '^fail |^stream .* (refused|reset|timeout|closed|short|error)$' "$TMP/load.out" |
			head -8 | sed 's/^/    /'
		return 1
	fi
	return 0
}

# Each edit an operator makes to a VIP in service, one a second, while 12
# streams run and 50 new connections a second arrive: no stream is reset and
# no connection fails, since every backend stays usable throughout. Today's
# failure this guards against: a check whose definition changed started over
# as `unknown`, and every backend left the table for a second and a half.
t_config_edits_keep_traffic() {
	local ok=0 edit srv=()
	for b in b1 b2 b3; do
		bg "$b" "$LAB_TCP" 86 "$b" http; srv+=("${PIDS[-1]}")
		bg "$b" "$LAB_TCP" 87 "$b" http; srv+=("${PIDS[-1]}")
	done
	ctl vip add $CHG_VIP check '{interval: 500ms, timeout: 200ms, rise: 1, fall: 2}' &&
		ctl backend add $CHG_VIP 10.99.0.11 && ctl backend add $CHG_VIP 10.99.0.12 || return 1
	ctl vip add $CHG_OTHER check '{interval: 500ms, timeout: 200ms, rise: 1, fall: 2}' || return 1
	for b in 11 12 13; do ctl backend add $CHG_OTHER 10.99.0.$b || return 1; done
	wait_health $CHG_VIP 2 up && wait_health $CHG_OTHER 3 up || return 1
	load_start 21 12 50
	sleep 1.5
	while read -r edit; do
		# shellcheck disable=SC2086 # the edit is words
		eval ctl $edit >"$TMP/edit.out" 2>&1 || { echo "    '$edit' refused: $(cat "$TMP/edit.out")"; ok=1; }
		sleep 1
	done <<EDITS
vip set $CHG_VIP check '{type: http, path: /, port: 86}'
vip set $CHG_VIP check '{path: /other}'
vip set $CHG_VIP check '{port: 87}'
vip set $CHG_VIP check '{interval: 300ms, timeout: 150ms}'
backend set $CHG_VIP 10.99.0.12 check '{interval: 400ms}'
backend set $CHG_VIP 10.99.0.11 weight 3
backend add $CHG_VIP 10.99.0.13
backend del $CHG_OTHER 10.99.0.13
vip set $CHG_VIP on-empty drop
vip set $CHG_VIP slow-start 2s
vip set $CHG_VIP panic-threshold 50
vip set $CHG_VIP outlier off
vip set $CHG_VIP outlier '{threshold: 60%, window: 5s}'
vip set $CHG_VIP outlier on
vip set $CHG_OTHER table-size 251
vip set $CHG_VIP check '{type: tcp, port: 81}'
EDITS
	load_clean || ok=1
	# the edits did what they say: b3 joined and takes new connections
	grep -q '^backend b3 [1-9]' "$TMP/load.out" || { echo "    the added b3 took no connection"; ok=1; }
	ctl vip del $CHG_VIP
	ctl vip del $CHG_OTHER
	kill "${srv[@]}" 2>/dev/null
	return $ok
}

# xlbd's own memory in kB: RssAnon, not VmRSS. Counting live flows maps
# the whole flow table (64 MiB at the default size) for a moment, and a
# scrape that does it just then would read as growth that is not xlbd's.
xlbd_rss() { awk '/^RssAnon/ {print $2}' "/proc/$XLBD_PID/status"; }

# Failures of new connections in $TMP/load.out outside every window
# [kill, kill + $2 ms] of the kill times (ms) listed in file $1.
conn_fails_outside() {
	awk -v w="$2" 'NR == FNR { k[NR] = $1; n = NR; next }
		$1 == "fail" && $3 == "conn" { for (i = 1; i <= n; i++) if ($2 >= k[i] && $2 <= k[i] + w) next; print }' \
		"$1" "$TMP/load.out"
}

# Chaos under load: 20 streams and 50 new connections a second while 200
# applies of alternating configs run beside a control client that trickles
# a byte every 150 ms, xlbd is SIGKILLed and restarted 10 times, and b3's
# server is killed and restarted at random. Streams to b1 and b2 (never
# killed) all finish whole; a new connection fails only within fall x
# interval + timeout (+ a tick and slack) of a kill of b3; xlbd's anonymous
# RSS after 200 applies is within 10% of what it was after 10.
t_chaos_under_load() {
	local ok=0 i f t0 rss10= rss200= trickle srv kills="$TMP/kills"
	: >"$kills"
	ctl vip add $CHG_VIP check '{interval: 500ms, timeout: 200ms, rise: 1, fall: 2}' || return 1
	for b in 11 12 13; do ctl backend add $CHG_VIP 10.99.0.$b || return 1; done
	wait_health $CHG_VIP 3 up || return 1
	ctl config dump >"$TMP/chaos-a.yaml" || return 1
	# B: b1 of the chaos VIP weighs 2 (a table change on every apply)
	awk '/- address: 10.99.100.20$/ { in_v = 1 } in_v && /- address: 10.99.0.11$/ { nextw = 1 }
		nextw && /weight:/ { sub(/weight: [0-9]+/, "weight: 2"); nextw = in_v = 0 } { print }' \
		"$TMP/chaos-a.yaml" >"$TMP/chaos-b.yaml"
	grep -q 'weight: 2' "$TMP/chaos-b.yaml" || { echo "    could not make config B"; return 1; }
	# A byte every 100 ms, reconnecting whenever xlbd hangs up on it; its
	# own process group, so the kill takes the loop and socat alike.
	setsid bash -c 'while :; do (while :; do printf x; sleep 0.1; done) |
		socat -u - "UNIX-CONNECT:$1" 2>/dev/null; sleep 0.1; done' _ "$TMP/xlbd.sock" &
	trickle=$!
	sleep 0.5
	t0=$(date +%s%N)
	timeout 5 "$XLBCTL" -s "$TMP/xlbd.sock" status >/dev/null || ok=1
	le "$(since "$t0")" 1 || { echo "    status beside a trickling client took $(since "$t0") s"; ok=1; }
	load_start 300 20 50
	sleep 1
	for i in $(seq 200); do
		f="$TMP/chaos-a.yaml"; [ $((i % 2)) = 0 ] && f="$TMP/chaos-b.yaml"
		timeout 5 "$XLBCTL" -s "$TMP/xlbd.sock" apply -f "$f" >"$TMP/apply.out" 2>&1 ||
			{ echo "    apply $i failed: $(head -3 "$TMP/apply.out")"; ok=1; break; }
		[ "$i" = 10 ] && rss10=$(xlbd_rss)
	done
	rss200=$(xlbd_rss)
	for i in $(seq 10); do
		kill -KILL "$XLBD_PID"
		wait "$XLBD_PID" 2>/dev/null
		ADOPT=1 xlbd_start >/dev/null || { echo "    restart $i failed"; ok=1; break; }
		sleep 0.$((RANDOM % 10))
	done
	srv=$(on b3 ss -Hltnp "sport = :81" | grep -o 'pid=[0-9]*' | cut -d= -f2 | head -1)
	for i in 1 2 3; do
		sleep 1.$((RANDOM % 10))
		# the time first: forking date after the kill would be late
		[ -n "$srv" ] && date +%s%3N >>"$kills" && kill "$srv"
		sleep 2.$((RANDOM % 10))
		bg b3 "$LAB_TCP" 81 b3 count
		srv=${PIDS[-1]}
		wait_health $CHG_VIP 3 up >/dev/null || {
			echo "    b3 did not come back ($i):"
			ctl backend list $CHG_VIP | sed 's/^/      /'
			ctl events | grep -F "$CHG_VIP" | tail -6 | sed 's/^/      /'
			ok=1
		}
	done
	kill -TERM "$LOAD_PID"
	kill -- -"$trickle" 2>/dev/null
	wait "$LOAD_PID"
	grep -q '^summary' "$TMP/load.out" || { echo "    load: no summary"; return 1; }
	grep -E '^stream [0-9]+ b[12] ' "$TMP/load.out" | grep -v ' ok$' | head -5 | sed 's/^/    stream to a healthy backend: /' | grep . && ok=1
	# fall 2 x 500 ms (+10% jitter) + 200 ms timeout + a 200 ms tick + 1 s slack
	conn_fails_outside "$kills" 2600 | head -5 | sed 's/^/    new connection failed outside a kill window: /' | grep . && ok=1
	[ -n "$rss10" ] && [ $((rss200 * 10)) -le $((rss10 * 11)) ] ||
		{ echo "    RSS after 10 applies ${rss10:-?} kB, after 200 ${rss200:-?} kB (> +10%)"; ok=1; }
	echo "    $(grep '^summary' "$TMP/load.out"), rss ${rss10} -> ${rss200} kB"
	ctl vip del $CHG_VIP
	return $ok
}

# The model: the running configuration is what a restart restores; the file
# is applied only by reload. `reload --dry-run` and `apply -f --dry-run`
# show what they would change (a VIP made with xlbctl would go, with its live
# flows) and change nothing; the real reload says what it changed.
t_reload_and_apply_dry_run() {
	local ok=0 v=10.99.100.8:81/tcp out
	ctl vip add $v check '{interval: 500ms, timeout: 200ms, rise: 1}' &&
		ctl backend add $v 10.99.0.13 || return 1
	wait_health $v 1 up || return 1
	stream_start 1 40 dry 10.99.100.8
	streams_connected dry 1 || ok=1
	out=$(ctl reload --dry-run) || { echo "    reload --dry-run refused: $out"; return 1; }
	echo "$out" | grep -qE "^- vip +$v \(1 live flows\)$" ||
		{ echo "    reload --dry-run does not name $v with its flow:"; echo "$out" | sed 's/^/    /'; ok=1; }
	echo "$out" | grep -qE '^dry run: [0-9]+ changes?, nothing applied$' || { echo "    no dry-run summary"; ok=1; }
	ctl vip list | grep -q "10.99.100.8:81/tcp" || { echo "    the dry run removed $v"; ok=1; }
	ctl config dump >"$TMP/dry.yaml" || return 1
	sed 's/^\(  *\)weight: 1$/\1weight: 2/' "$TMP/dry.yaml" >"$TMP/dry2.yaml"
	out=$(ctl apply -f "$TMP/dry2.yaml" --dry-run) || { echo "    apply --dry-run refused: $out"; return 1; }
	echo "$out" | grep -qE "^~ backend $v 10.99.0.13: weight 1 -> 2$" ||
		{ echo "    apply --dry-run:"; echo "$out" | head -5 | sed 's/^/    /'; ok=1; }
	ctl config dump | cmp -s - "$TMP/dry.yaml" || { echo "    apply --dry-run changed the config"; ok=1; }
	out=$(ctl reload) || { echo "    reload refused: $out"; return 1; }
	echo "$out" | grep -qE "^- vip +$v \(1 live flows\)$" && echo "$out" | grep -qE '^[0-9]+ changes? applied$' ||
		{ echo "    reload:"; echo "$out" | sed 's/^/    /'; ok=1; }
	ctl vip list | grep "^$v " | grep -qv 'deleted:' && { echo "    reload kept $v"; ok=1; }
	grep -q "reload: - vip $v (1 live flows)" "$TMP/xlbd.log" || { echo "    the removal is not logged"; ok=1; }
	wait "${CONNS[@]}" 2>/dev/null
	return $ok
}


# A reload is read and checked off the event loop (issue #15): while the
# file cannot be read yet (a FIFO nobody writes), xlbd answers status and
# keeps checking; once the file comes, the reload applies and says so.
t_reload_reads_off_the_loop() {
	local ok=0 pid before after out
	lc() { timeout 3 "$XLBCTL" -s "$TMP/xlbd.sock" -j status 2>/dev/null |
		grep -o '"last_check": *[0-9]*' | grep -o '[0-9]*$' | sort -n | tail -1; }
	before=$(lc)
	cp "$TMP/xlbd.yaml" "$TMP/fifo-good.yaml"
	rm -f "$TMP/xlbd.yaml"
	mkfifo "$TMP/xlbd.yaml"
	ctl reload >"$TMP/fifo-reload.out" 2>&1 &
	pid=$!
	sleep 2.5
	out=$(timeout 3 "$XLBCTL" -s "$TMP/xlbd.sock" status 2>&1) ||
		{ echo "    status does not answer while a reload waits for its file: $out" | head -2; ok=1; }
	after=$(lc)
	[ -n "$before" ] && [ -n "$after" ] && [ "$after" -gt "$before" ] ||
		{ echo "    checks stopped while the reload waited: last check ${before:-?}, then ${after:-?}"; ok=1; }
	kill -0 "$pid" 2>/dev/null || { echo "    the reload answered before its file came"; ok=1; }
	cat "$TMP/fifo-good.yaml" >"$TMP/xlbd.yaml"
	wait "$pid" || { echo "    reload failed:"; sed 's/^/    /' "$TMP/fifo-reload.out"; ok=1; }
	grep -q 'changes\? applied\|nothing to change\|no change' "$TMP/fifo-reload.out" ||
		{ echo "    reload said:"; sed 's/^/    /' "$TMP/fifo-reload.out"; }
	rm -f "$TMP/xlbd.yaml"
	cp "$TMP/fifo-good.yaml" "$TMP/xlbd.yaml"
	return $ok
}
