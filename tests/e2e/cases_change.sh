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
	on cl "$LAB_LOAD" -d "$1" -s "$2" -r "$3" 10.99.100.20 81 >"$TMP/load.out" 2>&1 &
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
	load_start 18 12 50
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
