# shellcheck shell=bash
# Least privilege (issue #11), sourced by run.sh, which defines ctl, on,
# xlbd_start, wait_health, $TMP and $XLBD_PID. Each case returns 0 or 1 and
# says why on "    " lines.

# What xlbd keeps after setup (user/xlbd/privs.c): CAP_KILL (5), CAP_SETGID
# (6), CAP_SETUID (7), CAP_BPF (39); nothing inheritable or ambient.
PRIVS_KEPT=00000080000000e0
# With an 'announce:' block CAP_NET_ADMIN (12) too: routes (cases_announce.sh).
PRIVS_KEPT_ANNOUNCE=00000080000010e0

# The capability sets of process $1 against the kept set ($2, default
# $PRIVS_KEPT); 1 with the reasons.
privs_check() {
	local pid=$1 kept=${2:-$PRIVS_KEPT} ok=0 set want got
	for set in CapEff CapPrm CapBnd CapInh CapAmb; do
		want=$kept
		case $set in CapInh | CapAmb) want=0000000000000000 ;; esac
		got=$(awk -v s="$set:" '$1 == s {print $2}' "/proc/$pid/status")
		[ "$got" = "$want" ] || { echo "    xlbd $set $got, want $want"; ok=1; }
	done
	return $ok
}

# The running xlbd holds exactly the kept set, and with it still checks
# (an exec check as nobody; one that hangs is killed at its timeout), applies
# changes (new tables) and, SIGKILLed and restarted, adopts the pins.
t_xlbd_least_privilege() {
	local v=10.99.100.5:87/tcp d="$TMP/privs" ok=0 pid
	privs_check "$XLBD_PID" || ok=1
	chmod 711 "$TMP" && mkdir -p -m 1777 "$d"
	cat >"$d/check.sh" <<SH
#!/bin/sh
id -u >"$d/uid.\$XLB_BACKEND_ADDR"
[ "\$XLB_BACKEND_ADDR" = 10.99.0.11 ] && exit 0
echo \$\$ >"$d/hang.pid"
exec sleep 30
SH
	chmod 755 "$d/check.sh"
	ctl vip add $v check "{type: exec, command: $d/check.sh, interval: 1500ms, timeout: 1s, rise: 1, fall: 1}" || return 1
	ctl backend add $v 10.99.0.11 || return 1
	ctl backend add $v 10.99.0.12 || return 1
	wait_health $v 1 up || ok=1
	wait_health $v 1 down || ok=1
	[ "$(cat "$d/uid.10.99.0.11" 2>/dev/null)" = "$(id -u nobody)" ] ||
		{ echo "    the exec check ran as uid '$(cat "$d/uid.10.99.0.11" 2>/dev/null)', want nobody's"; ok=1; }
	ctl status | grep "$v" | grep 10.99.0.12 | grep -q 'down .*timeout' ||
		{ echo "    hanging check: $(ctl status | grep "$v" | grep 10.99.0.12)"; ok=1; }
	# Killed at its timeout (1 s) although it runs as another user.
	pid=$(cat "$d/hang.pid" 2>/dev/null)
	sleep 1.2
	[ -n "$pid" ] && [ -d "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] &&
		[ "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" = "$(id -u nobody)" ] &&
		grep -q sleep "/proc/$pid/comm" 2>/dev/null &&
		{ echo "    the timed-out check (pid $pid) still runs: xlbd could not kill it"; ok=1; }
	ctl backend del $v 10.99.0.12 || ok=1 # xlbd_start waits for every backend up
	# Restart: the new xlbd adopts the pins, drops the same way, checks again.
	kill -KILL "$XLBD_PID"
	wait "$XLBD_PID" 2>/dev/null
	ADOPT=1 xlbd_start || return 1
	privs_check "$XLBD_PID" || ok=1
	wait_health $v 1 up || ok=1
	grep -q "adopted the pinned data plane" "$TMP/xlbd.log" || { echo "    did not adopt"; ok=1; }
	ctl vip del $v || ok=1
	return $ok
}
