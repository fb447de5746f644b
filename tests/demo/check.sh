#!/bin/bash
# make demo, fast: every step must show what it should, and the demo must
# leave nothing behind (namespaces, pinned maps).
set -u
OUT=$(mktemp /tmp/xlb-demo-test.XXXXXX)
trap 'rm -f "$OUT"' EXIT
DEMO_FAST=1 timeout 300 tools/demo/demo.sh >"$OUT" 2>&1
rc=$?
ok=$(grep -c '^   ok    ' "$OUT")
fail=$(grep -c 'FAIL' "$OUT")
left=$(ip netns list | grep -c '^xlbdemo-')
[ -e /sys/fs/bpf/xlbdemo ] && left=$((left + 1))
if [ "$rc" = 0 ] && [ "$ok" -ge 11 ] && [ "$fail" = 0 ] && [ "$left" = 0 ]; then
	echo "test-demo: the demo's $ok checks passed, nothing left behind"
	exit 0
fi
sed 's/^/    /' "$OUT"
echo "test-demo: exit $rc, $ok checks ok, $fail failed, $left things left behind"
exit 1
