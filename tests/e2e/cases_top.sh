# shellcheck shell=bash
# Cases for `xlbctl stats -i` and `xlbctl top`, sourced by run.sh, which
# defines ctl, many, on, log, $TMP and $XLBCTL. Each case returns 0 or 1 and
# says why on "    " lines.
#
# xlbctl stats -i prints, per sample, a line "HH:MM:SS  interval 1.000 s",
# a VIP table (vip packets/s bytes/s bits/s new_flows/s no_backend_packets/s)
# and a backend table (vip address packets/s bytes/s bits/s), "-" where a
# row has no rate. xlbctl top shows one line per VIP, starting in column 0,
# then its backends, indented: "  ADDRESS  PKTS/S  BITS/S ...".

TOP_VIP=10.99.100.1:80/tcp

# The backends of VIP $1 the data plane sends to (state active), one a line.
active_backends() {
	ctl backend list "$1" | awk -v v="$1" '$1 == v && $6 == "active" {print $2}'
}

# Connections to 10.99.100.1:80 for about $1 seconds, in the background
# (TRAFFIC_PID); `wait "$TRAFFIC_PID"` before the case returns, so no
# connection of this case lands in the counters of the next one.
traffic_for() {
	(
		end=$((SECONDS + $1))
		while [ "$SECONDS" -lt "$end" ]; do many 10.99.100.1 80 20 >/dev/null; done
	) &
	TRAFFIC_PID=$!
}

# True when $1 is a rate above zero ("0", "0.0", "-" and "" are not).
nonzero() {
	awk -v p="$1" 'BEGIN { exit !(p ~ /^[0-9.]+[kMGTP]?$/ && p + 0 > 0) }'
}

t_xlbctl_stats_rate() {
	local ok=0 rc out="$TMP/stats-rate" bes be pps
	bes=$(active_backends $TOP_VIP)
	[ -n "$bes" ] || { echo "    no active backend in $TOP_VIP:"; ctl backend list $TOP_VIP | sed 's/^/    /'; return 1; }
	traffic_for 4
	sleep 0.5
	ctl stats -i 1 -c 2 >"$out" 2>&1
	rc=$?
	ctl -j stats -i 0.5 -c 1 >"$out.json" 2>&1 || rc=$?
	wait "$TRAFFIC_PID"
	[ "$rc" = 0 ] || { echo "    xlbctl stats -i exited $rc"; ok=1; }
	[ "$(grep -c ' interval ' "$out")" = 2 ] || { echo "    not 2 samples"; ok=1; }
	# The last sample: its lines come after the first one's.
	for be in $bes; do
		pps=$(awk -v v=$TOP_VIP -v a="$be" '$1 == v && $2 == a {p = $3} END {print p}' "$out")
		nonzero "$pps" || { echo "    $be: packets/s '$pps' in the last sample"; ok=1; }
	done
	[ "$(wc -l <"$out.json")" = 1 ] && grep -q '"vip":"10.99.100.1:80/tcp","address":"10.99.0.1[123]","packets":[0-9]*,"bytes":[0-9]*,"packets_per_s":[0-9.]*,"bytes_per_s":[0-9.]*,"bits_per_s":' "$out.json" ||
		{ echo "    -j stats -i 0.5 -c 1:"; sed 's/^/    /' "$out.json"; ok=1; }
	[ $ok = 0 ] || sed 's/^/    /' "$out"
	return $ok
}

# A private tmux server: the case neither sees nor touches anyone's sessions.
top_tmux() { env -u TMUX tmux -L "$P-top" -f /dev/null "$@"; }

t_xlbctl_top_in_tmux() {
	local ok=0 screen="$TMP/top-screen" bes be pps cmd
	command -v tmux >/dev/null || { echo "    no tmux (make deps installs it)"; return 1; }
	bes=$(active_backends $TOP_VIP)
	[ -n "$bes" ] || { echo "    no active backend in $TOP_VIP"; return 1; }
	rm -f "$TMP/top.rc" "$TMP/top.err"
	top_tmux kill-server 2>/dev/null
	# The pane's shell keeps top's exit code and errors; the session ends with it.
	cmd=$(printf 'TERM=screen %q -s %q top 2>%q; echo $? >%q' "$XLBCTL" "$TMP/xlbd.sock" \
		"$TMP/top.err" "$TMP/top.rc")
	top_tmux new-session -d -s xlbtop -x 160 -y 50 "$cmd" || { echo "    tmux new-session failed"; return 1; }
	traffic_for 4
	sleep 3.5 # top refreshes every second: three with traffic
	top_tmux capture-pane -p -t xlbtop >"$screen" 2>&1
	# Each backend's line under the VIP's (VIP lines start in column 0).
	for be in $bes; do
		pps=$(awk -v v=$TOP_VIP -v a="$be" '/^[^ ]/ {in_vip = ($1 == v)} in_vip && $1 == a {print $2; exit}' "$screen")
		nonzero "$pps" || { echo "    $be: packets/s '$pps' on the screen"; ok=1; }
	done
	[ $ok = 0 ] || sed 's/^/    | /' "$screen" | grep -v '^    | *$'
	top_tmux send-keys -t xlbtop q 2>/dev/null
	for _ in $(seq 20); do top_tmux has-session -t xlbtop 2>/dev/null || break; sleep 0.1; done
	if top_tmux has-session -t xlbtop 2>/dev/null; then
		echo "    top still running 2 s after q"
		ok=1
	elif [ "$(cat "$TMP/top.rc" 2>/dev/null)" != 0 ]; then
		echo "    top exited '$(cat "$TMP/top.rc" 2>/dev/null)': $(cat "$TMP/top.err" 2>/dev/null)"
		ok=1
	fi
	top_tmux kill-server 2>/dev/null
	rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$P-top"
	wait "$TRAFFIC_PID"
	return $ok
}
