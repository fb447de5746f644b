#!/bin/bash
# make install into a staging directory (DESTDIR), check the tree it makes,
# then make uninstall and check that it took back what it put there.
set -u
STAGE=$(mktemp -d /tmp/xlb-install.XXXXXX)
W=$(mktemp -d /tmp/xlb-install-work.XXXXXX) # scratch files, outside the tree
trap 'rm -rf "$STAGE" "$W"' EXIT
PASS=0
FAIL=0
result() {
	if [ "$1" = 0 ]; then PASS=$((PASS + 1)); printf '  ok    %s\n' "$2"
	else FAIL=$((FAIL + 1)); printf '  FAIL  %s\n' "$2"; fi
}
mk() { make --no-print-directory -s "$@" DESTDIR="$STAGE" PREFIX=/usr SYSCONFDIR=/etc >"$W/log" 2>&1; }

mk install
result $? "make install DESTDIR=... PREFIX=/usr"
want="usr/sbin/xlbd usr/sbin/xlbctl usr/sbin/xlb-decap usr/sbin/xlb-guard usr/share/man/man8/xlbd.8
usr/share/man/man8/xlbctl.8 usr/share/man/man8/xlb-guard.8
usr/lib/systemd/system/xlbd.service usr/lib/systemd/system/xlb-guard.service
usr/share/bash-completion/completions/xlbctl
etc/xlb/xlb.yaml.example etc/default/xlbd"
ok=0
for f in $want; do [ -s "$STAGE/$f" ] || { echo "    missing $f"; ok=1; }; done
result $ok "every file in place"

ok=0
for b in xlbd xlbctl xlb-guard; do
	[ -x "$STAGE/usr/sbin/$b" ] && "$STAGE/usr/sbin/$b" --version | grep -q "^$b " ||
		{ echo "    $b --version"; ok=1; }
	man -l "$STAGE/usr/share/man/man8/$b.8" 2>/dev/null | grep -q "$b" ||
		grep -q '^\.TH' "$STAGE/usr/share/man/man8/$b.8" || { echo "    $b.8 is no man page"; ok=1; }
done
"$STAGE/usr/sbin/xlb-decap" --version | grep -q '^xlb-decap ' || { echo "    xlb-decap --version"; ok=1; }
result $ok "binaries run, man pages are man pages"

unit=$STAGE/usr/lib/systemd/system/xlbd.service
ok=0
grep -q '^ExecStart=/usr/sbin/xlbd -c /etc/xlb/xlb.yaml' "$unit" || { echo "    ExecStart"; ok=1; }
grep -q '^Restart=on-failure' "$unit" || { echo "    no Restart=on-failure"; ok=1; }
# readiness and liveness through sd_notify (user/xlbd/notify.c)
for opt in Type=notify NotifyAccess=main WatchdogSec=5s; do
	grep -qx "$opt" "$unit" || { echo "    no $opt"; ok=1; }
done
grep -qE '@[A-Z_]+@' "$unit" && { echo "    unsubstituted @...@ in the unit"; ok=1; }
grep -q 'XLBD_DETACH_ON_STOP' "$unit" && grep -q '^XLBD_DETACH_ON_STOP=no' "$STAGE/etc/default/xlbd" ||
	{ echo "    a stop must leave forwarding in place by default"; ok=1; }
if command -v systemd-analyze >/dev/null && systemd-analyze --version >/dev/null 2>&1; then
	# verify resolves ExecStart against the real root: point it at the staged binary
	# (its Documentation= man pages are not installed on this host: ignored)
	sed "s|/usr/sbin/xlbd|$STAGE/usr/sbin/xlbd|g" "$unit" >"$W/xlbd.service"
	systemd-analyze verify "$W/xlbd.service" 2>&1 | grep -v "Command 'man " >"$W/verify"
	[ -s "$W/verify" ] && { sed 's/^/    /' "$W/verify"; ok=1; }
fi
result $ok "systemd unit: notify and watchdog, restart on failure, stop keeps forwarding"

# Least privilege: the capabilities xlbd needs to start (it keeps fewer, see
# user/xlbd/privs.c), no new privileges, a read-only system, and an exposure
# score of 3.0 or better (2.6 when written; 9.6 before hardening).
ok=0
grep -qx 'CapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_NET_ADMIN CAP_NET_RAW CAP_SETPCAP CAP_CHOWN CAP_SETUID CAP_SETGID CAP_KILL' "$unit" ||
	{ echo "    CapabilityBoundingSet: $(grep '^CapabilityBoundingSet=' "$unit")"; ok=1; }
for opt in NoNewPrivileges=yes ProtectSystem=strict ReadWritePaths=/sys/fs/bpf ProtectHome=yes \
	PrivateTmp=yes StateDirectory=xlb RuntimeDirectory=xlb SystemCallArchitectures=native; do
	grep -qx "$opt" "$unit" || { echo "    no $opt"; ok=1; }
done
if systemd-analyze security --help 2>/dev/null | grep -q -- '--threshold'; then
	systemd-analyze security --offline=yes "$unit" >"$W/security" 2>&1
	score=$(sed -n 's/.*Overall exposure level for xlbd.service: \([0-9.]*\).*/\1/p' "$W/security")
	echo "    systemd-analyze security: exposure ${score:-?}"
	systemd-analyze security --offline=yes --threshold=30 "$unit" >/dev/null 2>&1 ||
		{ echo "    exposure ${score:-?} is above 3.0:"; grep '✗' "$W/security" | sed 's/^/    /'; ok=1; }
