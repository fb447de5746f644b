# shellcheck shell=bash
# The flow table's size (flow_table_size) and its statistics; sourced by
# run.sh. README "Flow table".

# ft FIELD: a field of `xlbctl -j stats`'s flow_table.
ft() { ctl -j stats | jq -r ".flow_table.$1 // 0"; }

# Connections fill the table: `used` rises by at least one entry each, hits
# and SYNs rise, and /metrics shows the same families.
t_flow_table_stats_fill_rises() {
	local ok=0 used0 used1 hits0 hits1 syns0 syns1
	[ "$(ft entries)" = 1048576 ] || { echo "    entries $(ft entries), want the default 1048576"; ok=1; }
	used0=$(ft used) hits0=$(ft hits) syns0=$(ft syns)
	many 10.99.100.1 80 40 | grep -cE '^b[123]$' | grep -qx 40 || { echo "    not all answered"; ok=1; }
	used1=$(ft used) hits1=$(ft hits) syns1=$(ft syns)
	# Most of the 40 take a new way; one whose 5-tuple (client port) an
	# earlier case's closed flow still holds takes that way again, and after
	# the chaos case that was 10 of 40 once: the fill must rise, not by 40.
	[ $((used1 - used0)) -ge 10 ] || { echo "    used $used0 -> $used1 after 40 connections"; ok=1; }
	[ $((syns1 - syns0)) -ge 40 ] || { echo "    syns $syns0 -> $syns1"; ok=1; }
	# each connection sends at least its ACK and a FIN after the SYN
	[ $((hits1 - hits0)) -ge 80 ] || { echo "    hits $hits0 -> $hits1"; ok=1; }
	ctl stats | grep -qE '^flow table +1048576 entries, [0-9]+ used' ||
		{ echo "    xlbctl stats:"; ctl stats | tail -3 | sed 's/^/    /'; ok=1; }
	scrape /metrics >"$TMP/scrape" || { echo "    no /metrics"; return 1; }
	grep -qx 'xlb_flow_table_entries 1048576' "$TMP/scrape" || { echo "    no xlb_flow_table_entries"; ok=1; }
	grep -qE '^xlb_flow_table_used [1-9][0-9]*$' "$TMP/scrape" || { echo "    no xlb_flow_table_used"; ok=1; }
	grep -qE '^xlb_flow_table_lookups_total\{result="hit"\} [1-9][0-9]*$' "$TMP/scrape" ||
		{ echo "    no hits in /metrics"; ok=1; }
	grep -qE '^xlb_flow_table_lookups_total\{result="miss"\} [0-9]+$' "$TMP/scrape" ||
		{ echo "    no misses in /metrics"; ok=1; }
	grep -qE '^xlb_flow_table_evictions_total [0-9]+$' "$TMP/scrape" || { echo "    no evictions"; ok=1; }
	promtool check metrics <"$TMP/scrape" >"$TMP/lint" 2>&1 ||
		{ echo "    promtool:"; sed 's/^/    /' "$TMP/lint" | head; ok=1; }
	return $ok
}

# A reload or apply that changes flow_table_size is refused with the way
# to resize, and changes nothing: same table, same running configuration,
# forwarding and a live stream untouched.
t_flow_table_resize_refused() {
	local ok=0 before
	cp "$TMP/xlbd.yaml" "$TMP/good.yaml"
	before=$(ctl config dump)
	stream_start 4 10 ftr 10.99.100.1
	echo "flow_table_size: 4194304" >>"$TMP/xlbd.yaml"
	ctl reload >"$TMP/out" 2>&1 && { echo "    reload with another size accepted"; ok=1; }
	grep -q "flow_table_size 1048576 -> 4194304 needs a restart with --detach.*nothing changed" \
		"$TMP/out" || { echo "    reply: $(cat "$TMP/out")"; ok=1; }
	ctl apply -f "$TMP/xlbd.yaml" >"$TMP/out" 2>&1 && { echo "    apply with another size accepted"; ok=1; }
	grep -q "flow_table_size 1048576 -> 4194304" "$TMP/out" || { echo "    apply: $(cat "$TMP/out")"; ok=1; }
	[ "$(ctl config dump)" = "$before" ] || { echo "    the running configuration changed"; ok=1; }
	[ "$(ft entries)" = 1048576 ] || { echo "    the table changed: $(ft entries)"; ok=1; }
	many 10.99.100.1 80 30 | grep -cE '^b[123]$' | grep -qx 30 || { echo "    forwarding broke"; ok=1; }
	wait "${CONNS[@]}"
	stream_check ftr 4 110 '.*' || ok=1
	cp "$TMP/good.yaml" "$TMP/xlbd.yaml"
	ctl reload >/dev/null || { echo "    reload with the running size refused"; ok=1; }
	return $ok
}

# The resize procedure the refusal names: stop xlbd, --detach, start it
# again: the file's size is taken, although the running state is restored.
# Then an agent restarted (SIGKILL) with a running state of another size
# than the pinned table's is refused, and the pinned program keeps
# forwarding. Back to the default size at the end.
t_flow_table_resize_by_detach() {
	local ok=0
	cp "$TMP/xlbd.yaml" "$TMP/good.yaml"
	echo "flow_table_size: 8190" >>"$TMP/xlbd.yaml" # rounded up to 8192
	kill -TERM "$XLBD_PID"
	wait "$XLBD_PID" 2>/dev/null
	"$XLBD" --detach --pin-dir "$XPIN" || { echo "    detach failed"; ok=1; }
	xlbd_start || return 1
	[ "$(ft entries)" = 8192 ] || { echo "    entries $(ft entries), want 8192"; ok=1; }
	ctl config dump | grep -qx 'flow_table_size: 8192' || { echo "    not in the running config"; ok=1; }
	many 10.99.100.1 80 20 | grep -cE '^b[123]$' | grep -qx 20 || { echo "    not forwarding"; ok=1; }
	# a running state that disagrees with the pinned table: refused
	kill -KILL "$XLBD_PID"
	wait "$XLBD_PID" 2>/dev/null
	sed -i 's/^flow_table_size: 8192$/flow_table_size: 16384/' "$TMP/state/running.yaml"
	nsenter --net="/run/netns/$P-lb" "$XLBD" -c "$TMP/xlbd.yaml" --pin-dir "$XPIN" \
		--state-dir "$TMP/state" --socket "$TMP/xlbd-ft.sock" >"$TMP/ft-start.log" 2>&1 &&
		{ echo "    started with another size than the pinned table's"; ok=1; }
	grep -q "couldn't adopt the flow table pinned at .* holds 8192 flows, flow_table_size asks for 16384" \
		"$TMP/ft-start.log" || { echo "    start: $(cat "$TMP/ft-start.log")"; ok=1; }
	many 10.99.100.1 80 20 | grep -cE '^b[123]$' | grep -qx 20 ||
		{ echo "    the pinned program stopped forwarding"; ok=1; }
	# back to the default: the procedure again
	cp "$TMP/good.yaml" "$TMP/xlbd.yaml"
	"$XLBD" --detach --pin-dir "$XPIN" || ok=1
	sed -i '/^flow_table_size:/d' "$TMP/state/running.yaml"
	xlbd_start || return 1
	[ "$(ft entries)" = 1048576 ] || { echo "    entries $(ft entries) after going back"; ok=1; }
	return $ok
}
