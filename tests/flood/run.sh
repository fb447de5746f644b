#!/bin/bash
# SYN flood against established flows (issue #14): a namespace holding a
# veth pair, build/tests/xlb-sl-flood on it (generator and observer on one
# end, xlb on the other), then the namespace is removed.
#   tests/flood/run.sh [BUILD]     XLB_FLOOD_NS: the namespace's prefix
set -u
BUILD=${1:-build}
NS=${XLB_FLOOD_NS:-xlbflood}-lab
cleanup() { ip netns del "$NS" 2>/dev/null; }
trap cleanup EXIT
cleanup
ip netns add "$NS" || { echo "test-flood: needs root and network namespaces"; exit 1; }
ip -n "$NS" link add fgen type veth peer name flb &&
	ip -n "$NS" link set lo up &&
	ip -n "$NS" link set fgen up &&
	ip -n "$NS" link set flb up || { echo "test-flood: couldn't make the veth pair"; exit 1; }
start=$(date +%s)
ip netns exec "$NS" "$BUILD/tests/xlb-sl-flood" fgen flb
rc=$?
echo "test-flood: $([ $rc = 0 ] && echo passed || echo FAILED) in $(($(date +%s) - start)) s"
exit $rc
