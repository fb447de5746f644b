# shellcheck shell=bash
# Upgrades between versions (issue #11), sourced by run.sh, which defines
# ctl, on, xlbd_start, stream_start, stream_check, lb_stray, $XPIN, $TMP,
# $XLBD and $XLBD_PID. Each case returns 0 or 1 and says why on "    " lines.

# The pinned ABI record ($XPIN/abi, struct xlb_abi_info) with its version
# field set to $1: what an xlbd built with another XLB_ABI_VERSION pins.
abi_set_version() {
	local bytes
	bytes=$(bpftool -j map lookup pinned "$XPIN/abi" key 0 0 0 0 | jq -r '.value | join(" ")') || return 1
	set -- "$1" $bytes
	local v=$1; shift
	bpftool map update pinned "$XPIN/abi" key 0 0 0 0 \
		value "$1" "$2" "$3" "$4" "$v" 0 0 0 "${@:9}"
}

abi_version() {
	bpftool -j map lookup pinned "$XPIN/abi" key 0 0 0 0 | jq -r '.value[4]' | xargs printf '%d'
}

# xlbd SIGKILLed while 10 streams run; the pins now say another ABI version
# (a newer build pinned them): the new xlbd refuses loudly, exits, changes
# nothing, and the attached program keeps forwarding every stream. Then pins
# from before ABI records existed (no record) are adopted as version 1.
t_xlbd_upgrade_other_abi_refused() {
	local ok=0 stray prog rc mine out="$TMP/upgrade.out"
	mine=$(abi_version) || { echo "    no ABI record pinned at $XPIN/abi"; return 1; }
	[ "$mine" -ge 1 ] || { echo "    ABI version '$mine'"; return 1; }
	prog=$(on lb ip -j link show eth0 | jq '.[0].xdp.prog.id')
	stray=$(lb_stray)
	stream_start 10 30 abi 10.99.100.1
	sleep 0.5
	kill -KILL "$XLBD_PID"
	wait "$XLBD_PID" 2>/dev/null
	abi_set_version $((mine + 1)) || { echo "    couldn't rewrite the ABI record"; return 1; }
	timeout 20 nsenter --net="/run/netns/$P-lb" "$XLBD" -c "$TMP/xlbd.yaml" --pin-dir "$XPIN" \
		--state-dir "$TMP/state" --socket "$TMP/xlbd.sock" >"$out" 2>&1
	rc=$?
	[ "$rc" = 1 ] || { echo "    xlbd exited $rc, want 1"; ok=1; }
	grep -q "its maps have ABI version $((mine + 1)); this xlbd .* reads ABI version $mine only" "$out" &&
		grep -q "the XDP program attached keeps forwarding" "$out" &&
		grep -q "xlbd --detach --pin-dir $XPIN" "$out" ||
		{ echo "    refusal:"; sed 's/^/    /' "$out"; ok=1; }
	[ "$(on lb ip -j link show eth0 | jq '.[0].xdp.prog.id')" = "$prog" ] ||
		{ echo "    the attached program changed"; ok=1; }
	[ "$(abi_version)" = $((mine + 1)) ] || { echo "    the ABI record was changed"; ok=1; }
	wait "${CONNS[@]}"
	stream_check abi 10 330 '.*' || ok=1
	[ "$(lb_stray)" = "$stray" ] || { echo "    VIP packets reached the LB's stack"; ok=1; }
	# Pins of the same layout without a record (made before records existed).
	rm -f "$XPIN/abi"
	ADOPT=1 xlbd_start || return 1
	grep -q "adopted the pinned data plane" "$TMP/xlbd.log" || { echo "    did not adopt"; ok=1; }
	[ "$(abi_version)" = "$mine" ] || { echo "    no ABI record $mine written on adoption"; ok=1; }
	return $ok
}

# Pins without a record whose layout is not this build's (a map's value
# size changed without a version bump): refused, the pins left as they are.
t_xlbd_upgrade_other_layout_refused() {
	local ok=0 dir=$XPIN-layout out="$TMP/layout.out" rc
	rm -rf "$dir" && mkdir -p "$dir" || return 1
	bpftool map create "$dir/vips" type hash key 20 value 8 entries 16 name vips || return 1
	timeout 20 nsenter --net="/run/netns/$P-lb" "$XLBD" -c "$TMP/xlbd.yaml" --pin-dir "$dir" \
		--state-dir "$TMP/state-layout" --socket "$TMP/layout.sock" --metrics off >"$out" 2>&1
	rc=$?
	[ "$rc" = 1 ] || { echo "    xlbd exited $rc, want 1"; ok=1; }
	grep -q "its maps have another layout than version 1's (.*)" "$out" ||
		{ echo "    refusal:"; sed 's/^/    /' "$out"; ok=1; }
	[ "$(ls "$dir")" = vips ] || { echo "    the pins changed: $(ls "$dir" | tr '\n' ' ')"; ok=1; }
	rm -rf "$dir" "$TMP/state-layout"
	return $ok
}
