// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-decap-bench: the backend-side decap program's cost per packet (issue
 * #14), against a trivial XDP_TX program measured in the same run, as
 * xlb-bench measures the LB program: BPF_PROG_TEST_RUN with repeat=1,
 * CALLS calls per scenario and round, ROUNDS interleaved rounds, the median
 * of the round means (and their range). Runs in a network namespace of its
 * own (the socket lookups and the route of a hand-on look there): an
 * established TCP connection, a listener, a veth with a permanent neighbour
 * for the previous hop. Figures only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "decap.h"
#include "log.h"
#include "pkt.h"
#include "xlb_dp.h"
#include "baseline.skel.h"
#include "decap.skel.h"

#define ROUNDS 5
#define CALLS 50000

struct scenario {
	const char *name;
	int prog; /* 0: trivial, 1: decap */
	const char *prev;
	__u16 cport;
	__u8 flags;
	int verdict;
	struct pb pkt;
	double ns[ROUNDS];
};

/* Client 192.0.2.1:50000 is established to 10.0.0.10:80; :50002 is not. */
static struct scenario sc[] = {
	{.name = "baseline: swap MACs, XDP_TX",
	 .prog = 0,
	 .prev = NULL,
	 .cport = 50000,
	 .flags = 0x10,
	 .verdict = XDP_TX},
	{.name = "ipip, one header: delivered",
	 .prog = 1,
	 .prev = NULL,
	 .cport = 50000,
	 .flags = 0x10,
	 .verdict = XDP_PASS},
	{.name = "carrier, SYN: delivered",
	 .prog = 1,
	 .prev = "10.1.0.14",
	 .cport = 50002,
	 .flags = 0x02,
	 .verdict = XDP_PASS},
	{.name = "carrier, established: delivered",
	 .prog = 1,
	 .prev = "10.1.0.14",
	 .cport = 50000,
	 .flags = 0x10,
	 .verdict = XDP_PASS},
	{.name = "carrier, no socket: handed on",
	 .prog = 1,
	 .prev = "10.1.0.14",
	 .cport = 50002,
	 .flags = 0x10,
	 .verdict = XDP_TX},
};
#define NSC (sizeof(sc) / sizeof(sc[0]))

static int sock_to(const char *addr, __u16 port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	return inet_pton(AF_INET, addr, &sa->sin_addr) == 1 ? 0 : -1;
}

static int netns_setup(void)
{
	struct sockaddr_in a;
	int one = 1, l, c;

	if (unshare(CLONE_NEWNET) ||
	    system("ip link set lo up && "
		   "ip link add xsbv0 address 02:00:00:00:00:0b type veth peer name xsbv1 && "
		   "ip link set xsbv0 up && ip link set xsbv1 up && "
		   "ip addr add 10.1.0.11/24 dev xsbv0 && "
		   "ip neigh add 10.1.0.14 lladdr 02:00:00:00:00:0e dev xsbv0 nud permanent && "
		   "ip addr add 10.0.0.10/32 dev lo && ip addr add 192.0.2.1/32 dev lo && "
		   "sysctl -qw net.ipv4.conf.xsbv0.forwarding=1"))
		return -1;
	l = socket(AF_INET, SOCK_STREAM, 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || c < 0 || sock_to("10.0.0.10", 80, &a) || bind(l, (void *)&a, sizeof(a)) ||
	    listen(l, 16) || sock_to("192.0.2.1", 50000, &a) || bind(c, (void *)&a, sizeof(a)) ||
	    sock_to("10.0.0.10", 80, &a) || connect(c, (void *)&a, sizeof(a)))
		return -1;
	return (int)if_nametoindex("xsbv0");
}

