# Shared by the e2e labs (run.sh, fleet.sh): running things in a lab's
# namespaces ($P-NAME) and tallying results. Sourced; PIDS collects what
# bg/bg_net started, for the lab's cleanup.

log() { printf '  %s\n' "$*"; }

# result RC NAME [TENTHS]: tally a case; TENTHS of a second, when given, is
# its wall time (which cases make the suite long).
result() {
	local t=
	[ -n "${3:-}" ] && t=$(printf '  (%d.%d s)' $(($3 / 10)) $(($3 % 10)))
	if [ "$1" = 0 ]; then PASS=$((PASS + 1)); log "ok    $2$t"; else FAIL=$((FAIL + 1)); log "FAIL  $2$t"; fi
}

# Run the case function $1 and tally it with its wall time.
run_case() {
	local t0 rc
	t0=$(date +%s%N)
	"$1"
	rc=$?
	result $rc "${1#t_}" $((($(date +%s%N) - t0) / 100000000))
}

on() { local h=$1; shift; ip netns exec "$P-$h" "$@"; }
# Start a command in the background in a namespace; ip netns exec execs it,
# so the recorded pid is the command's own.
bg() { local h=$1; shift; ip netns exec "$P-$h" "$@" & PIDS+=($!); }
# The same, entering only the network namespace: 'ip netns exec' gives the
# command a private /sys, and pins made under it vanish when it exits.
bg_net() { local h=$1; shift; nsenter --net="/run/netns/$P-$h" "$@" & PIDS+=($!); }

# Root and network namespaces, or exit 77 (skipped) naming the suite.
lab_can_run() {
	if [ "$(id -u)" != 0 ] || ! ip netns add "$P-probe" 2>/dev/null; then
		echo "$1: needs root and network namespaces; skipped"
		exit 77
	fi
	ip netns del "$P-probe"
}
