// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The decap program's handover for stateless VIPs (bpf/lib/handover.h).
 * BPF_PROG_TEST_RUN looks sockets up in the caller's network namespace, so
 * each case runs in a child with a namespace of its own holding real
 * sockets: a TCP listener and an established connection per family, a
 * connected and a bound UDP socket, and a veth with permanent neighbours
 * for the previous hops (bpf_fib_lookup's MACs).
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
#include <sys/wait.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "env.h"
#include "decap.skel.h"
#include "sl_dp.h"

struct decap *sl_decap;

#define TCP 6
#define UDP 17
#define F_SYN 0x02
#define F_ACK 0x10

#define LB4 "172.16.1.2" /* in the fixtures' allow-list (test_bpf.c) */
#define LB6 "fd00:ffff::1"
#define HERE4 "10.1.0.11" /* this host (decap_local) */
#define HERE6 "fd00:1::11"
#define SELF4 "10.1.0.12" /* also this host's */
#define PREV4 "10.1.0.14" /* the previous hop: on the veth's subnet */
#define PREV6 "fd00:1::14"
#define CLIENT4 "192.0.2.1"
#define CLIENT6 "2001:db8::1"
#define VIP4 "10.0.0.10"
#define VIP6 "fd00::10"

static const __u8 MAC_VETH[6] = {0x02, 0, 0, 0, 0, 0x0b};
static const __u8 MAC_PREV[6] = {0x02, 0, 0, 0, 0, 0x0e};
static int veth_ifindex;

static int is_v6(const char *a)
{
	return strchr(a, ':') != NULL;
}

static __u64 counter(__u32 id)
{
	int n = libbpf_num_possible_cpus();
	__u64 v[256] = {}, sum = 0;

	if (n > 256 || bpf_map_lookup_elem(bpf_map__fd(sl_decap->maps.decap_stats), &id, v))
		return ~0ull;
	for (int i = 0; i < n; i++)
		sum += v[i];
	return sum;
}

/* ---- the namespace ------------------------------------------------------- */

static int sock_at(int family, int type, const char *addr, __u16 port)
{
	struct sockaddr_storage ss = {};
	socklen_t len;
	int one = 1, fd = socket(family, type, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in *s = (void *)&ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		inet_pton(AF_INET, addr, &s->sin_addr);
		len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (void *)&ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &s->sin6_addr);
		len = sizeof(*s);
	}
	if (bind(fd, (void *)&ss, len)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_to(int fd, int family, const char *addr, __u16 port)
{
	struct sockaddr_storage ss = {};
	socklen_t len;

	if (family == AF_INET) {
		struct sockaddr_in *s = (void *)&ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		inet_pton(AF_INET, addr, &s->sin_addr);
		len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (void *)&ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &s->sin6_addr);
		len = sizeof(*s);
	}
	return connect(fd, (void *)&ss, len);
}

/* An established connection client:cport -> vip:80 (the listener's accept
 * queue holds the server side). */
static int established(int family, const char *client, __u16 cport, const char *vip)
{
	int fd = sock_at(family, SOCK_STREAM, client, cport);

	return fd < 0 ? -1 : connect_to(fd, family, vip, 80);
}

/* Everything the cases need; the sockets stay open until the child exits. */
static int netns_setup(void)
{
	int l4, l6, u;

	if (unshare(CLONE_NEWNET) ||
	    system("ip link set lo up && "
		   "ip link add xsv0 address 02:00:00:00:00:0b type veth peer name xsv1 && "
		   "ip link set xsv0 up && ip link set xsv1 up && "
		   "ip addr add " HERE4 "/24 dev xsv0 && "
		   "ip -6 addr add " HERE6 "/64 dev xsv0 nodad && "
		   "ip neigh add " PREV4 " lladdr 02:00:00:00:00:0e dev xsv0 nud permanent && "
		   "ip -6 neigh add " PREV6 " lladdr 02:00:00:00:00:0e dev xsv0 nud permanent && "
		   "ip addr add " VIP4 "/32 dev lo && ip addr add " CLIENT4 "/32 dev lo && "
		   "ip -6 addr add " VIP6 "/128 dev lo nodad && "
		   "ip -6 addr add " CLIENT6 "/128 dev lo nodad && "
		   /* bpf_fib_lookup needs forwarding on the receiving device */
		   "sysctl -qw net.ipv4.conf.xsv0.forwarding=1 net.ipv6.conf.xsv0.forwarding=1 "
		   "net.ipv4.conf.lo.forwarding=1 net.ipv6.conf.lo.forwarding=1"))
		return 77;
	veth_ifindex = (int)if_nametoindex("xsv0");
	l4 = sock_at(AF_INET, SOCK_STREAM, VIP4, 80);
	l6 = sock_at(AF_INET6, SOCK_STREAM, VIP6, 80);
	if (l4 < 0 || l6 < 0 || listen(l4, 16) || listen(l6, 16))
		return 1;
	if (established(AF_INET, CLIENT4, 50000, VIP4) ||
	    established(AF_INET6, CLIENT6, 50000, VIP6))
		return 2;
	u = sock_at(AF_INET, SOCK_DGRAM, VIP4, 53); /* connected */
	if (u < 0 || connect_to(u, AF_INET, CLIENT4, 50001))
		return 3;
	if (sock_at(AF_INET, SOCK_DGRAM, VIP4, 54) < 0) /* bound, unconnected */
		return 4;
	return 0;
}

/* Run body in a child in its own namespace. */
static int in_netns(int (*body)(void))
{
	int status = 0, rc;
	pid_t pid = fork();

	if (pid == 0) {
		rc = netns_setup();
		if (rc)
			fprintf(stderr, "    namespace setup step %d failed: %s\n", rc,
				strerror(errno));
		_exit(rc ? rc : body() ? 1 : 0);
	}
	ASSERT_TRUE(pid > 0, "fork");
	ASSERT_EQ(waitpid(pid, &status, 0), pid, "wait");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		fprintf(stderr, "    no network namespace or veth here: not checked\n");
		return 0;
	}
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child's checks passed");
	return 0;
}