static void build(struct scenario *s)
{
	struct pb *p = &s->pkt;

	pb_init(p);
	pb_eth(p, MAC_BACKEND[0], MAC_LB, 0, 0x0800);
	pb_ip4(p, "172.16.1.2", "10.1.0.11", 4, 64, 0, 0x4000, 0);
	if (s->prev)
		pb_ip4(p, "172.16.1.2", s->prev, 4, 64, 0, 0x4000, 0);
	pb_ip4(p, "192.0.2.1", "10.0.0.10", 6, 64, 0, 0x4000, 0);
	pb_tcp(p, s->cport, 80, 1000, 2000, s->flags, 65535);
	pb_payload(p, 64, 1);
	pb_finish(p);
}

static int trust(struct decap *d)
{
	static const char *allow = "172.16.0.0/16";
	union xlb_addr local;
	struct xlb_prefix pfx;
	char why[128];

	return xlb_prefix_parse(allow, &pfx, why, sizeof(why)) ||
	       xlb_decap_allow(bpf_map__fd(d->maps.decap_allow4), bpf_map__fd(d->maps.decap_allow6),
			       &pfx) ||
	       xlb_addr_parse("10.1.0.11", &local) < 0 ||
	       xlb_decap_local(bpf_map__fd(d->maps.decap_local), &local);
}

static double round_ns(int prog_fd, int ifindex, struct scenario *s)
{
	struct xdp_md ctx = {.data_end = (__u32)s->pkt.len, .ingress_ifindex = (__u32)ifindex};
	__u8 out[PB_MAX];
	__u64 total = 0;

	for (int i = 0; i < CALLS; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = s->pkt.buf,
			    .data_size_in = (__u32)s->pkt.len, .data_out = out,
			    .data_size_out = sizeof(out), .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = 1);

		if (bpf_prog_test_run_opts(prog_fd, &t) || (int)t.retval != s->verdict) {
			fprintf(stderr, "xlb-decap-bench: '%s': verdict %u (%s)\n", s->name,
				t.retval, strerror(errno));
			exit(1);
		}
		total += t.duration;
	}
	return (double)total / CALLS;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(void)
{
	struct baseline *base;
	struct decap *d;
	cpu_set_t cpus;
	int ifindex;

	CPU_ZERO(&cpus);
	CPU_SET(sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	xlb_log_libbpf();
	ifindex = netns_setup();
	base = baseline__open_and_load();
	d = decap__open_and_load();
	if (ifindex <= 0 || !base || !d || trust(d)) {
		fprintf(stderr, "xlb-decap-bench: setup failed (root, netns, veth?)\n");
		return 1;
	}
	for (size_t s = 0; s < NSC; s++)
		build(&sc[s]);
	for (int r = 0; r < ROUNDS; r++)
		for (size_t s = 0; s < NSC; s++)
			sc[s].ns[r] =
				round_ns(sc[s].prog ? bpf_program__fd(d->progs.xlb_decap)
						    : bpf_program__fd(base->progs.xlb_baseline),
					 ifindex, &sc[s]);
	printf("xlb-decap, BPF_PROG_TEST_RUN, repeat=1, %d calls per scenario in %d rounds,\n"
	       "median of round means, one CPU:\n\n",
	       CALLS * ROUNDS, ROUNDS);
	printf("%-36s %10s %12s %10s\n", "scenario", "ns/packet", "rounds", "over base");
	double b[ROUNDS];

	memcpy(b, sc[0].ns, sizeof(b));
	qsort(b, ROUNDS, sizeof(double), cmp);
	for (size_t s = 0; s < NSC; s++) {
		double v[ROUNDS];

		memcpy(v, sc[s].ns, sizeof(v));
		qsort(v, ROUNDS, sizeof(double), cmp);
		printf("%-36s %10.1f %5.0f-%-6.0f %+10.1f\n", sc[s].name, v[ROUNDS / 2], v[0],
		       v[ROUNDS - 1], v[ROUNDS / 2] - b[ROUNDS / 2]);
	}
	decap__destroy(d);
	baseline__destroy(base);
	return 0;
}