fi
result $ok "systemd unit: least privilege, exposure 3.0 or better"

# xlb-guard (issue #13): wanted by xlbd.service but not bound to it (it must
# run while xlbd is down), restarted always, CAP_NET_ADMIN and CAP_BPF only,
# exposure 2.0 or better (1.6 when written).
gunit=$STAGE/usr/lib/systemd/system/xlb-guard.service
ok=0
grep -qE '^Wants=.*\bxlb-guard\.service\b' "$unit" || { echo "    xlbd.service does not want xlb-guard.service"; ok=1; }
grep -qE '^(BindsTo|PartOf|Requires)=.*xlbd' "$gunit" && { echo "    xlb-guard.service stops with xlbd"; ok=1; }
grep -q '^ExecStart=/usr/sbin/xlb-guard$' "$gunit" || { echo "    xlb-guard ExecStart"; ok=1; }
grep -q '^Restart=always' "$gunit" || { echo "    xlb-guard: no Restart=always"; ok=1; }
grep -qx 'CapabilityBoundingSet=CAP_NET_ADMIN CAP_BPF' "$gunit" ||
	{ echo "    xlb-guard CapabilityBoundingSet: $(grep '^CapabilityBoundingSet=' "$gunit")"; ok=1; }
grep -qE '@[A-Z_]+@' "$gunit" && { echo "    unsubstituted @...@ in xlb-guard.service"; ok=1; }
if command -v systemd-analyze >/dev/null && systemd-analyze --version >/dev/null 2>&1; then
	sed "s|/usr/sbin/xlb-guard|$STAGE/usr/sbin/xlb-guard|g" "$gunit" >"$W/xlb-guard.service"
	systemd-analyze verify "$W/xlb-guard.service" 2>&1 | grep -v "Command 'man " >"$W/verify"
	[ -s "$W/verify" ] && { sed 's/^/    /' "$W/verify"; ok=1; }
fi
if systemd-analyze security --help 2>/dev/null | grep -q -- '--threshold'; then
	systemd-analyze security --offline=yes "$gunit" >"$W/security" 2>&1
	score=$(sed -n 's/.*Overall exposure level for xlb-guard.service: \([0-9.]*\).*/\1/p' "$W/security")
	echo "    systemd-analyze security xlb-guard: exposure ${score:-?}"
	systemd-analyze security --offline=yes --threshold=20 "$gunit" >/dev/null 2>&1 ||
		{ echo "    exposure ${score:-?} is above 2.0:"; grep '✗' "$W/security" | sed 's/^/    /'; ok=1; }
fi
result $ok "xlb-guard unit: wanted by xlbd, outlives it, two capabilities, exposure 2.0 or better"

ok=0
bash -n "$STAGE/usr/share/bash-completion/completions/xlbctl" || ok=1
out=$(bash -c '. "$1"; COMP_WORDS=(xlbctl backend d); COMP_CWORD=2; _xlbctl; echo "${COMPREPLY[*]}"' _ \
	"$STAGE/usr/share/bash-completion/completions/xlbctl")
[ "$out" = "del drain disable" ] || { echo "    'xlbctl backend d<TAB>' gave '$out'"; ok=1; }
result $ok "bash completion completes subcommands"

"$STAGE/usr/sbin/xlbd" --check -c "$STAGE/etc/xlb/xlb.yaml.example" >"$W/chk" 2>&1
result $? "the example configuration is valid (xlbd --check)"

# Exec checks run as --exec-user: a user the system lacks is refused at once.
"$STAGE/usr/sbin/xlbd" --exec-user no-such-user-xlb --check -c "$STAGE/etc/xlb/xlb.yaml.example" >"$W/chk" 2>&1
[ $? = 2 ] && grep -q "exec-user 'no-such-user-xlb': no such user" "$W/chk"
result $? "xlbd --exec-user refuses an unknown user"

seed=$STAGE/etc/xlb/hash_seed
ok=0
grep -qxE '[0-9a-f]{32}' "$seed" || { echo "    hash_seed is not 32 hex digits"; ok=1; }
[ "$(stat -c %a "$seed")" = 600 ] || { echo "    hash_seed mode $(stat -c %a "$seed")"; ok=1; }
result $ok "install made a private 128-bit hash seed"

echo 'XLBD_OPTS="-i eth9"' >"$STAGE/etc/default/xlbd" # the operator's edit
old_seed=$(cat "$seed")
mk install
grep -q eth9 "$STAGE/etc/default/xlbd"
result $? "a second install keeps the operator's /etc/default/xlbd"
[ "$(cat "$seed")" = "$old_seed" ]
result $? "a second install keeps the fleet's hash seed"

mk uninstall
left=$(cd "$STAGE" && find . -type f | sort | tr '\n' ' ')
[ "$left" = "./etc/default/xlbd ./etc/xlb/hash_seed " ]
result $? "make uninstall removes what it installed (left: ${left:-nothing})"

echo "test-install: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