/* ---- packets ------------------------------------------------------------- */

static void ip_hdr(struct pb *p, const char *src, const char *dst, __u8 proto)
{
	if (is_v6(dst))
		pb_ip6(p, src, dst, proto, 64, 0, 0x777);
	else
		pb_ip4(p, src, dst, proto, 64, 0, 0x4000, 0);
}

static __u8 ip_proto(const char *inner)
{
	return is_v6(inner) ? 41 : 4;
}

/* The client's packet client:cport -> vip:dport, no L2. */
static void client_pkt(struct pb *c, const char *client, __u16 cport, const char *vip, __u16 dport,
		       __u8 proto, __u8 flags)
{
	pb_init(c);
	ip_hdr(c, client, vip, proto);
	if (proto == TCP)
		pb_tcp(c, cport, dport, 1000, 2000, flags, 65535);
	else
		pb_udp(c, cport, dport);
	pb_payload(c, 64, (__u8)cport);
	pb_finish(c);
}

/* outer LB -> here, middle LB -> prev (NULL: none), then the client's packet. */
static void carrier(struct pb *p, const char *prev, const struct pb *c, const char *vip)
{
	const char *here = prev && is_v6(prev) ? HERE6 : is_v6(vip) ? HERE6 : HERE4;
	const char *lb = is_v6(here) ? LB6 : LB4;

	pb_init(p);
	pb_eth(p, MAC_BACKEND[0], MAC_LB, 0, is_v6(here) ? 0x86dd : 0x0800);
	ip_hdr(p, lb, here, ip_proto(prev ? prev : vip));
	if (prev)
		ip_hdr(p, lb, prev, ip_proto(vip));
	pb_bytes(p, c->buf, c->len);
	pb_finish(p);
}

/* What the stack gets: the client's packet behind the frame's MACs. */
static void delivered(struct pb *w, const struct pb *c, const char *vip)
{
	pb_init(w);
	pb_eth(w, MAC_BACKEND[0], MAC_LB, 0, is_v6(vip) ? 0x86dd : 0x0800);
	pb_bytes(w, c->buf, c->len);
	pb_finish(w);
}

/* What leaves toward prev: the carrier minus its outer header, new MACs. */
static void handed_on(struct pb *w, const struct pb *in, const char *prev)
{
	size_t outer = is_v6(prev) ? 40 : 20;

	pb_init(w);
	pb_eth(w, MAC_PREV, MAC_VETH, 0, is_v6(prev) ? 0x86dd : 0x0800);
	pb_bytes(w, in->buf + 14 + outer, in->len - 14 - outer);
	pb_finish(w);
}

