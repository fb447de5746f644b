# shellcheck shell=bash
# The lab the agent benches share (checks.sh, scrape.sh, loop.sh): a
# namespace pair, xlbd's side and N backend addresses on one veth with one
# server, sourced after the caller set P (namespace prefix), N, TMP, XLBD,
# PIN, LAB_TCP and PIDS=().
#
#   $P-lb (10.200.255.254) --veth-- $P-be (10.200.0.1 ... : N addresses)

# Kill what the bench started, detach the agent's pins, delete the lab.
lab10k_cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	wait 2>/dev/null
	"$XLBD" --detach --pin-dir "$PIN" >/dev/null 2>&1
	ip netns del "$P-lb" 2>/dev/null
	ip netns del "$P-be" 2>/dev/null
	rm -rf "$TMP"
}

# The namespaces, N addresses, their MACs as permanent neighbour entries
# (no ARP for 10,000 hops, and permanent entries do not count against
# gc_thresh: host-wide sysctls that a bench raising and restoring them
# would lower under another bench or e2e lab on the same host) and the
# server. On one host the backends' side of every handshake would run in
# the agent's own softirq (veth delivers synchronously) and be billed to
# it: with 2 CPUs or more the agent runs on CPU 0 ($PIN_CPU) and the
# backends' receive work is steered to CPU 1. (awk, not a subshell a
# backend: 10,000 forks take minutes on a busy host.) $1 names the bench.
lab10k_up() {
	local mac
	ip netns add "$P-lb" && ip netns add "$P-be" || { echo "bench $1: needs root and netns"; exit 1; }
	ip link add eth0 netns "$P-lb" type veth peer name eth0 netns "$P-be"
	ip -n "$P-lb" link set lo up
	ip -n "$P-lb" link set eth0 up
	ip -n "$P-lb" addr add 10.200.255.254/16 dev eth0
	ip -n "$P-be" link set lo up
	ip -n "$P-be" link set eth0 up
	awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
		printf "addr add 10.200.%d.%d/16 dev eth0\n", int(i / 250), i % 250 + 1 }' |
		ip -n "$P-be" -batch -
	mac=$(ip -n "$P-be" link show eth0 | awk '/link\/ether/ {print $2}')
	awk -v n="$N" -v mac="$mac" 'BEGIN { for (i = 0; i < n; i++)
		printf "neigh replace 10.200.%d.%d lladdr %s dev eth0 nud permanent\n", int(i / 250), i % 250 + 1, mac }' |
		ip -n "$P-lb" -batch -
	if [ "$(nproc)" -ge 2 ]; then
		ip netns exec "$P-be" sh -c 'echo 2 > /sys/class/net/eth0/queues/rx-0/rps_cpus'
		PIN_CPU="taskset -c 0"
		ip netns exec "$P-be" taskset -c 1 "$LAB_TCP" 80 be greet &
	else
		PIN_CPU=
		ip netns exec "$P-be" "$LAB_TCP" 80 be greet &
	fi
	PIDS+=($!)
}

# 100 VIPs (10.201.0.1-100:80/tcp, table 4093) sharing the N backends, to
# FILE: lab10k_config FILE CHECK, CHECK "none" or "TYPE INTERVAL".
lab10k_config() {
	awk -v n="$N" -v nv=100 -v check="$2" -v seed="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" 'BEGIN {
		print "interface: eth0"; print "hash_seed: " seed; print "vips:"
		for (v = 0; v < nv; v++) {
			printf "  - address: 10.201.0.%d\n    port: 80\n    protocol: tcp\n", v + 1
			print "    table_size: 4093"
			split(check, c, " ")
			if (c[1] == "none")
				print "    check: {type: none}"
			else
				print "    check: {type: " c[1] ", interval: " c[2] ", timeout: 500ms}"
			print "    backends:"
			for (i = v; i < n; i += nv)
				printf "      - address: 10.200.%d.%d\n", int(i / 250), i % 250 + 1
		}
	}' >"$1"
}
