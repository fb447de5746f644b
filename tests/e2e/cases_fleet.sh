# shellcheck shell=bash
# Cases for a fleet of load balancers (issue #13), sourced by run.sh, which
# defines ctl and scrape. Each case returns 0 or 1 and says why on "    "
# lines.

digest() { ctl -j status | jq -r '.config_digest // empty'; }

# The config digest in status and /metrics: the same for the same config
# whatever the order of the edits that made it, another after a drain,
# the first one again once the edits are undone.
t_config_digest_follows_the_config() {
	local v=10.99.100.9:80/tcp ok=0 d0 d1 m
	d0=$(digest)
	[[ "$d0" =~ ^[0-9a-f]{16}$ ]] || { echo "    status config_digest: '$d0'"; return 1; }
	m=$(scrape /metrics | sed -n 's/^xlb_config_digest{digest="\([0-9a-f]*\)"} 1$/\1/p')
	[ "$m" = "$d0" ] || { echo "    /metrics has digest '$m', status '$d0'"; ok=1; }
	ctl status | grep -q "^config_digest  *$d0\$" || { echo "    xlbctl status shows no config_digest"; ok=1; }
	ctl vip add $v && ctl backend add $v 10.99.0.11 && ctl backend add $v 10.99.0.12 || return 1
	d1=$(digest)
	[ "$d1" != "$d0" ] || { echo "    a new VIP left the digest as it was"; ok=1; }
	ctl backend del $v 10.99.0.11 && ctl backend del $v 10.99.0.12 &&
		ctl backend add $v 10.99.0.12 && ctl backend add $v 10.99.0.11 || return 1
	[ "$(digest)" = "$d1" ] || { echo "    backends added in the other order: $(digest), was $d1"; ok=1; }
	ctl backend drain $v 10.99.0.11 || return 1
	[ "$(digest)" != "$d1" ] || { echo "    a drain left the digest as it was"; ok=1; }
	ctl vip del $v || return 1
	[ "$(digest)" = "$d0" ] || { echo "    edits undone: $(digest), was $d0"; ok=1; }
	m=$(scrape /metrics | grep -c '^xlb_config_digest{')
	[ "$m" = 1 ] || { echo "    /metrics has $m digest series"; ok=1; }
	return $ok
}