/* Run the decap as if the frame came in on the veth (ingress 0: loopback). */
static int run_on(int ifindex, const struct pb *in, int verdict, const struct pb *want,
		  const char *what)
{
	struct xdp_md ctx = {.data_end = (__u32)in->len, .ingress_ifindex = (__u32)ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = in->buf, .data_size_in = (__u32)in->len,
		    .repeat = 1);
	__u8 out[PB_MAX];

	t.data_out = out;
	t.data_size_out = sizeof(out);
	if (ifindex) {
		t.ctx_in = &ctx;
		t.ctx_size_in = sizeof(ctx);
	}
	ASSERT_OK(bpf_prog_test_run_opts(bpf_program__fd(sl_decap->progs.xlb_decap), &t),
		  "test run");
	ASSERT_EQ((int)t.retval, verdict, what);
	if (want)
		ASSERT_MEM(out, t.data_size_out, want->buf, want->len, what);
	return 0;
}

static int run(const struct pb *in, int verdict, const struct pb *want, const char *what)
{
	return run_on(veth_ifindex, in, verdict, want, what);
}

/* One case: a carrier to prev with the client's packet; expect it
 * delivered here (deliver) or handed on, under the given counter. */
static int one(const char *prev, const char *client, __u16 cport, const char *vip, __u16 dport,
	       __u8 proto, __u8 flags, int deliver, __u32 ctr, const char *what)
{
	struct pb c, in, want;
	__u64 before = counter(ctr);

	client_pkt(&c, client, cport, vip, dport, proto, flags);
	carrier(&in, prev, &c, vip);
	if (deliver) {
		delivered(&want, &c, vip);
		ASSERT_OK(run(&in, XDP_PASS, &want, what), what);
	} else {
		handed_on(&want, &in, prev);
		ASSERT_OK(run(&in, XDP_TX, &want, what), what);
	}
	ASSERT_EQ(counter(ctr), before + 1, what);
	return 0;
}

/* ---- cases --------------------------------------------------------------- */

static int tcp_v4(void)
{
	ASSERT_OK(one(PREV4, CLIENT4, 50000, VIP4, 80, TCP, F_ACK, 1, XLB_DECAP_SL_DELIVERED,
		      "established here: delivered, both headers gone"),
		  "");
	ASSERT_OK(one(PREV4, CLIENT4, 50002, VIP4, 80, TCP, F_ACK, 0, XLB_DECAP_SL_HANDED_ON,
		      "only a listener here: handed on to prev"),
		  "");
	ASSERT_OK(one(PREV4, CLIENT4, 50002, VIP4, 81, TCP, F_ACK, 0, XLB_DECAP_SL_HANDED_ON,
		      "no socket at all: handed on"),
		  "");
	ASSERT_OK(one(PREV4, CLIENT4, 50002, VIP4, 80, TCP, F_SYN, 1, XLB_DECAP_SL_DELIVERED,
		      "a SYN is always delivered"),
		  "");
	return 0;
}

static int t_ho_tcp_v4(void)
{
	return in_netns(tcp_v4);
}

static int tcp_v6(void)
{
	ASSERT_OK(one(PREV6, CLIENT6, 50000, VIP6, 80, TCP, F_ACK, 1, XLB_DECAP_SL_DELIVERED,
		      "6in6in6 established here: delivered"),
		  "");
	ASSERT_OK(one(PREV6, CLIENT6, 50002, VIP6, 80, TCP, F_ACK, 0, XLB_DECAP_SL_HANDED_ON,
		      "6in6in6 not here: handed on"),
		  "");
	ASSERT_OK(one(PREV6, CLIENT4, 50000, VIP4, 80, TCP, F_ACK, 1, XLB_DECAP_SL_DELIVERED,
		      "4in6in6 established here: delivered"),
		  "");
	ASSERT_OK(one(PREV6, CLIENT4, 50003, VIP4, 80, TCP, F_ACK | 0x01, 0, XLB_DECAP_SL_HANDED_ON,
		      "4in6in6 FIN not here: handed on"),
		  "");
	return 0;
}

static int t_ho_tcp_v6(void)
{
	return in_netns(tcp_v6);
}

static int udp(void)
{
	ASSERT_OK(one(PREV4, CLIENT4, 50001, VIP4, 53, UDP, 0, 1, XLB_DECAP_SL_DELIVERED,
		      "a connected UDP socket here: delivered"),
		  "");
	ASSERT_OK(one(PREV4, CLIENT4, 50009, VIP4, 54, UDP, 0, 1, XLB_DECAP_SL_DELIVERED,
		      "an unconnected UDP service here: delivered (Maglev stability only)"),
		  "");
	ASSERT_OK(one(PREV4, CLIENT4, 50009, VIP4, 55, UDP, 0, 0, XLB_DECAP_SL_HANDED_ON,
		      "no UDP socket here: handed on"),
		  "");
	return 0;
}

static int t_ho_udp(void)
{
	return in_netns(udp);
}

static int self(void)
{
	return one(SELF4, CLIENT4, 50002, VIP4, 80, TCP, F_ACK, 1, XLB_DECAP_SL_SELF,
		   "the previous hop is this host: delivered");
}

static int t_ho_prev_is_this_host(void)
{
	return in_netns(self);
}

/* A handed-on packet arrives with one header: decapsulated as ever, never
 * handed on again, whether or not a socket owns it. */
static int once(void)
{
	struct pb c, in, want;
	__u64 ipip = counter(XLB_DECAP_IPIP), on = counter(XLB_DECAP_SL_HANDED_ON);

	client_pkt(&c, CLIENT4, 50002, VIP4, 80, TCP, F_ACK);
	carrier(&in, NULL, &c, VIP4);
	delivered(&want, &c, VIP4);
	ASSERT_OK(run(&in, XDP_PASS, &want, "one header, no socket: delivered"), "");
	ASSERT_EQ(counter(XLB_DECAP_IPIP), ipip + 1, "counted as plain ipip");
	ASSERT_EQ(counter(XLB_DECAP_SL_HANDED_ON), on, "not handed on");
	return 0;
}

static int t_ho_single_header_never_handed_on(void)
{
	return in_netns(once);
}

static int nested(void)
{
	struct pb c, inner, in;
	__u64 before = counter(XLB_DECAP_SL_NESTED);

	client_pkt(&c, CLIENT4, 50002, VIP4, 80, TCP, F_ACK);
	pb_init(&inner); /* a carrier's middle + client, itself behind a middle */
	ip_hdr(&inner, LB4, PREV4, 4);
	pb_bytes(&inner, c.buf, c.len);
	pb_finish(&inner);
	carrier(&in, PREV4, &inner, VIP4);
	ASSERT_OK(run(&in, XDP_DROP, NULL, "a carrier in a carrier: dropped"), "");
	ASSERT_EQ(counter(XLB_DECAP_SL_NESTED), before + 1, "counted sl_nested");
	return 0;
}

static int t_ho_nested_carrier_dropped(void)
{
	return in_netns(nested);
}

static int no_route(void)
{
	struct pb c, in;
	__u64 before = counter(XLB_DECAP_SL_FIB_FAILED);

	client_pkt(&c, CLIENT4, 50002, VIP4, 80, TCP, F_ACK);
	carrier(&in, "10.9.9.9", &c, VIP4);
	ASSERT_OK(run(&in, XDP_DROP, NULL, "no route to prev: dropped"), "");
	ASSERT_EQ(counter(XLB_DECAP_SL_FIB_FAILED), before + 1, "counted sl_fib_failed");
	/* bpf_fib_lookup answers nothing while the NIC does not forward. */
	ASSERT_OK(system("sysctl -qw net.ipv4.conf.xsv0.forwarding=0"), "forwarding off");
	carrier(&in, PREV4, &c, VIP4);
	ASSERT_OK(run(&in, XDP_DROP, NULL, "forwarding off: dropped"), "");
	ASSERT_EQ(counter(XLB_DECAP_SL_FIB_FAILED), before + 2, "counted sl_fib_failed");
	return 0;
}

static int t_ho_no_route_dropped(void)
{
	return in_netns(no_route);
}

/* The previous hop is on the link but its MAC is not known yet (no
 * neighbour entry): the kernel forwards this packet, the outer header
 * gone, and resolves the neighbour for the next ones. */
static int no_neigh(void)
{
	struct pb c, in, want;
	__u64 before = counter(XLB_DECAP_SL_HANDED_ON);

	client_pkt(&c, CLIENT4, 50002, VIP4, 80, TCP, F_ACK);
	carrier(&in, "10.1.0.15", &c, VIP4);
	pb_init(&want);
	pb_eth(&want, MAC_BACKEND[0], MAC_LB, 0, 0x0800);
	pb_bytes(&want, in.buf + 14 + 20, in.len - 14 - 20);
	pb_finish(&want);
	ASSERT_OK(run(&in, XDP_PASS, &want, "no neighbour yet: to the kernel, outer header gone"),
		  "");
	ASSERT_EQ(counter(XLB_DECAP_SL_HANDED_ON), before + 1, "counted sl_handed_on");
	return 0;
}

static int t_ho_no_neighbour_via_the_kernel(void)
{
	return in_netns(no_neigh);
}

/* Arrived elsewhere than the route out: redirected to the route's device. */
static int redirect(void)
{
	struct pb c, in, want;

	client_pkt(&c, CLIENT4, 50002, VIP4, 80, TCP, F_ACK);
	carrier(&in, PREV4, &c, VIP4);
	handed_on(&want, &in, PREV4);
	return run_on(0, &in, XDP_REDIRECT, &want, "in on loopback, out on the veth");
}

static int t_ho_redirect_to_route_device(void)
{
	return in_netns(redirect);
}

/* A middle header from outside the LB prefixes is no carrier: as before. */
static int foreign_middle(void)
{
	struct pb c, inner, in, want;

	client_pkt(&c, CLIENT4, 50002, VIP4, 80, TCP, F_ACK);
	pb_init(&inner);
	ip_hdr(&inner, "192.0.2.99", PREV4, 4);
	pb_bytes(&inner, c.buf, c.len);
	pb_finish(&inner);
	carrier(&in, NULL, &inner, VIP4);
	pb_init(&want);
	pb_eth(&want, MAC_BACKEND[0], MAC_LB, 0, 0x0800);
	pb_bytes(&want, inner.buf, inner.len);
	pb_finish(&want);
	return run(&in, XDP_PASS, &want, "only the outer header stripped");
}

static int t_ho_foreign_middle_is_no_carrier(void)
{
	return in_netns(foreign_middle);
}

/* The LB program's output for a stateless VIP, through the decap on cur. */
static int roundtrip(void)
{
	struct vip_def v = {VIP4, 80, TCP, XLB_MODE_IPIP, XLB_HASH_5TUPLE, XLB_EMPTY_DROP, 30};
	struct pb c, lb, want;
	__u8 out[PB_MAX];
	size_t out_len = 0;

	ASSERT_OK(env_backend(1, HERE4, 0, XLB_BE_ACTIVE), "cur: this host");
	ASSERT_OK(env_backend(4, PREV4, 3, XLB_BE_ACTIVE), "prev");
	ASSERT_OK(env_vip_sl(&v, 1, 4), "stateless {1, 4}");
	client_pkt(&c, CLIENT4, 50002, VIP4, 80, TCP, F_ACK);
	pb_init(&lb);
	pb_eth(&lb, MAC_LB, MAC_ROUTER, 0, 0x0800);
	pb_bytes(&lb, c.buf, c.len);
	pb_finish(&lb);
	ASSERT_EQ(env_run(E.prog_fd, lb.buf, lb.len, out, &out_len), XDP_TX, "LB forwards");
	pb_init(&lb);
	pb_bytes(&lb, out, out_len);
	handed_on(&want, &lb, PREV4);
	ASSERT_OK(run(&lb, XDP_TX, &want, "no socket on cur: on to prev, as the LB built it"), "");
	client_pkt(&c, CLIENT4, 50000, VIP4, 80, TCP, F_ACK);
	pb_init(&lb);
	pb_eth(&lb, MAC_LB, MAC_ROUTER, 0, 0x0800);
	pb_bytes(&lb, c.buf, c.len);
	pb_finish(&lb);
	ASSERT_EQ(env_run(E.prog_fd, lb.buf, lb.len, out, &out_len), XDP_TX, "LB forwards");
	pb_init(&lb);
	pb_bytes(&lb, out, out_len);
	pb_init(&want);
	pb_eth(&want, MAC_BACKEND[0], MAC_LB, 0, 0x0800);
	pb_bytes(&want, c.buf, c.len);
	pb_finish(&want);
	return run(&lb, XDP_PASS, &want, "established on cur: delivered");
}

static int t_ho_roundtrip_with_xlb(void)
{
	return in_netns(roundtrip);
}

#define CASE(fn)                                                                                   \
	{                                                                                          \
		&(#fn)[2], fn                                                                      \
	}

const struct harness_case sl_decap_cases[] = {
	CASE(t_ho_tcp_v4),
	CASE(t_ho_tcp_v6),
	CASE(t_ho_udp),
	CASE(t_ho_prev_is_this_host),
	CASE(t_ho_single_header_never_handed_on),
	CASE(t_ho_nested_carrier_dropped),
	CASE(t_ho_no_route_dropped),
	CASE(t_ho_no_neighbour_via_the_kernel),
	CASE(t_ho_redirect_to_route_device),
	CASE(t_ho_foreign_middle_is_no_carrier),
	CASE(t_ho_roundtrip_with_xlb),
};
const size_t sl_decap_ncases = sizeof(sl_decap_cases) / sizeof(sl_decap_cases[0]);
