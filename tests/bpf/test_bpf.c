// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Data-plane fixtures, run through BPF_PROG_TEST_RUN against the real XDP
 * program. Each case: map setup, an input packet from the builder, the
 * expected verdict and the expected output bytes compared exactly, plus the
 * counters the case must move. `test_bpf [FILTER]` runs the cases whose name
 * contains FILTER.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/wait.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <unistd.h>
#include <sys/wait.h>

#include <bpf/bpf.h>

#include "env.h"
#include "log.h"
#include "maglev.h"
#include "stats_dp.h"
#include "sync_dp.h"
#include "sl_dp.h"
#include "syn_dp.h"
#include "xlb_hash.h"
#include "check_out.h"
#include "decap.h"
#include "decap.skel.h"

#define TCP 6
#define UDP 17
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

#define CLIENT4 "192.0.2.1"
#define CLIENT6 "2001:db8::1"
#define ROUTER4 "198.51.100.1"
#define ROUTER6 "2001:db8:ffff::1"

static const struct vip_def V4_TCP = {"10.0.0.10",	80, TCP, XLB_MODE_DSR, XLB_HASH_5TUPLE,
				      XLB_EMPTY_REJECT, 1};
static const struct vip_def V4_UDP = {"10.0.0.10",	53, UDP, XLB_MODE_DSR, XLB_HASH_5TUPLE,
				      XLB_EMPTY_REJECT, 2};
static const struct vip_def V6_TCP = {"fd00::10",	80, TCP, XLB_MODE_DSR, XLB_HASH_5TUPLE,
				      XLB_EMPTY_REJECT, 3};
static const struct vip_def V6_UDP = {"fd00::10",	53, UDP, XLB_MODE_DSR, XLB_HASH_5TUPLE,
				      XLB_EMPTY_REJECT, 4};

static struct vip_def with_mode(struct vip_def v, __u8 mode)
{
	v.mode = mode;
	return v;
}

static struct vip_def with_empty(struct vip_def v, __u8 on_empty)
{
	v.on_empty = on_empty;
	return v;
}

/* Backends 1-3: IPv4, MACs 0-2. Backends 11-13: IPv6, MACs 0-2. */
static int backends(void)
{
	static const char *v4[] = {"10.1.0.11", "10.1.0.12", "10.1.0.13"};
	static const char *v6[] = {"fd00:1::11", "fd00:1::12", "fd00:1::13"};

	for (int i = 0; i < 3; i++) {
		if (env_backend(1 + i, v4[i], i, XLB_BE_ACTIVE) ||
		    env_backend(11 + i, v6[i], i, XLB_BE_ACTIVE))
			return -1;
	}
	return 0;
}

static int is_v6(const char *a)
{
	return strchr(a, ':') != NULL;
}

/* A client packet to dst:dport; TCP carries seq 1000 (ack 2000 with ACK). */
static void mk(struct pb *p, const char *src, __u16 sport, const char *dst, __u16 dport, __u8 proto,
	       __u8 flags, int vlan, size_t payload)
{
	pb_init(p);
	pb_eth(p, MAC_LB, MAC_ROUTER, vlan, is_v6(dst) ? 0x86dd : 0x0800);
	if (is_v6(dst))
		pb_ip6(p, src, dst, proto, 61, 0x28, 0x12345);
	else
		pb_ip4(p, src, dst, proto, 61, 0x28, 0x4000, 0);
	if (proto == TCP)
		pb_tcp(p, sport, dport, 1000, (flags & F_ACK) ? 2000 : 0, flags, 65535);
	else
		pb_udp(p, sport, dport);
	pb_payload(p, payload, (__u8)sport);
	pb_finish(p);
}

static void mk_flow(struct pb *p, const struct vip_def *v, const char *client, __u16 cport,
		    __u8 flags)
{
	mk(p, client, cport, v->addr, v->port, v->proto, flags, 0, 32);
}

/* Run and compare verdict and (when want is set) every output byte. */
static int expect(const struct pb *in, int verdict, const struct pb *want, const char *what)
{
	__u8 out[PB_MAX];
	size_t out_len = 0;

	ASSERT_EQ(env_run(E.prog_fd, in->buf, in->len, out, &out_len), verdict, what);
	if (want)
		ASSERT_MEM(out, out_len, want->buf, want->len, what);
	return 0;
}

static int expect_pass(const struct pb *in, const char *what)
{
	return expect(in, XDP_PASS, in, what);
}

/* The MAC index of the backend a DSR packet went to, -1 if not XDP_TX. */
static int sent_to(const struct pb *in)
{
	__u8 out[PB_MAX];
	size_t out_len = 0;

	if (env_run(E.prog_fd, in->buf, in->len, out, &out_len) != XDP_TX)
		return -1;
	for (int i = 0; i < 4; i++)
		if (!memcmp(out, MAC_BACKEND[i], 6))
			return i;
	return -2;
}

/* ---- pass-through ---------------------------------------------------- */

static int t_non_vip_passes_untouched(void)
{
	struct pb p;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V4_TCP, 1), "vip");
	ASSERT_OK(env_vip(&V6_UDP, 11), "vip6");
	mk(&p, CLIENT4, 1234, "10.0.0.99", 80, TCP, F_SYN, 0, 0);
	ASSERT_OK(expect_pass(&p, "v4 TCP to another address"), "");
	mk(&p, CLIENT4, 1234, "10.0.0.10", 81, TCP, F_SYN, 0, 0);
	ASSERT_OK(expect_pass(&p, "v4 TCP to the VIP address, other port"), "");
	mk(&p, CLIENT4, 1234, "10.0.0.10", 80, UDP, 0, 0, 10);
	ASSERT_OK(expect_pass(&p, "v4 UDP to a TCP VIP's port"), "");
	mk(&p, CLIENT6, 1234, "fd00::99", 53, UDP, 0, 0, 10);
	ASSERT_OK(expect_pass(&p, "v6 UDP to another address"), "");
	mk(&p, CLIENT6, 1234, "fd00::10", 53, TCP, F_SYN, 0, 0);
	ASSERT_OK(expect_pass(&p, "v6 TCP to a UDP VIP's port"), "");
	ASSERT_EQ(env_vip_stats(V4_TCP.vip_id).packets, 0, "VIP counted nothing");
	ASSERT_EQ(env_vip_stats(V6_UDP.vip_id).packets, 0, "VIP6 counted nothing");
	return 0;
}

static int t_arp_and_nd_pass(void)
{
	static const __u8 arp[28] = {0,	  1, 8, 0, 6, 4, 0, 1, 2, 0, 0,	 0, 0, 2,
				     192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 10};
	__u8 target[16];
	struct pb p;

	ASSERT_OK(env_vip(&V4_TCP, 0), "vip");
	pb_init(&p);
	pb_eth(&p, (const __u8 *)"\xff\xff\xff\xff\xff\xff", MAC_ROUTER, 0, 0x0806);
	pb_bytes(&p, arp, sizeof(arp));
	ASSERT_OK(expect_pass(&p, "ARP who-has VIP"), "");

	pb_init(&p);
	pb_eth(&p, MAC_LB, MAC_ROUTER, 0, 0x86dd);
	pb_ip6(&p, CLIENT6, "ff02::1:ff00:10", 58, 255, 0, 0);
	pb_icmp6(&p, 135, 0, 0);
	pb_addr("fd00::10", target);
	pb_bytes(&p, target, 16);
	pb_finish(&p);
	ASSERT_OK(expect_pass(&p, "neighbour solicitation"), "");
	return 0;
}

/* ---- only frames addressed to this NIC ---------------------------------- */

static const __u8 MAC_OTHER_LB[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x09};
static const __u8 MAC_BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const __u8 MAC_MCAST4[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x10};
static const __u8 MAC_MCAST6[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x10};
static const __u8 MAC_ZERO[6];

/* The same packet with another destination (and source) MAC. */
static void re_mac(struct pb *p, const __u8 *dst, const __u8 *src)
{
	memcpy(p->buf, dst, 6);
	memcpy(p->buf + 6, src, 6);
}

/* VIP frames not sent to this NIC pass untouched, to a VIP with backends
 * (forwarded otherwise) and to an empty one (answered otherwise). */
static int t_frames_for_other_macs_pass(void)
{
	const __u8 *macs[] = {MAC_OTHER_LB, MAC_BCAST, MAC_MCAST4, MAC_MCAST6, MAC_ZERO};
	const struct vip_def *vips[] = {&V4_TCP, &V6_UDP, &V4_UDP, &V6_TCP};
	struct pb p;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V4_TCP, 1), "vip");
	ASSERT_OK(env_vip(&V6_UDP, 11), "vip6");
	ASSERT_OK(env_vip(&V4_UDP, 0), "empty vip, on_empty=reject");
	ASSERT_OK(env_vip(&V6_TCP, 0), "empty vip6, on_empty=reject");
	for (size_t v = 0; v < 4; v++) {
		for (size_t m = 0; m < sizeof(macs) / sizeof(macs[0]); m++) {
			mk_flow(&p, vips[v], is_v6(vips[v]->addr) ? CLIENT6 : CLIENT4, 40000,
				vips[v]->proto == TCP ? F_SYN : 0);
			re_mac(&p, macs[m], MAC_ROUTER);
			ASSERT_OK(expect_pass(&p, "VIP frame to another MAC"), "");
		}
	}
	for (__u32 id = 1; id <= 4; id++)
		ASSERT_EQ(env_vip_stats(id).packets, 0, "no VIP counted a packet");
	for (__u32 r = 1; r < XLB_REASON_SLOTS; r++)
		ASSERT_EQ(env_reason(r), 0, "no reason counted");
	return 0;
}

/* The NIC's MAC changes at run time: frames follow it, and what xlb sends
 * carries it; a zero (unset) MAC makes the program touch nothing. */
static int t_nic_mac_change_and_unset(void)
{
	struct pb in, want, rej, rej_want;
	struct vip_def v = with_mode(V4_TCP, XLB_MODE_IPIP);

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&v, 1), "vip");
	ASSERT_OK(env_vip(&V6_UDP, 0), "empty vip6");
	ASSERT_OK(xlb_dp_nic_set(E.dp, MAC_OTHER_LB, ENV_MTU), "NIC gets a new MAC");
	mk_flow(&in, &v, CLIENT4, 40000, F_SYN);
	ASSERT_OK(expect_pass(&in, "to the old MAC: not ours any more"), "");
	re_mac(&in, MAC_OTHER_LB, MAC_ROUTER);
	expect_ipip(&in, 14, 0, "10.1.0.11", 0, 40000, CLIENT4, &want);
	memcpy(want.buf + 6, MAC_OTHER_LB, 6);
	ASSERT_OK(expect(&in, XDP_TX, &want, "forwarded with the new MAC as source"), "");

	mk_flow(&rej, &V6_UDP, CLIENT6, 40001, 0);
	re_mac(&rej, MAC_OTHER_LB, MAC_ROUTER);
	pb_init(&rej_want);
	pb_eth(&rej_want, MAC_ROUTER, MAC_OTHER_LB, 0, 0x86dd);
	pb_ip6(&rej_want, V6_UDP.addr, CLIENT6, 58, 64, 0, 0);
	pb_icmp6(&rej_want, 1, 4, 0);
	pb_bytes(&rej_want, rej.buf + 14, 48);
	pb_finish(&rej_want);
	ASSERT_OK(expect(&rej, XDP_TX, &rej_want, "rejected with the new MAC as source"), "");

	ASSERT_OK(xlb_dp_nic_set(E.dp, MAC_ZERO, 0), "NIC MAC unset");
	ASSERT_OK(expect_pass(&in, "unset: a VIP frame passes"), "");
	re_mac(&in, MAC_ZERO, MAC_ROUTER);
	ASSERT_OK(expect_pass(&in, "unset: even one sent to 00:00:00:00:00:00"), "");
	ASSERT_EQ(xlb_dp_nic_set(E.dp, MAC_BCAST, 0), -EINVAL, "a broadcast MAC is refused");
	ASSERT_EQ(xlb_dp_nic_set(E.dp, MAC_MCAST6, 0), -EINVAL, "a multicast MAC is refused");
	ASSERT_EQ(xlb_dp_nic_set(E.dp, MAC_LB, 1279), -EINVAL, "an MTU below 1280 is refused");
	return 0;
}

/* In a child in a network namespace of its own: attach to a veth and
 * follow its MAC and MTU, as xlbd does on link events. */
static int nic_follow_child(void)
{
	static const __u8 mac1[6] = {0x02, 0, 0, 0, 0, 0x42}, mac2[6] = {0x02, 0, 0, 0, 0, 0x43};
	struct xlb_nic n = {};
	int ifindex;

	if (unshare(CLONE_NEWNET) ||
	    system("ip link add xdp1dummy type veth peer name xdp1peer && "
		   "ip link set xdp1dummy address 02:00:00:00:00:42 mtu 1400 up"))
		_exit(77);
	ifindex = (int)if_nametoindex("xdp1dummy");
	ASSERT_OK(xlb_dp_attach(E.dp, ifindex, 1), "attach (generic)");
	ASSERT_OK(xlb_dp_nic_get(E.dp, &n), "read nic");
	ASSERT_MEM(n.mac, 6, mac1, 6, "the link's MAC at attach");
	ASSERT_EQ(n.mtu, 1400, "the link's MTU at attach");
	ASSERT_EQ(xlb_dp_nic_refresh(E.dp), 0, "nothing changed");
	ASSERT_OK(system("ip link set xdp1dummy address 02:00:00:00:00:43 mtu 1600"),
		  "ip link set");
	ASSERT_EQ(xlb_dp_nic_refresh(E.dp), 1, "a change");
	ASSERT_OK(xlb_dp_nic_get(E.dp, &n), "read nic");
	ASSERT_MEM(n.mac, 6, mac2, 6, "the new MAC");
	ASSERT_EQ(n.mtu, 1600, "the new MTU");
	ASSERT_OK(xlb_dp_mtu_set(E.dp, 9000), "configured MTU");
	ASSERT_OK(xlb_dp_nic_get(E.dp, &n), "read nic");
	ASSERT_EQ(n.mtu, 9000, "the configured MTU wins over the link's");
	ASSERT_EQ(xlb_dp_nic_refresh(E.dp), 0, "and stays");
	ASSERT_EQ(xlb_dp_mtu_set(E.dp, 1000), -EINVAL, "an MTU below 1280 is refused");
	return 0;
}

static int t_attach_follows_the_link(void)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0)
		_exit(nic_follow_child() ? 1 : 0);
	ASSERT_TRUE(pid > 0, "fork");
	ASSERT_EQ(waitpid(pid, &status, 0), pid, "wait");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		fprintf(stderr, "    no network namespace or veth here: not checked\n");
		return 0;
	}
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child's checks passed");
	return 0;
}

/* RFC 1122 3.2.2: no answer to a broadcast or multicast source. */
static int t_reject_never_answers_group_sources(void)
{
	struct pb p;

	ASSERT_OK(env_vip(&V4_TCP, 0), "empty vip");
	ASSERT_OK(env_vip(&V6_UDP, 0), "empty vip6");
	mk_flow(&p, &V4_TCP, CLIENT4, 40000, F_SYN);
	re_mac(&p, MAC_LB, MAC_MCAST4);
	ASSERT_OK(expect(&p, XDP_DROP, NULL, "from a multicast MAC"), "");
	re_mac(&p, MAC_LB, MAC_BCAST);
	ASSERT_OK(expect(&p, XDP_DROP, NULL, "from the broadcast MAC"), "");
	mk_flow(&p, &V4_TCP, "224.0.0.5", 40000, F_SYN);
	ASSERT_OK(expect(&p, XDP_DROP, NULL, "from a multicast IPv4 address"), "");
	mk_flow(&p, &V4_TCP, "255.255.255.255", 40000, F_SYN);
	ASSERT_OK(expect(&p, XDP_DROP, NULL, "from the limited broadcast address"), "");
	mk_flow(&p, &V4_TCP, "0.0.0.0", 40000, F_SYN);
	ASSERT_OK(expect(&p, XDP_DROP, NULL, "from 0.0.0.0"), "");
	mk_flow(&p, &V6_UDP, "ff02::1", 40000, 0);
	ASSERT_OK(expect(&p, XDP_DROP, NULL, "from a multicast IPv6 address"), "");
	mk_flow(&p, &V6_UDP, "::", 40000, 0);
	ASSERT_OK(expect(&p, XDP_DROP, NULL, "from ::"), "");
	ASSERT_EQ(env_reason(XLB_R_NO_BACKEND_UNANSWERABLE), 7, "counted unanswerable");
	ASSERT_EQ(env_reason(XLB_R_REJECT_TCP_RST) + env_reason(XLB_R_REJECT_ICMP_UNREACH), 0,
		  "nothing answered");
	return 0;
}

/* ---- forwarding: dsr -------------------------------------------------- */

static int dsr_case(const struct vip_def *v, const char *client, __u8 flags, int vlan)
{
	struct pb in, want;
	__u32 be = is_v6(v->addr) ? 12 : 2;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(v, be), "vip");
	mk(&in, client, 40000, v->addr, v->port, v->proto, flags, vlan, 100);
	expect_dsr(&in, 1, &want);
	ASSERT_OK(expect(&in, XDP_TX, &want, "dsr: MACs rewritten, nothing else"), "");
	ASSERT_EQ(env_backend_stats(be).packets, 1, "backend counted the packet");
	return 0;
}

static int t_dsr_tcp_syn_v4(void)
{
	return dsr_case(&V4_TCP, CLIENT4, F_SYN, 0);
}

static int t_dsr_tcp_syn_v6(void)
{
	return dsr_case(&V6_TCP, CLIENT6, F_SYN, 0);
}

static int t_dsr_udp_v4(void)
{
	return dsr_case(&V4_UDP, CLIENT4, 0, 0);
}

static int t_dsr_udp_v6(void)
{
	return dsr_case(&V6_UDP, CLIENT6, 0, 0);
}

static int t_dsr_vlan_tagged(void)
{
	return dsr_case(&V4_TCP, CLIENT4, F_SYN, 42);
}

/* ---- forwarding: ipip ------------------------------------------------- */

static int ipip_case(const struct vip_def *base, const char *client, __u32 be, const char *be_addr,
		     int mac, __u8 flags, int vlan)
{
	struct vip_def v = with_mode(*base, XLB_MODE_IPIP);
	struct pb in, want;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&v, be), "vip");
	mk(&in, client, 40000, v.addr, v.port, v.proto, flags, vlan, 100);
	expect_ipip(&in, vlan ? 18 : 14, vlan, be_addr, mac, 40000, client, &want);
	ASSERT_OK(expect(&in, XDP_TX, &want, "ipip: outer header, checksum, MACs"), "");
	return 0;
}

static int t_ipip_tcp_syn_4in4(void)
{
	return ipip_case(&V4_TCP, CLIENT4, 1, "10.1.0.11", 0, F_SYN, 0);
}

static int t_ipip_udp_4in4(void)
{
	return ipip_case(&V4_UDP, CLIENT4, 3, "10.1.0.13", 2, 0, 0);
}

static int t_ipip_tcp_syn_6in6(void)
{
	return ipip_case(&V6_TCP, CLIENT6, 11, "fd00:1::11", 0, F_SYN, 0);
}

static int t_ipip_udp_6in6(void)
{
	return ipip_case(&V6_UDP, CLIENT6, 12, "fd00:1::12", 1, 0, 0);
}

static int t_ipip_tcp_4in6(void)
{
	return ipip_case(&V4_TCP, CLIENT4, 13, "fd00:1::13", 2, F_SYN, 0);
}

static int t_ipip_udp_4in6(void)
{
	return ipip_case(&V4_UDP, CLIENT4, 11, "fd00:1::11", 0, 0, 0);
}

static int t_ipip_vlan_tagged(void)
{
	return ipip_case(&V6_TCP, CLIENT6, 11, "fd00:1::11", 0, F_ACK, 7);
}

static int t_ipip_6in4_refused(void)
{
	struct vip_def v = with_mode(V6_TCP, XLB_MODE_IPIP);
	struct pb in;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&v, 1), "vip with an IPv4 backend");
	mk_flow(&in, &v, CLIENT6, 40000, F_SYN);
	ASSERT_OK(expect(&in, XDP_DROP, NULL, "IPv6 VIP to IPv4 backend"), "");
	ASSERT_EQ(env_reason(XLB_R_FAMILY_MISMATCH), 1, "family_mismatch counted");
	return 0;
}

/* ---- path MTU for ipip ------------------------------------------------- */

/* A client TCP packet (DF set for IPv4) whose IP length is ip_len. */
static void mk_sized(struct pb *p, const struct vip_def *v, const char *client, size_t ip_len)
{
	mk(p, client, 40000, v->addr, v->port, TCP, F_ACK, 0,
	   ip_len - 20 - (is_v6(v->addr) ? 40 : 20));
}

/* The ICMP answer to `in` from the VIP: fragmentation needed (IPv4) or packet
 * too big (IPv6) with the given MTU, quoting what RFC 792 / RFC 4443 ask. */
static void expect_too_big(const struct pb *in, const struct vip_def *v, const char *client,
			   __u32 mtu, struct pb *want)
{
	pb_init(want);
	if (is_v6(v->addr)) {
		pb_eth(want, MAC_ROUTER, MAC_LB, 0, 0x86dd);
		pb_ip6(want, v->addr, client, 58, 64, 0, 0);
		pb_icmp6(want, 2, 0, mtu);
		pb_bytes(want, in->buf + 14, 1280 - 48);
	} else {
		pb_eth(want, MAC_ROUTER, MAC_LB, 0, 0x0800);
		pb_ip4(want, v->addr, client, 1, 64, 0, 0, 0);
		pb_icmp4(want, 3, 4, mtu);
		pb_bytes(want, in->buf + 14, 28);
	}
	pb_finish(want);
}

static int too_big_case(const struct vip_def *base, const char *client, __u32 be,
			const char *be_addr, __u32 olen)
{
	struct vip_def v = with_mode(*base, XLB_MODE_IPIP);
	struct pb fits, big, want;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&v, be), "vip");
	mk_sized(&fits, &v, client, ENV_MTU - olen);
	expect_ipip(&fits, 14, 0, be_addr, (int)(be % 10) - 1, 40000, client, &want);
	ASSERT_OK(expect(&fits, XDP_TX, &want, "exactly MTU with the outer header: forwarded"), "");
	mk_sized(&big, &v, client, ENV_MTU - olen + 1);
	expect_too_big(&big, &v, client, ENV_MTU - olen, &want);
	ASSERT_OK(expect(&big, XDP_TX, &want, "one byte more: answered, MTU - outer header"), "");
	ASSERT_EQ(env_reason(XLB_R_ENCAP_TOO_BIG), 1, "counted");
	ASSERT_EQ(env_backend_stats(be).packets, 1,
		  "only the packet that fits went to the backend");
	/* A configured MTU (per interface) replaces the NIC's. */
	ASSERT_OK(xlb_dp_nic_set(E.dp, MAC_LB, 9000), "MTU 9000");
	ASSERT_EQ(sent_to(&big), (int)(be % 10) - 1, "fits 9000: forwarded");
	ASSERT_OK(xlb_dp_nic_set(E.dp, MAC_LB, 0), "no MTU check");
	ASSERT_EQ(sent_to(&big), (int)(be % 10) - 1, "MTU 0: never answered");
	return 0;
}

static int t_ipip_too_big_4in4(void)
{
	return too_big_case(&V4_TCP, CLIENT4, 2, "10.1.0.12", 20);
}

static int t_ipip_too_big_6in6(void)
{
	return too_big_case(&V6_TCP, CLIENT6, 12, "fd00:1::12", 40);
}

static int t_ipip_too_big_4in6(void)
{
	return too_big_case(&V4_TCP, CLIENT4, 13, "fd00:1::13", 40);
}

static void mk_icmp_err(struct pb *p, const struct vip_def *v, const char *client, __u16 cport,
			int v6, __u8 type, __u8 code, __u32 rest);

/* Policy: IPv4 without DF, ICMP errors and group sources are not answered. */
static int t_ipip_too_big_unanswerable_dropped(void)
{
	struct vip_def v = with_mode(V4_TCP, XLB_MODE_IPIP);
	struct pb big, err;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&v, 1), "vip");
	mk_sized(&big, &v, CLIENT4, ENV_MTU - 20 + 1);
	big.buf[14 + 6] = 0; /* DF off */
	pb_finish(&big);
	ASSERT_OK(expect(&big, XDP_DROP, NULL, "IPv4 without DF"), "");
	mk_sized(&big, &v, CLIENT4, ENV_MTU - 20 + 1);
	re_mac(&big, MAC_LB, MAC_BCAST);
	ASSERT_OK(expect(&big, XDP_DROP, NULL, "from the broadcast MAC"), "");
	mk_flow(&err, &v, CLIENT4, 46000, F_SYN);
	ASSERT_EQ(sent_to(&err), 0, "a flow");
	mk_icmp_err(&err, &v, CLIENT4, 46000, 0, 3, 4, 1400);
	pb_init(&big);
	pb_bytes(&big, err.buf, err.len);
	pb_payload(&big, ENV_MTU - 20 + 1 - (err.len - 14), 0);
	big.buf[14 + 2] = (__u8)((ENV_MTU - 19) >> 8); /* lengthen the outer IP header */
	big.buf[14 + 3] = (__u8)(ENV_MTU - 19);
	big.buf[14 + 10] = big.buf[14 + 11] = 0;
	{
		__u16 c = pb_csum(big.buf + 14, 20, 0);

		big.buf[14 + 10] = (__u8)(c >> 8);
		big.buf[14 + 11] = (__u8)c;
	}
	ASSERT_OK(expect(&big, XDP_DROP, NULL, "a too-big ICMP error"), "");
	ASSERT_EQ(env_reason(XLB_R_ENCAP_TOO_BIG_DROP), 3, "counted");
	ASSERT_EQ(env_reason(XLB_R_ENCAP_TOO_BIG), 0, "nothing answered");
	return 0;
}

/* ---- VIP matching ----------------------------------------------------- */

static int t_port0_vip_serves_every_port(void)
{
	struct vip_def any = {"10.0.0.40",	0, TCP, XLB_MODE_DSR, XLB_HASH_5TUPLE,
			      XLB_EMPTY_REJECT, 5};
	struct vip_def https = {"10.0.0.40",	  443, TCP, XLB_MODE_DSR, XLB_HASH_5TUPLE,
				XLB_EMPTY_REJECT, 6};
	static const __u16 ports[] = {1, 22, 80, 8080, 65535};
	struct pb in, want;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&any, 1), "port-0 vip");
	ASSERT_OK(env_vip(&https, 2), "port-443 vip");
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		mk(&in, CLIENT4, 5555, "10.0.0.40", ports[i], TCP, F_SYN, 0, 0);
		expect_dsr(&in, 0, &want);
		ASSERT_OK(expect(&in, XDP_TX, &want, "port-0 VIP forwards this port"), "");
	}
	mk(&in, CLIENT4, 5555, "10.0.0.40", 443, TCP, F_SYN, 0, 0);
	ASSERT_EQ(sent_to(&in), 1, "a port-specific VIP wins over port 0");
	mk(&in, CLIENT4, 5555, "10.0.0.40", 53, UDP, 0, 0, 8);
	ASSERT_OK(expect_pass(&in, "port 0 is per protocol: UDP passes"), "");
	ASSERT_EQ(env_vip_stats(5).packets, 5, "port-0 VIP counted its packets");
	return 0;
}

/* ---- consistent hashing ---------------------------------------------- */

static __u32 predict(const __u32 *table, const char *client, __u16 cport, const struct vip_def *v,
		     int src_only)
{
	struct xlb_flow_key k = {.sport = htons(cport), .dport = htons(v->port), .proto = v->proto};

	pb_addr(client, k.saddr.b);
	pb_addr(v->addr, k.daddr.b);
	return table[xlb_hash_slot(src_only ? xlb_hash_src(&k.saddr, &ENV_SEED)
					    : xlb_hash_flow(&k, &ENV_SEED),
				   ENV_TABLE)];
}

static int t_src_hash_pins_client(void)
{
	struct vip_def v = V4_TCP;
	static const __u32 ids[] = {1, 2, 3};
	__u32 table[ENV_TABLE];
	int seen[3] = {0};
	char client[32];
	struct pb in;

	v.hash = XLB_HASH_SRC;
	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip_maglev(&v, ids, 3, table), "vip");
	for (int c = 1; c <= 32; c++) {
		int first = -1;

		snprintf(client, sizeof(client), "192.0.2.%d", c);
		for (int port = 1000; port < 1016; port++) {
			mk_flow(&in, &v, client, (__u16)port, F_SYN);
			int to = sent_to(&in);

			if (first < 0)
				first = to;
			ASSERT_EQ(to, first, "every port of a client to one backend");
		}
		ASSERT_EQ(first + 1, predict(table, client, 0, &v, 1),
			  "backend is the one user space predicts");
		seen[first] = 1;
	}
	ASSERT_EQ(seen[0] + seen[1] + seen[2], 3, "32 clients reach all three backends");
	return 0;
}

static int t_5tuple_hash_spreads_and_matches_prediction(void)
{
	static const __u32 ids[] = {1, 2, 3};
	__u32 table[ENV_TABLE];
	int count[3] = {0};
	struct pb in;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip_maglev(&V4_TCP, ids, 3, table), "vip");
	for (int port = 2000; port < 2300; port++) {
		mk_flow(&in, &V4_TCP, CLIENT4, (__u16)port, F_SYN);
		int to = sent_to(&in);

		ASSERT_EQ(to + 1, predict(table, CLIENT4, (__u16)port, &V4_TCP, 0),
			  "flow lands where user space predicts");
		count[to]++;
	}
	for (int i = 0; i < 3; i++)
		ASSERT_TRUE(count[i] > 60, "300 flows spread over three backends");
	return 0;
}

static int t_default_table_size_65537(void)
{
	struct xlb_maglev_backend mb[3];
	struct xlb_vip_key k = {.port = htons(80), .proto = TCP};
	struct xlb_vip_val val = {.vip_id = 9, .table_size = XLB_DEFAULT_TABLE_SIZE};
	__u32 *table = calloc(XLB_DEFAULT_TABLE_SIZE, sizeof(__u32));
	int rc = -1;

	if (!table)
		return -1;
	pb_addr("10.0.0.77", k.addr.b);
	for (int i = 0; i < 3; i++)
		mb[i] = (struct xlb_maglev_backend){
			.key = (__u64)i * 7919 + 1, .id = 1 + i, .weight = 1};
	if (!backends() && !xlb_maglev_build(mb, 3, XLB_DEFAULT_TABLE_SIZE, table) &&
	    !xlb_dp_vip_set(E.dp, &k, &val, table)) {
		struct vip_def v = {"10.0.0.77", 80, TCP, 0, 0, 0, 9};

		rc = 0;
		for (int port = 1; port < 200 && !rc; port++) {
			struct xlb_flow_key fk = {
				.sport = htons(port), .dport = htons(80), .proto = TCP};
			struct pb in;

			fk.saddr.w[2] = htonl(0xffff);
			pb_addr(CLIENT4, fk.saddr.b);
			pb_addr(v.addr, fk.daddr.b);
			mk_flow(&in, &v, CLIENT4, (__u16)port, F_SYN);
			__u32 want = table[xlb_hash_slot(xlb_hash_flow(&fk, &ENV_SEED),
							 XLB_DEFAULT_TABLE_SIZE)];

			if ((__u32)sent_to(&in) + 1 != want) {
				harness_fail(__FILE__, __LINE__, "port %d: not the predicted slot",
					     port);
				rc = -1;
			}
		}
	}
	free(table);
	return rc;
}

static int t_table_resize_keeps_forwarding(void)
{
	static const __u32 sizes[] = {251, 65537, 509, 251};
	struct xlb_vip_key k = {.port = htons(80), .proto = TCP};
	struct pb in;

	ASSERT_OK(backends(), "backends");
	pb_addr(V4_TCP.addr, k.addr.b);
	for (size_t i = 0; i < 4; i++) {
		struct xlb_vip_val val = {.vip_id = 1, .table_size = sizes[i]};
		__u32 *t = calloc(sizes[i], sizeof(__u32));

		ASSERT_TRUE(t != NULL, "alloc");
		for (__u32 s = 0; s < sizes[i]; s++)
			t[s] = 1 + i % 3;
		int err = xlb_dp_vip_set(E.dp, &k, &val, t);

		free(t);
		ASSERT_OK(err, "resize");
		mk_flow(&in, &V4_TCP, CLIENT4, (__u16)(3000 + i), F_SYN);
		ASSERT_EQ(sent_to(&in), (int)(i % 3), "forwards through the resized table");
	}
	return 0;
}

/* ---- flow table ------------------------------------------------------- */

static int t_flow_keeps_backend_after_table_swap(void)
{
	struct pb syn, ack, other;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V4_TCP, 1), "vip");
	mk_flow(&syn, &V4_TCP, CLIENT4, 40001, F_SYN);
	mk_flow(&ack, &V4_TCP, CLIENT4, 40001, F_ACK);
	mk_flow(&other, &V4_TCP, CLIENT4, 40002, F_SYN);
	ASSERT_EQ(sent_to(&syn), 0, "SYN to backend 1");
	ASSERT_OK(env_table_fill(V4_TCP.vip_id, 2), "swap table to backend 2");
	ASSERT_EQ(sent_to(&ack), 0, "established flow stays on backend 1");
	ASSERT_EQ(sent_to(&other), 1, "a new flow follows the new table");
	ASSERT_EQ(sent_to(&syn), 1, "a new SYN on the old tuple is a new flow");
	ASSERT_EQ(sent_to(&ack), 1, "...and its packets follow it");
	return 0;
}

static int t_flow_miss_mid_connection_hashes(void)
{
	struct pb ack;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V6_TCP, 13), "vip");
	mk_flow(&ack, &V6_TCP, CLIENT6, 40001, F_ACK);
	ASSERT_EQ(sent_to(&ack), 2, "an unknown mid-flow packet is hashed");
	ASSERT_OK(env_table_fill(V6_TCP.vip_id, 11), "swap");
	ASSERT_EQ(sent_to(&ack), 2, "and then remembered");
	ASSERT_EQ(env_vip_stats(V6_TCP.vip_id).new_flows, 1, "one flow created");
	return 0;
}

static int draining_case(const struct vip_def *v, const char *client, __u32 a, __u32 b)
{
	__u8 first = v->proto == TCP ? F_SYN : 0, next = v->proto == TCP ? F_ACK : 0;
	struct pb f1, f1b, f2;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(v, a), "vip");
	mk_flow(&f1, v, client, 41000, first);
	mk_flow(&f1b, v, client, 41000, next);
	mk_flow(&f2, v, client, 41001, first);
	ASSERT_EQ(sent_to(&f1), 0, "flow starts on backend A");
	ASSERT_OK(env_table_fill(v->vip_id, b), "A out of the table");
	ASSERT_OK(env_backend_state(a, XLB_BE_DRAINING, 1), "A draining");
	ASSERT_EQ(sent_to(&f1b), 0, "established flow stays on draining A");
	ASSERT_EQ(sent_to(&f2), 1, "a new flow goes to B");
	ASSERT_EQ(sent_to(&f1b), 0, "still on A");
	ASSERT_EQ(env_reason(XLB_R_FLOW_BACKEND_GONE), 0, "nothing re-hashed");
	return 0;
}

static int t_draining_keeps_flows_tcp_v4(void)
{
	return draining_case(&V4_TCP, CLIENT4, 1, 2);
}

static int t_draining_keeps_flows_udp_v6(void)
{
	return draining_case(&V6_UDP, CLIENT6, 11, 12);
}

static int t_down_backend_flow_moves(void)
{
	struct pb syn, ack;
	struct xlb_flow_key k = {.sport = htons(42000), .dport = htons(80), .proto = TCP};
	struct xlb_flow_entry fv;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V4_TCP, 1), "vip");
	mk_flow(&syn, &V4_TCP, CLIENT4, 42000, F_SYN);
	mk_flow(&ack, &V4_TCP, CLIENT4, 42000, F_ACK);
	ASSERT_EQ(sent_to(&syn), 0, "flow on backend 1");
	ASSERT_OK(env_table_fill(V4_TCP.vip_id, 2), "backend 1 out of the table");
	ASSERT_OK(env_backend_state(1, XLB_BE_DOWN, 1), "backend 1 down");
	ASSERT_EQ(sent_to(&ack), 1, "flow moved at once to backend 2");
	ASSERT_EQ(env_reason(XLB_R_FLOW_BACKEND_GONE), 1, "re-hash counted");
	pb_addr(CLIENT4, k.saddr.b);
	pb_addr(V4_TCP.addr, k.daddr.b);
	ASSERT_OK(xlb_dp_flow_get(E.dp, &k, &fv), "flow entry");
	ASSERT_EQ(fv.backend_id, 2, "flow entry now names backend 2");
	ASSERT_EQ(sent_to(&ack), 1, "stays on backend 2");
	ASSERT_EQ(env_reason(XLB_R_FLOW_BACKEND_GONE), 1, "re-hashed once");
	return 0;
}

static int t_recycled_backend_id_moves_flow(void)
{
	struct pb syn, ack;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V4_TCP, 1), "vip");
	mk_flow(&syn, &V4_TCP, CLIENT4, 43000, F_SYN);
	mk_flow(&ack, &V4_TCP, CLIENT4, 43000, F_ACK);
	ASSERT_EQ(sent_to(&syn), 0, "flow on backend 1");
	ASSERT_OK(env_table_fill(V4_TCP.vip_id, 2), "swap to backend 2");
	/* Id 1 is given to another server: new generation, new MAC. */
	ASSERT_OK(env_backend(1, "10.9.9.9", 3, XLB_BE_ACTIVE), "reassign id 1");
	ASSERT_OK(env_backend_state(1, XLB_BE_ACTIVE, 2), "generation 2");
	ASSERT_EQ(sent_to(&ack), 1, "flow does not follow the recycled id");
	return 0;
}

static int t_udp_idle_flow_rehashed(void)
{
	struct pb p;

	env_close();
	ASSERT_OK(env_open(200), "open with 200 ms UDP idle timeout");
	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V4_UDP, 1), "vip");
	mk_flow(&p, &V4_UDP, CLIENT4, 44000, 0);
	ASSERT_EQ(sent_to(&p), 0, "UDP flow on backend 1");
	ASSERT_OK(env_table_fill(V4_UDP.vip_id, 2), "swap to backend 2");
	ASSERT_EQ(sent_to(&p), 0, "active UDP flow stays");
	usleep(500 * 1000);
	ASSERT_EQ(sent_to(&p), 1, "idle UDP flow re-hashed after the timeout");
	ASSERT_EQ(env_reason(XLB_R_UDP_FLOW_EXPIRED), 1, "expiry counted");
	return 0;
}

/* The flow key of a client's packets to v. */
static struct xlb_flow_key flow_key(const struct vip_def *v, const char *client, __u16 cport)
{
	struct xlb_flow_key k = {.sport = htons(cport), .dport = htons(v->port), .proto = v->proto};

	pb_addr(client, k.saddr.b);
	pb_addr(v->addr, k.daddr.b);
	return k;
}

/*
 * The fleet case (select.h): a connection ended by the client (FIN, or RST)
 * leaves its entry; a new connection on the same 5-tuple began on another
 * LB, which Maglev sent to the table's current backend; the router moves it
 * here mid-stream. Past the closed bound, the old entry no longer counts.
 */
static int t_closed_idle_flow_rehashed(void)
{
	static const __u8 closing[] = {F_FIN | F_ACK, F_RST};

	ASSERT_OK(backends(), "backends");
	for (int i = 0; i < 2; i++) {
		__u16 port = (__u16)(45000 + i);
		struct xlb_flow_key k = flow_key(&V4_TCP, CLIENT4, port);
		struct pb syn, end, ack;
		struct xlb_flow_entry e;

		ASSERT_OK(env_vip(&V4_TCP, 1), "vip on backend 1");
		mk_flow(&syn, &V4_TCP, CLIENT4, port, F_SYN);
		mk_flow(&end, &V4_TCP, CLIENT4, port, closing[i]);
		mk_flow(&ack, &V4_TCP, CLIENT4, port, F_ACK);
		ASSERT_EQ(sent_to(&syn), 0, "old connection on backend 1");
		ASSERT_EQ(sent_to(&end), 0, "its client's FIN (RST) too");
		ASSERT_OK(xlb_dp_flow_get(E.dp, &k, &e), "entry");
		ASSERT_EQ(e.flags & XLB_FLOW_CLOSED, XLB_FLOW_CLOSED, "the entry is closed");
		ASSERT_OK(env_table_fill(V4_TCP.vip_id, 2), "table now says backend 2");
		ASSERT_OK(env_flow_idle(&k, XLB_DEFAULT_CLOSED_IDLE_MS + 1000), "idle 11 s");
		ASSERT_EQ(sent_to(&ack), 1,
			  "mid-stream packet: the table's backend, not the stale one");
		ASSERT_EQ(env_reason(XLB_R_TCP_CLOSED_FLOW_EXPIRED), (__u64)i + 1,
			  "expiry counted");
		ASSERT_EQ(env_reason(XLB_R_FLOW_MISS), (__u64)i + 1, "as a miss");
		ASSERT_OK(xlb_dp_flow_get(E.dp, &k, &e), "entry");
		ASSERT_EQ(e.backend_id, 2, "the entry was replaced");
		ASSERT_EQ(e.flags & XLB_FLOW_CLOSED, 0, "by an open one");
		ASSERT_EQ(sent_to(&ack), 1, "the flow stays on backend 2");
		ASSERT_EQ(env_reason(XLB_R_TCP_CLOSED_FLOW_EXPIRED), (__u64)i + 1, "once");
	}
	ASSERT_EQ(env_vip_stats(V4_TCP.vip_id).new_flows, 2, "a replaced entry is no new flow");
	return 0;
}

/* A closing connection's last packets keep its backend: a FIN retransmitted
 * within the bound, and a half-closed transfer whose every ACK refreshes. */
static int t_closed_flow_within_bound_keeps_backend(void)
{
	struct xlb_flow_key k = flow_key(&V6_TCP, CLIENT6, 45100);
	struct pb syn, fin, ack;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V6_TCP, 11), "vip on backend 11");
	mk_flow(&syn, &V6_TCP, CLIENT6, 45100, F_SYN);
	mk_flow(&fin, &V6_TCP, CLIENT6, 45100, F_FIN | F_ACK);
	mk_flow(&ack, &V6_TCP, CLIENT6, 45100, F_ACK);
	ASSERT_EQ(sent_to(&syn), 0, "connection on backend 11");
	ASSERT_EQ(sent_to(&fin), 0, "client's FIN");
	ASSERT_OK(env_table_fill(V6_TCP.vip_id, 12), "table now says backend 12");
	ASSERT_OK(env_flow_idle(&k, XLB_DEFAULT_CLOSED_IDLE_MS / 2), "idle 5 s");
	ASSERT_EQ(sent_to(&fin), 0, "the FIN retransmitted: still backend 11");
	ASSERT_OK(env_flow_idle(&k, XLB_DEFAULT_CLOSED_IDLE_MS * 7 / 10), "idle 7 s more");
	ASSERT_EQ(sent_to(&ack), 0, "an ACK 12 s after the FIN, 7 s after the last packet");
	ASSERT_EQ(env_reason(XLB_R_TCP_CLOSED_FLOW_EXPIRED), 0, "nothing expired");
	ASSERT_EQ(env_reason(XLB_R_FLOW_MISS), 0, "no miss");
	return 0;
}

/* An open TCP connection never expires by age (select.h says why): idle
 * past the closed bound, or for hours, it keeps its backend. */
static int t_open_idle_flow_keeps_backend(void)
{
	struct xlb_flow_key k = flow_key(&V4_TCP, CLIENT4, 45200);
	struct pb syn, ack;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V4_TCP, 1), "vip on backend 1");
	mk_flow(&syn, &V4_TCP, CLIENT4, 45200, F_SYN);
	mk_flow(&ack, &V4_TCP, CLIENT4, 45200, F_ACK);
	ASSERT_EQ(sent_to(&syn), 0, "connection on backend 1");
	ASSERT_EQ(sent_to(&ack), 0, "established");
	ASSERT_OK(env_table_fill(V4_TCP.vip_id, 2), "table now says backend 2");
	ASSERT_OK(env_flow_idle(&k, XLB_DEFAULT_CLOSED_IDLE_MS + 1000), "idle 11 s");
	ASSERT_EQ(sent_to(&ack), 0, "idle as long as an expired closed flow: kept");
	ASSERT_OK(env_flow_idle(&k, 3 * 3600 * 1000), "idle 3 h");
	ASSERT_EQ(sent_to(&ack), 0, "idle past a keepalive interval: kept");
	ASSERT_EQ(env_reason(XLB_R_TCP_CLOSED_FLOW_EXPIRED), 0, "nothing expired");
	ASSERT_EQ(env_reason(XLB_R_FLOW_MISS), 0, "no miss");
	return 0;
}

/* The loader's option sets the bound. */
static int t_closed_idle_bound_is_an_option(void)
{
	struct xlb_flow_key k = flow_key(&V4_TCP, CLIENT4, 45300);
	struct pb syn, fin, ack;

	env_close();
	ASSERT_OK(env_open_idle(0, 2000), "open with a 2 s closed bound");
	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V4_TCP, 1), "vip on backend 1");
	mk_flow(&syn, &V4_TCP, CLIENT4, 45300, F_SYN);
	mk_flow(&fin, &V4_TCP, CLIENT4, 45300, F_FIN | F_ACK);
	mk_flow(&ack, &V4_TCP, CLIENT4, 45300, F_ACK);
	ASSERT_EQ(sent_to(&syn), 0, "connection on backend 1");
	ASSERT_EQ(sent_to(&fin), 0, "client's FIN");
	ASSERT_OK(env_table_fill(V4_TCP.vip_id, 2), "table now says backend 2");
	ASSERT_OK(env_flow_idle(&k, 1000), "idle 1 s");
	ASSERT_EQ(sent_to(&ack), 0, "within 2 s: kept");
	ASSERT_OK(env_flow_idle(&k, 3000), "idle 3 s");
	ASSERT_EQ(sent_to(&ack), 1, "beyond 2 s: re-hashed");
	ASSERT_EQ(env_reason(XLB_R_TCP_CLOSED_FLOW_EXPIRED), 1, "expiry counted");
	return 0;
}

/* Client ports whose flows to v share one flow-table bucket (4096-flow env). */
static int same_bucket_ports(const struct vip_def *v, __u16 *ports, int n)
{
	struct xlb_flow_key k = {.dport = htons(v->port), .proto = v->proto};
	__u32 want = 0;
	int found = 0;

	pb_addr(CLIENT4, k.saddr.b);
	pb_addr(v->addr, k.daddr.b);
	for (__u32 port = 1024; port < 65535 && found < n; port++) {
		__u32 b;

		k.sport = htons((__u16)port);
		b = xlb_hash_bucket(xlb_hash_flow(&k, &ENV_SEED), 4096 / XLB_FLOW_WAYS);
		if (!found)
			want = b;
		if (b == want)
			ports[found++] = (__u16)port;
	}
	return found == n ? 0 : -1;
}

static int t_full_bucket_evicts_least_recently_used(void)
{
	struct pb syn[5], ack[5];
	__u16 ports[5];

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V4_TCP, 1), "vip");
	ASSERT_OK(same_bucket_ports(&V4_TCP, ports, 5), "five flows of one bucket");
	for (int i = 0; i < 5; i++) {
		mk_flow(&syn[i], &V4_TCP, CLIENT4, ports[i], F_SYN);
		mk_flow(&ack[i], &V4_TCP, CLIENT4, ports[i], F_ACK);
	}
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(sent_to(&syn[i]), 0, "flows A-D on backend 1");
		usleep(20 * 1000);
	}
	usleep(300 * 1000); /* past the access-time granule */
	ASSERT_EQ(sent_to(&ack[0]), 0, "A is used again");
	ASSERT_OK(env_table_fill(V4_TCP.vip_id, 2), "table now says backend 2");
	ASSERT_EQ(sent_to(&syn[4]), 1, "E: a fifth flow in the full bucket");
	ASSERT_EQ(env_reason(XLB_R_FLOW_EVICTED), 1, "one flow evicted");
	ASSERT_EQ(sent_to(&ack[0]), 0, "A, recently used, kept its backend");
	ASSERT_EQ(sent_to(&ack[2]), 0, "C kept its backend");
	ASSERT_EQ(sent_to(&ack[3]), 0, "D kept its backend");
	ASSERT_EQ(sent_to(&ack[1]), 1, "B, least recently used, was evicted and re-hashed");
	return 0;
}

/* ---- the flow table's size and its counters ----------------------------- */

/* Every bucket of a table of nb buckets is some hash's: the multiply-shift
 * of xlb_hash_bucket has no unreachable bucket when nb is no power of two. */
static int every_bucket_reachable(__u32 nb)
{
	for (__u32 v = 0; v < nb; v++) {
		/* the least slot hash of bucket v, before the rotation */
		__u32 h = (__u32)((((__u64)v << 32) + nb - 1) / nb);
		__u32 flow_hash = (h >> 16) | (h << 16);

		if (xlb_hash_bucket(flow_hash, nb) != v)
			return -1;
	}
	return 0;
}

static int t_flow_table_size_applied(void)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), top = 0, nb = 6000 / XLB_FLOW_WAYS;
	__u16 top_port = 0;
	struct xlb_flow_entry e;
	__u64 used = 0;

	ASSERT_OK(every_bucket_reachable(1500), "1500 buckets: each reachable");
	ASSERT_OK(every_bucket_reachable(XLB_MIN_FLOW_ENTRIES / XLB_FLOW_WAYS + 1), "1025 buckets");
	ASSERT_OK(every_bucket_reachable(XLB_MAX_FLOW_ENTRIES / XLB_FLOW_WAYS - 1), "2^24 - 1");
	env_close();
	ASSERT_OK(env_open_sized(6000, NULL), "open with 6000 flows (1500 buckets)");
	ASSERT_EQ(xlb_dp_flow_entries(E.dp), 6000, "size");
	ASSERT_OK(bpf_obj_get_info_by_fd(xlb_dp_flows_fd(E.dp), &info, &len), "map info");
	ASSERT_EQ(info.max_entries, nb, "the map has 1500 buckets");
	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V4_TCP, 1), "vip");
	for (__u16 port = 20000; port < 20400; port++) {
		struct xlb_flow_key k = {.sport = htons(port), .dport = htons(80), .proto = TCP};
		struct pb syn;
		__u32 b;

		pb_addr(CLIENT4, k.saddr.b);
		pb_addr(V4_TCP.addr, k.daddr.b);
		b = xlb_hash_bucket(xlb_hash_flow(&k, &ENV_SEED), nb);
		if (b >= top) {
			top = b;
			top_port = port;
		}
		mk_flow(&syn, &V4_TCP, CLIENT4, port, F_SYN);
		ASSERT_EQ(sent_to(&syn), 0, "forwarded");
	}
	ASSERT_TRUE(top > nb - 20, "some flow hashes near the table's end");
	{
		struct xlb_flow_key k = {
			.sport = htons(top_port), .dport = htons(80), .proto = TCP};

		pb_addr(CLIENT4, k.saddr.b);
		pb_addr(V4_TCP.addr, k.daddr.b);
		ASSERT_OK(xlb_dp_flow_get(E.dp, &k, &e), "the data plane used 1500 buckets too");
	}
	ASSERT_OK(xlb_dp_flow_count(E.dp, NULL, NULL, 0, &used), "count");
	ASSERT_EQ(used, 400, "400 flows in the table (none evicted at 7% fill)");
	env_close();
	return env_open(0);
}

/* SYNs, hits and misses: the data plane counts the miss path only. */
static int t_flow_table_counts_lookups(void)
{
	struct xlb_dp_flow_lookups l = {};
	struct pb syn[3], ack[3], stray;
	__u64 used = 1;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V4_TCP, 1), "vip");
	ASSERT_OK(xlb_dp_flow_count(E.dp, NULL, NULL, 0, &used), "count");
	ASSERT_EQ(used, 0, "empty table");
	for (int i = 0; i < 3; i++) {
		mk_flow(&syn[i], &V4_TCP, CLIENT4, (__u16)(41000 + i), F_SYN);
		mk_flow(&ack[i], &V4_TCP, CLIENT4, (__u16)(41000 + i), F_ACK);
		ASSERT_EQ(sent_to(&syn[i]), 0, "SYN");
	}
	for (int n = 0; n < 2; n++)
		for (int i = 0; i < 3; i++)
			ASSERT_EQ(sent_to(&ack[i]), 0, "established");
	mk_flow(&stray, &V4_TCP, CLIENT4, 41999, F_ACK); /* a flow the table never saw */
	ASSERT_EQ(sent_to(&stray), 0, "miss: Maglev");
	ASSERT_EQ(env_reason(XLB_R_FLOW_SYN), 3, "three SYNs");
	ASSERT_EQ(env_reason(XLB_R_FLOW_MISS), 1, "one miss");
	ASSERT_OK(xlb_dp_flow_lookups(E.dp, &l), "lookups");
	ASSERT_EQ(l.hits, 6, "six hits");
	ASSERT_EQ(l.misses, 1, "one miss");
	ASSERT_EQ(l.syns, 3, "three SYNs");
	ASSERT_EQ(l.evictions, 0, "no eviction");
	ASSERT_OK(xlb_dp_flow_count(E.dp, NULL, NULL, 0, &used), "count");
	ASSERT_EQ(used, 4, "four flows remembered");
	/* hits are VIP packets minus misses and SYNs over every VIP id, so a
	 * deleted VIP's hits stay in the total: the counter never goes back */
	{
		struct xlb_vip_key k = {.port = htons(80), .proto = TCP};

		pb_addr(V4_TCP.addr, k.addr.b);
		ASSERT_OK(xlb_dp_vip_del(E.dp, &k), "delete the VIP");
	}
	ASSERT_OK(xlb_dp_flow_lookups(E.dp, &l), "lookups");
	ASSERT_EQ(l.hits, 6, "a deleted VIP's hits still counted");
	return 0;
}

/* A pinned flow table of another size is refused and left as it was. */
static int t_flow_table_size_change_refused_on_pins(void)
{
	struct pb syn, ack;
	char dir[64];
	int rc = -1;

	snprintf(dir, sizeof(dir), "/sys/fs/bpf/xt-size-%d", (int)getpid());
	xlb_dp_unpin(dir);
	env_close();
	mk_flow(&syn, &V4_TCP, CLIENT4, 52000, F_SYN);
	mk_flow(&ack, &V4_TCP, CLIENT4, 52000, F_ACK);
	if (env_open_sized(4096, dir) || backends() || env_vip(&V4_TCP, 1) || sent_to(&syn) != 0) {
		harness_fail(__FILE__, __LINE__, "first instance: set up and forward");
		goto out;
	}
	env_close();
	if (env_open_sized(8192, dir) != -ESTALE) {
		harness_fail(__FILE__, __LINE__, "another size adopted the pinned table");
		goto out;
	}
	if (env_open_sized(4096, dir) || !xlb_dp_adopted(E.dp) ||
	    xlb_dp_flow_entries(E.dp) != 4096 || env_table_fill(V4_TCP.vip_id, 2) ||
	    sent_to(&ack) != 0) {
		harness_fail(__FILE__, __LINE__,
			     "the refusal changed the pinned table or its flow");
		goto out;
	}
	rc = 0;
out:
	env_close();
	xlb_dp_unpin(dir);
	return rc ?: env_open(0);
}

static int t_torn_flow_entry_reads_as_miss(void)
{
	struct xlb_flow_key k = {.sport = htons(49000), .dport = htons(80), .proto = TCP};
	__u32 h, idx;
	struct xlb_flow_bucket b;
	struct pb syn, ack;
	int fd = xlb_dp_flows_fd(E.dp);

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V4_TCP, 1), "vip");
	mk_flow(&syn, &V4_TCP, CLIENT4, 49000, F_SYN);
	mk_flow(&ack, &V4_TCP, CLIENT4, 49000, F_ACK);
	ASSERT_EQ(sent_to(&syn), 0, "flow on backend 1");
	ASSERT_OK(env_table_fill(V4_TCP.vip_id, 2), "table now says backend 2");
	pb_addr(CLIENT4, k.saddr.b);
	pb_addr(V4_TCP.addr, k.daddr.b);
	h = xlb_hash_flow(&k, &ENV_SEED);
	idx = xlb_hash_bucket(h, 4096 / XLB_FLOW_WAYS);
	ASSERT_OK(bpf_map_lookup_elem(fd, &idx, &b), "read bucket");
	for (int w = 0; w < XLB_FLOW_WAYS; w++)
		if (b.tag[w] == (h | 1))
			b.way[w].backend_id = 3; /* as if caught mid-rewrite */
	ASSERT_OK(bpf_map_update_elem(fd, &idx, &b, BPF_ANY), "write bucket");
	ASSERT_EQ(sent_to(&ack), 1, "a torn entry is a miss, never backend 3");
	return 0;
}

/* ---- no usable backend ------------------------------------------------ */

static int t_empty_reject_tcp_syn_v4(void)
{
	struct pb in, want;

	ASSERT_OK(env_vip(&V4_TCP, 0), "empty vip");
	mk(&in, CLIENT4, 45000, V4_TCP.addr, 80, TCP, F_SYN, 0, 0);
	pb_init(&want);
	pb_eth(&want, MAC_ROUTER, MAC_LB, 0, 0x0800);
	pb_ip4(&want, V4_TCP.addr, CLIENT4, TCP, 64, 0, 0, 0);
	pb_tcp(&want, 80, 45000, 0, 1001, F_RST | F_ACK, 0);
	pb_finish(&want);
	ASSERT_OK(expect(&in, XDP_TX, &want, "RST|ACK, ack = seq + 1"), "");
	ASSERT_EQ(env_reason(XLB_R_REJECT_TCP_RST), 1, "reject counted");
	ASSERT_EQ(env_vip_stats(V4_TCP.vip_id).no_backend_packets, 1, "VIP no-backend count");
	return 0;
}

static int t_empty_reject_tcp_data_v6(void)
{
	struct pb in, want;

	ASSERT_OK(env_vip(&V6_TCP, 0), "empty vip");
	mk(&in, CLIENT6, 45001, V6_TCP.addr, 80, TCP, F_ACK | F_PSH, 0, 100);
	pb_init(&want);
	pb_eth(&want, MAC_ROUTER, MAC_LB, 0, 0x86dd);
	pb_ip6(&want, V6_TCP.addr, CLIENT6, TCP, 64, 0, 0);
	pb_tcp(&want, 80, 45001, 2000, 0, F_RST, 0);
	pb_finish(&want);
	ASSERT_OK(expect(&in, XDP_TX, &want, "RST, seq = segment's ack"), "");
	return 0;
}

static int t_empty_reject_tcp_fin_vlan_v4(void)
{
	struct pb in, want;

	ASSERT_OK(env_vip(&V4_TCP, 0), "empty vip");
	mk(&in, CLIENT4, 45002, V4_TCP.addr, 80, TCP, F_FIN, 9, 10);
	pb_init(&want);
	pb_eth(&want, MAC_ROUTER, MAC_LB, 9, 0x0800);
	pb_ip4(&want, V4_TCP.addr, CLIENT4, TCP, 64, 0, 0, 0);
	pb_tcp(&want, 80, 45002, 0, 1000 + 10 + 1, F_RST | F_ACK, 0);
	pb_finish(&want);
	ASSERT_OK(expect(&in, XDP_TX, &want, "RST|ACK covers data and FIN, tag kept"), "");
	return 0;
}

static int t_empty_reject_udp_v4(void)
{
	struct pb in, want;

	ASSERT_OK(env_vip(&V4_UDP, 0), "empty vip");
	mk(&in, CLIENT4, 45003, V4_UDP.addr, 53, UDP, 0, 0, 30);
	pb_init(&want);
	pb_eth(&want, MAC_ROUTER, MAC_LB, 0, 0x0800);
	pb_ip4(&want, V4_UDP.addr, CLIENT4, 1, 64, 0, 0, 0);
	pb_icmp4(&want, 3, 3, 0);
	pb_bytes(&want, in.buf + 14, 28);
	pb_finish(&want);
	ASSERT_OK(expect(&in, XDP_TX, &want, "ICMP port unreachable quoting 28 bytes"), "");
	ASSERT_EQ(env_reason(XLB_R_REJECT_ICMP_UNREACH), 1, "reject counted");
	return 0;
}

static int t_empty_reject_udp_v6(void)
{
	struct pb in, want;

	ASSERT_OK(env_vip(&V6_UDP, 0), "empty vip");
	mk(&in, CLIENT6, 45004, V6_UDP.addr, 53, UDP, 0, 0, 30);
	pb_init(&want);
	pb_eth(&want, MAC_ROUTER, MAC_LB, 0, 0x86dd);
	pb_ip6(&want, V6_UDP.addr, CLIENT6, 58, 64, 0, 0);
	pb_icmp6(&want, 1, 4, 0);
	pb_bytes(&want, in.buf + 14, 48);
	pb_finish(&want);
	ASSERT_OK(expect(&in, XDP_TX, &want, "ICMPv6 port unreachable quoting 48 bytes"), "");
	return 0;
}

static int t_empty_reject_never_answers_rst(void)
{
	struct pb in;

	ASSERT_OK(env_vip(&V4_TCP, 0), "empty vip");
	mk(&in, CLIENT4, 45005, V4_TCP.addr, 80, TCP, F_RST, 0, 0);
	ASSERT_OK(expect(&in, XDP_DROP, NULL, "a RST is not answered"), "");
	ASSERT_EQ(env_reason(XLB_R_NO_BACKEND_UNANSWERABLE), 1, "counted");
	return 0;
}

/* Send n copies of p; how many came back as XDP_TX (the rest must be drops). */
static int count_tx(const struct pb *p, int n)
{
	__u8 out[PB_MAX];
	size_t out_len;
	int tx = 0;

	for (int i = 0; i < n; i++) {
		int rc = env_run(E.prog_fd, p->buf, p->len, out, &out_len);

		if (rc == XDP_TX)
			tx++;
		else if (rc != XDP_DROP)
			return -1;
	}
	return tx;
}

/* Replies at a bounded rate: a per-CPU token bucket per VIP. */
static int t_empty_reject_rate_limited(void)
{
	unsigned int cpus = xlb_dp_reject_cpus();
	struct vip_def slow = V4_TCP, fast = V6_UDP, dflt = V4_UDP;
	cpu_set_t old, one;
	struct pb syn, udp6, udp4;
	int rc = -1, tx;

	/* The buckets are per CPU: stay on one for the whole case. */
	sched_getaffinity(0, sizeof(old), &old);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	sched_setaffinity(0, sizeof(one), &one);
	/* slow: 4 a second on this CPU, a burst of 4 */
	if (env_vip_rate(&slow, 0, 4 * cpus) || env_vip_rate(&fast, 0, XLB_REJECT_RATE_UNLIMITED) ||
	    env_vip(&dflt, 0))
		goto out;
	mk_flow(&syn, &slow, CLIENT4, 45100, F_SYN);
	mk_flow(&udp6, &fast, CLIENT6, 45101, 0);
	mk_flow(&udp4, &dflt, CLIENT4, 45102, 0);
	tx = count_tx(&syn, 10);
	if (tx != 4 || env_reason(XLB_R_REJECT_RATE_LIMITED) != 6 ||
	    env_reason(XLB_R_REJECT_TCP_RST) != 4) {
		harness_fail(__FILE__, __LINE__, "burst of 10: %d answered (want 4), %llu limited",
			     tx, (unsigned long long)env_reason(XLB_R_REJECT_RATE_LIMITED));
		goto out;
	}
	usleep(300 * 1000); /* one token back (250 ms each) */
	tx = count_tx(&syn, 3);
	if (tx != 1) {
		harness_fail(__FILE__, __LINE__, "after 300 ms: %d answered, want 1", tx);
		goto out;
	}
	tx = count_tx(&udp6, 3000);
	if (tx != 3000) {
		harness_fail(__FILE__, __LINE__, "unlimited: %d of 3000 answered", tx);
		goto out;
	}
	/* Default: XLB_DEFAULT_REJECT_RATE shared by the CPUs, one second's burst. */
	tx = count_tx(&udp4, 3000);
	if (tx < (int)(XLB_DEFAULT_REJECT_RATE / cpus) ||
	    tx > (int)(XLB_DEFAULT_REJECT_RATE / cpus) * 3 / 2) {
		harness_fail(__FILE__, __LINE__, "default rate: %d of 3000 answered, want ~%u", tx,
			     XLB_DEFAULT_REJECT_RATE / cpus);
		goto out;
	}
	rc = 0;
out:
	sched_setaffinity(0, sizeof(old), &old);
	return rc;
}

static int t_empty_drop(void)
{
	struct vip_def v = with_empty(V6_UDP, XLB_EMPTY_DROP);
	struct pb in;

	ASSERT_OK(env_vip(&v, 0), "empty vip");
	mk_flow(&in, &v, CLIENT6, 45006, 0);
	ASSERT_OK(expect(&in, XDP_DROP, NULL, "dropped"), "");
	ASSERT_EQ(env_reason(XLB_R_NO_BACKEND_DROP), 1, "no_backend counted");
	ASSERT_EQ(env_vip_stats(v.vip_id).no_backend_packets, 1, "VIP no-backend count");
	return 0;
}

static int t_empty_pass(void)
{
	struct vip_def v = with_empty(V4_TCP, XLB_EMPTY_PASS);
	struct pb in;

	ASSERT_OK(env_vip(&v, 0), "empty vip");
	mk_flow(&in, &v, CLIENT4, 45007, F_SYN);
	ASSERT_OK(expect_pass(&in, "handed to the stack untouched"), "");
	ASSERT_EQ(env_reason(XLB_R_NO_BACKEND_PASS), 1, "no_backend_pass counted");
	return 0;
}

static int t_table_names_inactive_backend(void)
{
	struct pb in;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_backend_state(3, XLB_BE_DOWN, 1), "backend 3 down");
	ASSERT_OK(env_vip(&V4_TCP, 3), "table still names it");
	mk_flow(&in, &V4_TCP, CLIENT4, 45008, F_SYN);
	ASSERT_OK(expect(&in, XDP_DROP, NULL, "not forwarded to a DOWN backend"), "");
	ASSERT_EQ(env_reason(XLB_R_BACKEND_NOT_ACTIVE), 1, "counted");
	return 0;
}

/* ---- ICMP errors about VIP flows -------------------------------------- */

/* An ICMP error from a router about a packet the VIP sent to the client. */
static void mk_icmp_err(struct pb *p, const struct vip_def *v, const char *client, __u16 cport,
			int v6, __u8 type, __u8 code, __u32 rest)
{
	struct pb inner;

	pb_init(&inner);
	if (v6)
		pb_ip6(&inner, v->addr, client, v->proto, 64, 0, 0);
	else
		pb_ip4(&inner, v->addr, client, v->proto, 64, 0, 0x4000, 0);
	if (v->proto == TCP)
		pb_tcp(&inner, v->port, cport, 7777, 1001, F_ACK, 512);
	else
		pb_udp(&inner, v->port, cport);
	pb_payload(&inner, 1400, 1);
	pb_finish(&inner);

	pb_init(p);
	pb_eth(p, MAC_LB, MAC_ROUTER, 0, v6 ? 0x86dd : 0x0800);
	if (v6) {
		pb_ip6(p, ROUTER6, v->addr, 58, 64, 0, 0);
		pb_icmp6(p, type, code, rest);
		pb_bytes(p, inner.buf, 40 + 8 + 64);
	} else {
		pb_ip4(p, ROUTER4, v->addr, 1, 64, 0, 0, 0);
		pb_icmp4(p, type, code, rest);
		pb_bytes(p, inner.buf, 20 + 8 + 64);
	}
	pb_finish(p);
}

static int icmp_err_case(const struct vip_def *v, const char *client, int v6, __u8 type, __u8 code,
			 __u32 rest)
{
	__u32 a = v6 ? 11 : 1, b = v6 ? 12 : 2;
	struct pb syn, err, want;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(v, a), "vip");
	mk_flow(&syn, v, client, 46000, F_SYN);
	ASSERT_EQ(sent_to(&syn), 0, "flow on backend A");
	ASSERT_OK(env_table_fill(v->vip_id, b), "table now hashes to B");
	mk_icmp_err(&err, v, client, 46000, v6, type, code, rest);
	expect_dsr(&err, 0, &want);
	ASSERT_OK(expect(&err, XDP_TX, &want, "ICMP error to the flow's backend, untouched"), "");
	ASSERT_EQ(env_reason(XLB_R_ICMP_ERROR_FORWARDED), 1, "counted");
	ASSERT_EQ(env_vip_stats(v->vip_id).new_flows, 1, "ICMP created no flow");
	/* A quoted flow the table does not know is hashed like the flow would be. */
	mk_icmp_err(&err, v, client, 46001, v6, type, code, rest);
	ASSERT_EQ(sent_to(&err), 1, "unknown flow: hashed to B");
	return 0;
}

/* About a closed flow idle beyond the bound, an ICMP error (a frag-needed
 * for the 5-tuple's new connection) goes where Maglev sends that connection,
 * and leaves the entry as it was. */
static int t_icmp_error_about_closed_idle_flow(void)
{
	struct xlb_flow_key k = flow_key(&V4_TCP, CLIENT4, 46100);
	struct pb syn, fin, ack, err;
	struct xlb_flow_entry e;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V4_TCP, 1), "vip on backend 1");
	mk_flow(&syn, &V4_TCP, CLIENT4, 46100, F_SYN);
	mk_flow(&fin, &V4_TCP, CLIENT4, 46100, F_FIN | F_ACK);
	mk_flow(&ack, &V4_TCP, CLIENT4, 46100, F_ACK);
	mk_icmp_err(&err, &V4_TCP, CLIENT4, 46100, 0, 3, 4, 1400);
	ASSERT_EQ(sent_to(&syn), 0, "old connection on backend 1");
	ASSERT_EQ(sent_to(&fin), 0, "closed by the client");
	ASSERT_EQ(sent_to(&err), 0, "an ICMP error about the closing flow: its backend");
	ASSERT_OK(env_table_fill(V4_TCP.vip_id, 2), "table now says backend 2");
	ASSERT_OK(env_flow_idle(&k, XLB_DEFAULT_CLOSED_IDLE_MS + 1000), "idle 11 s");
	ASSERT_EQ(sent_to(&err), 1, "idle beyond the bound: Maglev's backend");
	ASSERT_OK(xlb_dp_flow_get(E.dp, &k, &e), "entry");
	ASSERT_EQ(e.backend_id, 1, "the ICMP error did not write the entry");
	ASSERT_EQ(sent_to(&ack), 1, "the next packet re-hashes too");
	ASSERT_OK(xlb_dp_flow_get(E.dp, &k, &e), "entry");
	ASSERT_EQ(e.backend_id, 2, "and replaces the entry");
	return 0;
}

static int t_icmp_frag_needed_v4(void)
{
	return icmp_err_case(&V4_TCP, CLIENT4, 0, 3, 4, 1400);
}

static int t_icmp6_packet_too_big(void)
{
	return icmp_err_case(&V6_TCP, CLIENT6, 1, 2, 0, 1400);
}

static int t_icmp_time_exceeded_udp_v4(void)
{
	return icmp_err_case(&V4_UDP, CLIENT4, 0, 11, 0, 0);
}

static int t_icmp_error_ipip(void)
{
	struct vip_def v = with_mode(V4_TCP, XLB_MODE_IPIP);
	struct pb err, want;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&v, 1), "vip");
	mk_icmp_err(&err, &v, CLIENT4, 46100, 0, 3, 4, 1400);
	expect_ipip(&err, 14, 0, "10.1.0.11", 0, 46100, CLIENT4, &want);
	ASSERT_OK(expect(&err, XDP_TX, &want, "ICMP error encapsulated to the backend"), "");
	return 0;
}

static int t_icmp_non_vip_and_echo_pass(void)
{
	struct vip_def other = V4_TCP;
	struct pb p;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V4_TCP, 1), "vip");
	other.addr = "10.0.0.99";
	mk_icmp_err(&p, &other, CLIENT4, 46200, 0, 3, 4, 1400);
	/* The outer destination is not a VIP either: it must pass. */
	ASSERT_OK(expect_pass(&p, "error about a non-VIP flow"), "");
	pb_init(&p);
	pb_eth(&p, MAC_LB, MAC_ROUTER, 0, 0x0800);
	pb_ip4(&p, CLIENT4, V4_TCP.addr, 1, 64, 0, 0, 0);
	pb_icmp4(&p, 8, 0, 0x12340001);
	pb_payload(&p, 56, 3);
	pb_finish(&p);
	ASSERT_OK(expect_pass(&p, "echo request to a VIP"), "");
	return 0;
}

/* Set the outer destination of an ICMP error built by mk_icmp_err. */
static void icmp_outer_dst(struct pb *p, int v6, const char *dst)
{
	__u8 a[16];

	pb_addr(dst, a);
	if (v6)
		memcpy(p->buf + 14 + 24, a, 16);
	else
		memcpy(p->buf + 14 + 16, a + 12, 4);
	pb_finish(p);
}

/*
 * An error quoting a VIP flow but sent elsewhere (the LB's own address,
 * another VIP address) is not about that flow: it passes, untouched.
 */
static int icmp_outer_dst_case(const struct vip_def *v, const struct vip_def *v2,
			       const char *client, int v6, const char *elsewhere)
{
	__u32 be = v6 ? 11 : 1;
	struct pb syn, err;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(v, be), "vip");
	ASSERT_OK(env_vip(v2, be + 1), "a second VIP address");
	mk_flow(&syn, v, client, 46300, F_SYN);
	ASSERT_EQ(sent_to(&syn), 0, "the flow exists");
	mk_icmp_err(&err, v, client, 46300, v6, v6 ? 2 : 3, v6 ? 0 : 4, 1400);
	ASSERT_EQ(sent_to(&err), 0, "sent to the VIP: forwarded to the flow's backend");
	icmp_outer_dst(&err, v6, elsewhere);
	ASSERT_OK(expect_pass(&err, "sent to a non-VIP address"), "");
	icmp_outer_dst(&err, v6, v2->addr);
	ASSERT_OK(expect_pass(&err, "sent to another VIP address"), "");
	ASSERT_EQ(env_reason(XLB_R_ICMP_ERROR_FORWARDED), 1, "only the first forwarded");
	ASSERT_EQ(env_vip_stats(v2->vip_id).packets, 0, "the other VIP saw nothing");
	return 0;
}

static int t_icmp_error_to_other_address_passes_v4(void)
{
	struct vip_def v2 = V4_UDP;

	v2.addr = "10.0.0.40";
	v2.proto = TCP;
	v2.port = 80;
	return icmp_outer_dst_case(&V4_TCP, &v2, CLIENT4, 0, "10.0.0.2");
}

static int t_icmp_error_to_other_address_passes_v6(void)
{
	struct vip_def v2 = V6_TCP;

	v2.addr = "fd00::40";
	v2.proto = UDP;
	v2.port = 53;
	v2.vip_id = 5;
	return icmp_outer_dst_case(&V6_UDP, &v2, CLIENT6, 1, "fd00::2");
}

/* ---- fragments, options, extension headers ---------------------------- */

static void mk_frag4(struct pb *p, const char *dst, __u16 frag_off)
{
	pb_init(p);
	pb_eth(p, MAC_LB, MAC_ROUTER, 0, 0x0800);
	pb_ip4(p, CLIENT4, dst, UDP, 64, 0, frag_off, 0);
	pb_udp(p, 5000, 53);
	pb_payload(p, 64, 1);
	pb_finish(p);
}

static int t_fragments_v4(void)
{
	struct pb p;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V4_UDP, 1), "vip");
	mk_frag4(&p, V4_UDP.addr, 0x2000);
	ASSERT_OK(expect(&p, XDP_DROP, NULL, "first fragment to a VIP"), "");
	mk_frag4(&p, V4_UDP.addr, 185);
	ASSERT_OK(expect(&p, XDP_DROP, NULL, "last fragment to a VIP"), "");
	ASSERT_EQ(env_reason(XLB_R_FRAGMENT), 2, "fragments counted");
	mk_frag4(&p, "10.0.0.99", 0x2000);
	ASSERT_OK(expect_pass(&p, "fragment to another address"), "");
	ASSERT_EQ(env_reason(XLB_R_FRAGMENT), 2, "not counted");
	return 0;
}

static int t_ipv4_options(void)
{
	struct pb p;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V4_TCP, 1), "vip");
	pb_init(&p);
	pb_eth(&p, MAC_LB, MAC_ROUTER, 0, 0x0800);
	pb_ip4(&p, CLIENT4, V4_TCP.addr, TCP, 64, 0, 0, 8);
	pb_tcp(&p, 5000, 80, 1, 0, F_SYN, 1000);
	pb_finish(&p);
	ASSERT_OK(expect(&p, XDP_DROP, NULL, "options to a VIP"), "");
	ASSERT_EQ(env_reason(XLB_R_IPV4_OPTIONS), 1, "counted");
	pb_init(&p);
	pb_eth(&p, MAC_LB, MAC_ROUTER, 0, 0x0800);
	pb_ip4(&p, CLIENT4, "10.0.0.99", TCP, 64, 0, 0, 8);
	pb_tcp(&p, 5000, 80, 1, 0, F_SYN, 1000);
	pb_finish(&p);
	ASSERT_OK(expect_pass(&p, "options to another address"), "");
	return 0;
}

static void mk_ext6(struct pb *p, const char *dst, __u8 ext)
{
	pb_init(p);
	pb_eth(p, MAC_LB, MAC_ROUTER, 0, 0x86dd);
	pb_ip6(p, CLIENT6, dst, ext, 64, 0, 0);
	pb_ext6(p, TCP);
	pb_tcp(p, 5000, 80, 1, 0, F_SYN, 1000);
	pb_finish(p);
}

static int t_ipv6_ext_headers(void)
{
	struct pb p;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V6_TCP, 11), "vip");
	mk_ext6(&p, V6_TCP.addr, 0);
	ASSERT_OK(expect(&p, XDP_DROP, NULL, "hop-by-hop to a VIP"), "");
	mk_ext6(&p, V6_TCP.addr, 60);
	ASSERT_OK(expect(&p, XDP_DROP, NULL, "destination options to a VIP"), "");
	ASSERT_EQ(env_reason(XLB_R_IPV6_EXT_HEADER), 2, "ext headers counted");
	mk_ext6(&p, V6_TCP.addr, 44);
	ASSERT_OK(expect(&p, XDP_DROP, NULL, "fragment header to a VIP"), "");
	ASSERT_EQ(env_reason(XLB_R_FRAGMENT), 1, "fragment counted");
	mk_ext6(&p, "fd00::99", 60);
	ASSERT_OK(expect_pass(&p, "ext header to another address"), "");
	return 0;
}

/* ---- truncation ------------------------------------------------------- */

/* Rewrite the IP length fields of a cut frame so they agree with its size. */
static void fix_lengths(__u8 *b, size_t len, size_t l2)
{
	if (len >= l2 + 4 && (b[l2] >> 4) == 4) {
		b[l2 + 2] = (__u8)((len - l2) >> 8);
		b[l2 + 3] = (__u8)(len - l2);
	} else if (len >= l2 + 6 && (b[l2] >> 4) == 6) {
		size_t pl = len >= l2 + 40 ? len - l2 - 40 : 0;

		b[l2 + 4] = (__u8)(pl >> 8);
		b[l2 + 5] = (__u8)pl;
	}
}

/*
 * Cut the packet at every length below hdr_end. A cut that leaves the IP
 * header too short to hold the destination passes untouched; the others
 * are dropped and counted once when sent to a VIP address, else they pass
 * untouched too (the stack, raw sockets and its counters see them).
 */
static int truncate_all(const struct pb *p, size_t l2, size_t hdr_end, int to_vip, const char *what)
{
	size_t ip_fixed = l2 + ((p->buf[l2] >> 4) == 6 ? 40 : 20);
	__u8 cut[PB_MAX], out[PB_MAX];

	for (int fix = 0; fix < 2; fix++) {
		for (size_t len = 14; len < hdr_end; len++) {
			__u64 before = env_reason(XLB_R_TRUNCATED) + env_reason(XLB_R_MALFORMED);
			int drop = to_vip && len >= ip_fixed;
			size_t out_len = 0;
			int rc;

			memcpy(cut, p->buf, len);
			if (fix)
				fix_lengths(cut, len, l2);
			rc = env_run(E.prog_fd, cut, len, out, &out_len);
			if (rc != (drop ? XDP_DROP : XDP_PASS) ||
			    env_reason(XLB_R_TRUNCATED) + env_reason(XLB_R_MALFORMED) !=
				    before + (__u64)drop ||
			    (!drop && (out_len != len || memcmp(out, cut, len)))) {
				harness_fail(__FILE__, __LINE__,
					     "%s cut at %zu (lengths %s): verdict %d, want %s",
					     what, len, fix ? "fixed" : "as sent", rc,
					     drop ? "drop counted once"
						  : "pass untouched, uncounted");
				return -1;
			}
		}
	}
	return 0;
}

static int t_truncated_headers_dropped_and_counted(void)
{
	struct pb p;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V4_TCP, 1), "vip");
	ASSERT_OK(env_vip(&V6_UDP, 11), "vip6");
	mk(&p, CLIENT4, 1, V4_TCP.addr, 80, TCP, F_SYN, 0, 0);
	ASSERT_OK(truncate_all(&p, 14, 14 + 20 + 20, 1, "v4 TCP"), "");
	mk(&p, CLIENT4, 1, V4_TCP.addr, 80, TCP, F_SYN, 100, 0);
	ASSERT_OK(truncate_all(&p, 18, 18 + 20 + 20, 1, "802.1Q v4 TCP"), "");
	mk(&p, CLIENT6, 1, V6_UDP.addr, 53, UDP, 0, 0, 0);
	ASSERT_OK(truncate_all(&p, 14, 14 + 40 + 8, 1, "v6 UDP"), "");
	mk(&p, CLIENT6, 1, V6_UDP.addr, 80, TCP, F_SYN, 0, 0);
	ASSERT_OK(truncate_all(&p, 14, 14 + 40 + 20, 1, "v6 TCP to a VIP address, no VIP"), "");
	mk_icmp_err(&p, &V4_TCP, CLIENT4, 2, 0, 3, 4, 1400);
	ASSERT_OK(truncate_all(&p, 14, 14 + 20 + 8 + 20 + 8, 1, "ICMP error"), "");
	mk_icmp_err(&p, &V6_UDP, CLIENT6, 2, 1, 2, 0, 1400);
	ASSERT_OK(truncate_all(&p, 14, 14 + 40 + 8 + 40 + 8, 1, "ICMPv6 error"), "");
	ASSERT_EQ(env_vip_stats(V4_TCP.vip_id).packets, 0, "nothing reached a VIP");
	ASSERT_EQ(env_backend_stats(1).packets, 0, "nothing forwarded");
	return 0;
}

/* Not for a VIP address: however broken, the stack gets it as it came. */
static int t_truncated_non_vip_pass_untouched(void)
{
	struct vip_def other4 = V4_TCP, other6 = V6_UDP;
	struct pb p;

	other4.addr = "10.0.0.99";
	other6.addr = "fd00::99";
	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V4_TCP, 1), "vip");
	ASSERT_OK(env_vip(&V6_UDP, 11), "vip6");
	mk(&p, CLIENT4, 1, "10.0.0.99", 80, TCP, F_SYN, 0, 0);
	ASSERT_OK(truncate_all(&p, 14, 14 + 20 + 20, 0, "v4 TCP"), "");
	mk(&p, CLIENT4, 1, "10.0.0.99", 80, TCP, F_SYN, 100, 0);
	ASSERT_OK(truncate_all(&p, 18, 18 + 20 + 20, 0, "802.1Q v4 TCP"), "");
	mk(&p, CLIENT6, 1, "fd00::99", 53, UDP, 0, 0, 0);
	ASSERT_OK(truncate_all(&p, 14, 14 + 40 + 8, 0, "v6 UDP"), "");
	mk_icmp_err(&p, &other4, CLIENT4, 2, 0, 3, 4, 1400);
	ASSERT_OK(truncate_all(&p, 14, 14 + 20 + 8 + 20 + 8, 0, "ICMP error"), "");
	mk_icmp_err(&p, &other6, CLIENT6, 2, 1, 2, 0, 1400);
	ASSERT_OK(truncate_all(&p, 14, 14 + 40 + 8 + 40 + 8, 0, "ICMPv6 error"), "");

	/* Malformed with the destination known: IHL 4, TCP offset 4, IPv6 version 5. */
	mk(&p, CLIENT4, 1, "10.0.0.99", 80, TCP, F_SYN, 0, 0);
	p.buf[14] = 0x44;
	ASSERT_OK(expect_pass(&p, "IHL 4 to another address"), "");
	p.buf[14] = 0x45;
	p.buf[14 + 20 + 12] = 0x40;
	ASSERT_OK(expect_pass(&p, "TCP offset 4 to another address"), "");
	mk(&p, CLIENT6, 1, "fd00::99", 53, UDP, 0, 0, 0);
	p.buf[14] = 0x50 | (p.buf[14] & 0xf);
	ASSERT_OK(expect_pass(&p, "IPv6 header with version 5 to another address"), "");
	ASSERT_EQ(env_reason(XLB_R_TRUNCATED) + env_reason(XLB_R_MALFORMED), 0, "nothing counted");
	mk(&p, CLIENT6, 1, V6_UDP.addr, 53, UDP, 0, 0, 0);
	p.buf[14] = 0x50 | (p.buf[14] & 0xf);
	ASSERT_OK(expect(&p, XDP_DROP, NULL, "version 5 to a VIP address"), "");
	ASSERT_EQ(env_reason(XLB_R_MALFORMED), 1, "counted malformed");
	return 0;
}

/* ---- counters --------------------------------------------------------- */

static int t_counters_move_as_expected(void)
{
	struct vip_def v = with_empty(V4_TCP, XLB_EMPTY_DROP);
	struct pb syn, ack, other, stray;
	__u64 bytes;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&v, 1), "vip");
	mk_flow(&syn, &v, CLIENT4, 47000, F_SYN);
	mk_flow(&ack, &v, CLIENT4, 47000, F_ACK);
	mk_flow(&other, &v, CLIENT4, 47001, F_SYN);
	mk(&stray, CLIENT4, 1, "10.0.0.99", 80, TCP, F_SYN, 0, 0);
	bytes = syn.len + 2 * ack.len + other.len;
	ASSERT_EQ(sent_to(&syn), 0, "syn");
	ASSERT_EQ(sent_to(&ack), 0, "ack");
	ASSERT_EQ(sent_to(&ack), 0, "ack");
	ASSERT_EQ(sent_to(&other), 0, "other");
	ASSERT_EQ(sent_to(&stray), -1, "not a VIP");

	struct xlb_vip_stats vs = env_vip_stats(v.vip_id);
	struct xlb_backend_stats bs = env_backend_stats(1);

	ASSERT_EQ(vs.packets, 4, "VIP packets");
	ASSERT_EQ(vs.bytes, bytes, "VIP bytes");
	ASSERT_EQ(vs.new_flows, 2, "VIP new flows");
	ASSERT_EQ(vs.no_backend_packets, 0, "VIP no-backend");
	ASSERT_EQ(bs.packets, 4, "backend packets");
	ASSERT_EQ(bs.bytes, bytes, "backend bytes");
	ASSERT_EQ(env_backend_stats(2).packets, 0, "other backend untouched");

	ASSERT_OK(env_table_fill(v.vip_id, 0), "empty the table");
	/* a third flow: the same SYN again at once would be a duplicate of
	 * `other` (lib/synretry.h), sent where that one went */
	mk_flow(&other, &v, CLIENT4, 47002, F_SYN);
	ASSERT_EQ(sent_to(&other), -1, "new SYN finds nobody");
	ASSERT_EQ(sent_to(&ack), 0, "established flow still forwarded");
	vs = env_vip_stats(v.vip_id);
	ASSERT_EQ(vs.packets, 6, "VIP packets");
	ASSERT_EQ(vs.no_backend_packets, 1, "VIP no-backend");
	ASSERT_EQ(env_reason(XLB_R_NO_BACKEND_DROP), 1, "drop reason");
	ASSERT_EQ(env_backend_stats(1).packets, 5, "backend packets");
	ASSERT_EQ(env_reason(XLB_R_FLOW_SYN), 3, "three SYNs took the Maglev table");
	for (__u32 r = 1; r < XLB_REASON_SLOTS; r++)
		if (r != XLB_R_NO_BACKEND_DROP && r != XLB_R_FLOW_SYN)
			ASSERT_EQ(env_reason(r), 0, "no other reason moved");
	return 0;
}

static int t_reason_names_from_one_list(void)
{
	ASSERT_TRUE(!strcmp(xlb_reason_name(XLB_R_TRUNCATED), "truncated"), "truncated");
	ASSERT_TRUE(!strcmp(xlb_reason_name(XLB_R_NO_BACKEND_DROP), "no_backend"), "no_backend");
	ASSERT_EQ(xlb_reason_kind(XLB_R_REJECT_TCP_RST), XLB_KIND_TX, "reject is a TX");
	ASSERT_TRUE(xlb_reason_name(0) == NULL, "id 0 unused");
	for (__u32 a = 1; a < XLB_REASON_SLOTS; a++)
		for (__u32 b = a + 1; b < XLB_REASON_SLOTS; b++)
			if (xlb_reason_name(a) && xlb_reason_name(b))
				ASSERT_TRUE(strcmp(xlb_reason_name(a), xlb_reason_name(b)),
					    "names unique");
	return 0;
}

/* ---- VIP lifecycle ---------------------------------------------------- */

static int t_vip_delete(void)
{
	struct xlb_vip_key k = {.port = htons(80), .proto = TCP};
	struct pb p, frag;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&V4_TCP, 1), "vip tcp");
	ASSERT_OK(env_vip(&V4_UDP, 2), "vip udp, same address");
	pb_addr(V4_TCP.addr, k.addr.b);
	ASSERT_OK(xlb_dp_vip_del(E.dp, &k), "delete the TCP VIP");
	mk_flow(&p, &V4_TCP, CLIENT4, 48000, F_SYN);
	ASSERT_OK(expect_pass(&p, "deleted VIP passes"), "");
	mk_frag4(&frag, V4_TCP.addr, 0x2000);
	ASSERT_OK(expect(&frag, XDP_DROP, NULL, "address still a VIP (UDP)"), "");
	k.port = htons(53);
	k.proto = UDP;
	ASSERT_OK(xlb_dp_vip_del(E.dp, &k), "delete the UDP VIP");
	ASSERT_OK(expect_pass(&frag, "no VIP left on the address"), "");
	ASSERT_EQ(xlb_dp_vip_del(E.dp, &k), -ENOENT, "deleting twice");
	return 0;
}

/*
 * The program's per-CPU VIP cache (bpf/lib/vip_cache.h) never serves a
 * VIP that changed or went away: each change is seen by the next packet
 * on the same CPU, within the same jiffy. Fails when xlb_dp_vip_set/del
 * do not bump the cache generation (an entry lives up to a tick then).
 */
static int t_vip_changes_seen_at_once(void)
{
	struct xlb_vip_key k = {.port = htons(80), .proto = TCP};
	struct vip_def drop = with_empty(V4_TCP, XLB_EMPTY_DROP);
	cpu_set_t old, one;
	struct pb syn;
	int rc = -1;

	/* one CPU, one cache row, for the whole case */
	sched_getaffinity(0, sizeof(old), &old);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	sched_setaffinity(0, sizeof(one), &one);
	pb_addr(V4_TCP.addr, k.addr.b);
	if (backends())
		goto out;
	for (int i = 0; i < 20; i++) {
		/* a new client port each time: a SYN repeated within 200 ms is a
		 * duplicate and follows its flow entry (lib/synretry.h), not the
		 * VIP */
		mk_flow(&syn, &V4_TCP, CLIENT4, (__u16)(48100 + 4 * i), F_SYN);
		if (env_vip(&V4_TCP, 1) || sent_to(&syn) != 0) {
			harness_fail(__FILE__, __LINE__, "round %d: VIP to backend 1 not used", i);
			goto out;
		}
		mk_flow(&syn, &V4_TCP, CLIENT4, (__u16)(48101 + 4 * i), F_SYN);
		if (env_vip(&drop, 0) || expect(&syn, XDP_DROP, NULL, "on_empty drop at once")) {
			harness_fail(__FILE__, __LINE__, "round %d: the changed VIP not seen", i);
			goto out;
		}
		mk_flow(&syn, &V4_TCP, CLIENT4, (__u16)(48102 + 4 * i), F_SYN);
		if (xlb_dp_vip_del(E.dp, &k) || expect_pass(&syn, "deleted VIP passes at once")) {
			harness_fail(__FILE__, __LINE__, "round %d: the deleted VIP still used", i);
			goto out;
		}
	}
	rc = 0;
out:
	sched_setaffinity(0, sizeof(old), &old);
	return rc;
}

static int t_library_rejects_bad_input(void)
{
	struct xlb_backend b = {.family = XLB_AF_INET, .state = XLB_BE_ACTIVE, .gen = 1};
	struct xlb_vip_key k = {.port = htons(80), .proto = TCP};
	struct xlb_vip_val v = {.vip_id = 1, .table_size = ENV_TABLE};
	__u32 table[ENV_TABLE] = {0};

	pb_addr("10.0.0.10", k.addr.b);
	ASSERT_EQ(xlb_dp_backend_set(E.dp, 0, &b), -EINVAL, "backend id 0 is reserved");
	ASSERT_EQ(xlb_dp_backend_set(E.dp, XLB_MAX_BACKENDS, &b), -EINVAL, "backend id too big");
	b.state = 7;
	ASSERT_EQ(xlb_dp_backend_set(E.dp, 1, &b), -EINVAL, "unknown state");
	b.state = XLB_BE_ACTIVE;
	b.family = 5;
	ASSERT_EQ(xlb_dp_backend_set(E.dp, 1, &b), -EINVAL, "unknown family");
	k.proto = 1;
	ASSERT_EQ(xlb_dp_vip_set(E.dp, &k, &v, NULL), -EINVAL, "VIP protocol ICMP");
	k.proto = TCP;
	v.table_size = XLB_MAX_TABLE_SIZE + 1;
	ASSERT_EQ(xlb_dp_vip_set(E.dp, &k, &v, NULL), -EINVAL, "table too big");
	v.table_size = ENV_TABLE;
	v.on_empty = 9;
	ASSERT_EQ(xlb_dp_vip_set(E.dp, &k, &v, NULL), -EINVAL, "unknown on_empty");
	v.on_empty = XLB_EMPTY_REJECT;
	table[7] = XLB_MAX_BACKENDS;
	ASSERT_EQ(xlb_dp_vip_set(E.dp, &k, &v, table), -EINVAL, "table names an impossible id");
	ASSERT_EQ(xlb_dp_vip_del(E.dp, &k), -ENOENT, "nothing was created");
	return 0;
}

/* ---- restart: pinned maps are adopted ---------------------------------- */

static int t_pinned_state_survives_reload(void)
{
	char dir[64];
	struct pb syn, ack;
	int rc = -1;

	snprintf(dir, sizeof(dir), "/sys/fs/bpf/xlb-test-%d", (int)getpid());
	xlb_dp_unpin(dir);
	env_close();
	if (env_open_pinned(0, dir))
		goto out;
	mk_flow(&syn, &V4_TCP, CLIENT4, 52000, F_SYN);
	mk_flow(&ack, &V4_TCP, CLIENT4, 52000, F_ACK);
	if (xlb_dp_adopted(E.dp) || backends() || env_vip(&V4_TCP, 1) || sent_to(&syn) != 0) {
		harness_fail(__FILE__, __LINE__, "first instance: set up and forward");
		goto out;
	}
	env_close(); /* the agent exits; its maps stay pinned */
	if (env_open_pinned(0, dir) || !xlb_dp_adopted(E.dp)) {
		harness_fail(__FILE__, __LINE__, "second instance did not adopt the pins");
		goto out;
	}
	if (env_table_fill(V4_TCP.vip_id, 2) || sent_to(&ack) != 0 ||
	    env_vip_stats(V4_TCP.vip_id).packets != 2) {
		harness_fail(__FILE__, __LINE__, "flow, VIP or counters lost across the reload");
		goto out;
	}
	env_close();
	if (xlb_dp_unpin(dir) || env_open_pinned(0, dir) || xlb_dp_adopted(E.dp) ||
	    sent_to(&syn) != -1) {
		harness_fail(__FILE__, __LINE__, "unpin did not remove the state");
		goto out;
	}
	rc = 0;
out:
	env_close();
	xlb_dp_unpin(dir);
	return rc ?: env_open(0);
}

/* ---- the hash seed ---------------------------------------------------- */

/* The data plane picks the slot user space predicts under its seed. */
static int t_seed_slot_matches_prediction(void)
{
	const struct xlb_hash_seed seed = {{0x243f6a8885a308d3ull, 0x13198a2e03707344ull}};
	static const __u32 ids[] = {1, 2, 3};
	__u32 table[ENV_TABLE];
	int other = 0;

	env_close();
	ASSERT_OK(env_open_seeded(0, NULL, &seed), "load with another seed");
	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip_maglev(&V4_TCP, ids, 3, table), "vip");
	for (__u16 port = 1000; port < 1200; port++) {
		struct xlb_flow_key k = {
			.sport = htons(port), .dport = htons(V4_TCP.port), .proto = TCP};
		struct pb in;
		__u32 want, under_env;

		pb_addr(CLIENT4, k.saddr.b);
		pb_addr(V4_TCP.addr, k.daddr.b);
		want = table[xlb_hash_slot(xlb_hash_flow(&k, &seed), ENV_TABLE)];
		under_env = table[xlb_hash_slot(xlb_hash_flow(&k, &ENV_SEED), ENV_TABLE)];
		other += want != under_env;
		mk_flow(&in, &V4_TCP, CLIENT4, port, F_SYN);
		ASSERT_EQ((__u32)sent_to(&in) + 1, want, "the predicted backend");
	}
	/* Unrelated hashes over 3 backends disagree about 2/3 of the time. */
	ASSERT_TRUE(other > 100, "the seed decides: another seed, other backends");
	return 0;
}

/*
 * In a private network namespace (its own lo): attach with one seed, then
 * open the pins with another (refused, -ESTALE) and with the same (adopted).
 */
static int seed_pins_child(const char *dir)
{
	const struct xlb_hash_seed other = {{1, 2}};
	struct xlb_hash_seed got;

	if (unshare(CLONE_NEWNET))
		return 10;
	env_close();
	if (env_open_pinned(0, dir) || xlb_dp_attach(E.dp, 1, 1))
		return 11;
	env_close(); /* the agent exits; the pinned link keeps forwarding */
	if (xlb_dp_pinned_seed(dir, &got) || memcmp(&got, &ENV_SEED, sizeof(got)))
		return 12;
	if (env_open_seeded(0, dir, &other) != -ESTALE)
		return 13;
	if (xlb_dp_pinned_seed(dir, &got) || memcmp(&got, &ENV_SEED, sizeof(got)))
		return 14; /* the refusal left the running program alone */
	if (env_open_pinned(0, dir) || !xlb_dp_adopted(E.dp))
		return 15;
	env_close();
	return 0;
}

static int t_seed_change_refused_on_pins(void)
{
	char dir[64];
	int status = -1;
	pid_t pid;

	snprintf(dir, sizeof(dir), "/sys/fs/bpf/xsd2-seed-%d", (int)getpid());
	xlb_dp_unpin(dir);
	pid = fork();
	if (pid == 0)
		_exit(seed_pins_child(dir));
	ASSERT_TRUE(pid > 0, "fork");
	waitpid(pid, &status, 0);
	xlb_dp_unpin(dir);
	ASSERT_TRUE(WIFEXITED(status), "the child ran to its end");
	ASSERT_EQ(WEXITSTATUS(status), 0, "step that failed (see seed_pins_child)");
	return 0;
}

/* ---- backend-side decapsulation --------------------------------------- */

static struct decap *decap;

static int decap_run(const struct pb *in, int verdict, const struct pb *want, const char *what)
{
	__u8 out[PB_MAX];
	size_t out_len = 0;

	ASSERT_EQ(env_run(bpf_program__fd(decap->progs.xlb_decap), in->buf, in->len, out, &out_len),
		  verdict, what);
	if (want)
		ASSERT_MEM(out, out_len, want->buf, want->len, what);
	return 0;
}

/* Tunnel packet = outer header + inner packet; the decap must give back eth+inner. */
static int decap_case(const char *outer_src, const char *outer_dst, const char *client,
		      const char *vip, int vlan)
{
	struct pb inner, in, want;
	int o6 = is_v6(outer_dst), i6 = is_v6(vip);
	size_t l2 = vlan ? 18 : 14;

	mk(&inner, client, 50000, vip, 80, TCP, F_SYN, vlan, 200);
	pb_init(&in);
	pb_eth(&in, MAC_BACKEND[0], MAC_LB, vlan, o6 ? 0x86dd : 0x0800);
	if (o6)
		pb_ip6(&in, outer_src, outer_dst, i6 ? 41 : 4, 64, 0, 0);
	else
		pb_ip4(&in, outer_src, outer_dst, 4, 64, 0, 0, 0);
	pb_bytes(&in, inner.buf + l2, inner.len - l2);
	pb_finish(&in);
	pb_init(&want);
	pb_eth(&want, MAC_BACKEND[0], MAC_LB, vlan, i6 ? 0x86dd : 0x0800);
	pb_bytes(&want, inner.buf + l2, inner.len - l2);
	return decap_run(&in, XDP_PASS, &want, "inner packet handed to the stack");
}

static int t_decap_4in4(void)
{
	return decap_case("172.16.1.2", "10.1.0.11", CLIENT4, "10.0.0.10", 0);
}

static int t_decap_6in6(void)
{
	return decap_case("fd00:ffff::1", "fd00:1::11", CLIENT6, "fd00::10", 0);
}

static int t_decap_4in6(void)
{
	return decap_case("fd00:ffff::1", "fd00:1::11", CLIENT4, "10.0.0.10", 0);
}

static int t_decap_vlan(void)
{
	return decap_case("172.16.1.2", "10.1.0.11", CLIENT4, "10.0.0.10", 5);
}

static int t_decap_leaves_other_traffic(void)
{
	struct pb p;

	mk(&p, CLIENT4, 1, "10.1.0.11", 22, TCP, F_SYN, 0, 0);
	ASSERT_OK(decap_run(&p, XDP_PASS, &p, "plain TCP untouched"), "");
	pb_init(&p);
	pb_eth(&p, MAC_BACKEND[0], MAC_LB, 0, 0x0800);
	pb_ip4(&p, "172.16.1.2", "10.1.0.11", 4, 64, 0, 0, 0);
	pb_payload(&p, 10, 0);
	pb_finish(&p);
	ASSERT_OK(decap_run(&p, XDP_DROP, NULL, "tunnel packet with a 10-byte inner"), "");
	return 0;
}

/* xlb's ipip output, decapsulated, is the client's packet with new MACs. */
static int t_decap_roundtrip_with_xlb(void)
{
	struct vip_def v = with_mode(V6_UDP, XLB_MODE_IPIP);
	__u8 out[PB_MAX];
	size_t out_len;
	struct pb in, tunnel, want;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip(&v, 12), "vip");
	mk_flow(&in, &v, CLIENT6, 51000, 0);
	ASSERT_EQ(env_run(E.prog_fd, in.buf, in.len, out, &out_len), XDP_TX, "encapsulated");
	pb_init(&tunnel);
	pb_bytes(&tunnel, out, out_len);
	expect_dsr(&in, 1, &want);
	return decap_run(&tunnel, XDP_PASS, &want, "decap(encap(p)) == p with backend MACs");
}

#define CASE(fn)                                                                                   \
	{                                                                                          \
		&(#fn)[2], fn                                                                      \
	}

/* ---- decapsulation trusts only the load balancers, only to this host ---- */

/* The lab's trust: the fixtures' encap prefixes, the backends' addresses. */
static int decap_trust_setup(void)
{
	static const char *allow[] = {"172.16.0.0/16", "fd00:ffff::/112"};
	static const char *local[] = {"10.1.0.11",  "10.1.0.12",  "10.1.0.13",
				      "fd00:1::11", "fd00:1::12", "fd00:1::13"};
	int fd4 = bpf_map__fd(decap->maps.decap_allow4),
	    fd6 = bpf_map__fd(decap->maps.decap_allow6);
	struct xlb_prefix p;
	char why[128];

	for (size_t i = 0; i < 2; i++)
		if (xlb_prefix_parse(allow[i], &p, why, sizeof(why)) ||
		    xlb_decap_allow(fd4, fd6, &p))
			return -1;
	for (size_t i = 0; i < 6; i++) {
		union xlb_addr a;

		if (xlb_addr_parse(local[i], &a) < 0 ||
		    xlb_decap_local(bpf_map__fd(decap->maps.decap_local), &a))
			return -1;
	}
	return 0;
}

static __u64 decap_counter(__u32 id)
{
	int n = libbpf_num_possible_cpus();
	__u64 v[256] = {}, sum = 0;

	if (n > 256 || bpf_map_lookup_elem(bpf_map__fd(decap->maps.decap_stats), &id, v))
		return ~0ull;
	for (int i = 0; i < n; i++)
		sum += v[i];
	return sum;
}

/* A tunnel packet that must be dropped and counted under counter. */
static int decap_refused(const char *outer_src, const char *outer_dst, const char *vip,
			 __u32 counter, const char *what)
{
	struct pb inner, in;
	int o6 = is_v6(outer_dst), i6 = is_v6(vip);
	__u64 before = decap_counter(counter),
	      ok = decap_counter(o6 ? XLB_DECAP_IP6 : XLB_DECAP_IPIP);

	mk(&inner, i6 ? CLIENT6 : CLIENT4, 50000, vip, 22, TCP, F_SYN, 0, 20);
	pb_init(&in);
	pb_eth(&in, MAC_BACKEND[0], MAC_LB, 0, o6 ? 0x86dd : 0x0800);
	if (o6)
		pb_ip6(&in, outer_src, outer_dst, i6 ? 41 : 4, 64, 0, 0);
	else
		pb_ip4(&in, outer_src, outer_dst, 4, 64, 0, 0, 0);
	pb_bytes(&in, inner.buf + 14, inner.len - 14);
	pb_finish(&in);
	ASSERT_OK(decap_run(&in, XDP_DROP, NULL, what), what);
	ASSERT_EQ(decap_counter(counter), before + 1, "counted under its reason");
	ASSERT_EQ(decap_counter(o6 ? XLB_DECAP_IP6 : XLB_DECAP_IPIP), ok,
		  "not counted as decapsulated");
	return 0;
}

static int t_decap_allowed_counted(void)
{
	__u64 v4 = decap_counter(XLB_DECAP_IPIP), v6 = decap_counter(XLB_DECAP_IP6);

	ASSERT_OK(decap_case("172.16.255.254", "10.1.0.13", CLIENT4, "10.0.0.10", 0), "v4");
	ASSERT_OK(decap_case("fd00:ffff::ffff", "fd00:1::12", CLIENT6, "fd00::10", 0), "v6");
	ASSERT_EQ(decap_counter(XLB_DECAP_IPIP), v4 + 1, "IPv4 outer counted");
	ASSERT_EQ(decap_counter(XLB_DECAP_IP6), v6 + 1, "IPv6 outer counted");
	return 0;
}

static int t_decap_foreign_source_dropped(void)
{
	ASSERT_OK(decap_refused("192.0.2.99", "10.1.0.11", "10.0.0.10", XLB_DECAP_FOREIGN_SRC,
				"4in4 from outside the prefix"),
		  "");
	ASSERT_OK(decap_refused("172.17.0.1", "10.1.0.11", "10.0.0.10", XLB_DECAP_FOREIGN_SRC,
				"4in4 from just past the prefix"),
		  "");
	ASSERT_OK(decap_refused("fd00:fffe::1", "fd00:1::11", "fd00::10", XLB_DECAP_FOREIGN_SRC,
				"6in6 from outside the prefix"),
		  "");
	ASSERT_OK(decap_refused("fd00:ffff::1:0", "fd00:1::11", "10.0.0.10", XLB_DECAP_FOREIGN_SRC,
				"4in6 from just past the /112"),
		  "");
	return 0;
}

static int t_decap_wrong_destination_dropped(void)
{
	ASSERT_OK(decap_refused("172.16.1.2", "10.1.0.99", "10.0.0.10", XLB_DECAP_NOT_LOCAL,
				"4in4 to another host"),
		  "");
	ASSERT_OK(decap_refused("fd00:ffff::1", "fd00:1::99", "fd00::10", XLB_DECAP_NOT_LOCAL,
				"6in6 to another host"),
		  "");
	ASSERT_OK(decap_refused("fd00:ffff::1", "::ffff:10.1.0.11", "10.0.0.10",
				XLB_DECAP_NOT_LOCAL,
				"an IPv6 outer naming a local IPv4 address in mapped form"),
		  "");
	return 0;
}

static const struct harness_case cases[] = {
	CASE(t_non_vip_passes_untouched),
	CASE(t_arp_and_nd_pass),
	CASE(t_frames_for_other_macs_pass),
	CASE(t_nic_mac_change_and_unset),
	CASE(t_reject_never_answers_group_sources),
	CASE(t_attach_follows_the_link),
	CASE(t_dsr_tcp_syn_v4),
	CASE(t_dsr_tcp_syn_v6),
	CASE(t_dsr_udp_v4),
	CASE(t_dsr_udp_v6),
	CASE(t_dsr_vlan_tagged),
	CASE(t_ipip_tcp_syn_4in4),
	CASE(t_ipip_udp_4in4),
	CASE(t_ipip_tcp_syn_6in6),
	CASE(t_ipip_udp_6in6),
	CASE(t_ipip_tcp_4in6),
	CASE(t_ipip_udp_4in6),
	CASE(t_ipip_vlan_tagged),
	CASE(t_ipip_6in4_refused),
	CASE(t_ipip_too_big_4in4),
	CASE(t_ipip_too_big_6in6),
	CASE(t_ipip_too_big_4in6),
	CASE(t_ipip_too_big_unanswerable_dropped),
	CASE(t_port0_vip_serves_every_port),
	CASE(t_src_hash_pins_client),
	CASE(t_5tuple_hash_spreads_and_matches_prediction),
	CASE(t_default_table_size_65537),
	CASE(t_table_resize_keeps_forwarding),
	CASE(t_flow_keeps_backend_after_table_swap),
	CASE(t_flow_miss_mid_connection_hashes),
	CASE(t_draining_keeps_flows_tcp_v4),
	CASE(t_draining_keeps_flows_udp_v6),
	CASE(t_down_backend_flow_moves),
	CASE(t_recycled_backend_id_moves_flow),
	CASE(t_udp_idle_flow_rehashed),
	CASE(t_closed_idle_flow_rehashed),
	CASE(t_closed_flow_within_bound_keeps_backend),
	CASE(t_open_idle_flow_keeps_backend),
	CASE(t_closed_idle_bound_is_an_option),
	CASE(t_full_bucket_evicts_least_recently_used),
	CASE(t_torn_flow_entry_reads_as_miss),
	CASE(t_flow_table_size_applied),
	CASE(t_flow_table_counts_lookups),
	CASE(t_flow_table_size_change_refused_on_pins),
	CASE(t_empty_reject_tcp_syn_v4),
	CASE(t_empty_reject_tcp_data_v6),
	CASE(t_empty_reject_tcp_fin_vlan_v4),
	CASE(t_empty_reject_udp_v4),
	CASE(t_empty_reject_udp_v6),
	CASE(t_empty_reject_never_answers_rst),
	CASE(t_empty_reject_rate_limited),
	CASE(t_empty_drop),
	CASE(t_empty_pass),
	CASE(t_table_names_inactive_backend),
	CASE(t_icmp_frag_needed_v4),
	CASE(t_icmp_error_about_closed_idle_flow),
	CASE(t_icmp6_packet_too_big),
	CASE(t_icmp_time_exceeded_udp_v4),
	CASE(t_icmp_error_ipip),
	CASE(t_icmp_non_vip_and_echo_pass),
	CASE(t_icmp_error_to_other_address_passes_v4),
	CASE(t_icmp_error_to_other_address_passes_v6),
	CASE(t_fragments_v4),
	CASE(t_ipv4_options),
	CASE(t_ipv6_ext_headers),
	CASE(t_truncated_headers_dropped_and_counted),
	CASE(t_truncated_non_vip_pass_untouched),
	CASE(t_counters_move_as_expected),
	CASE(t_reason_names_from_one_list),
	CASE(t_vip_delete),
	CASE(t_vip_changes_seen_at_once),
	CASE(t_library_rejects_bad_input),
	CASE(t_pinned_state_survives_reload),
	CASE(t_seed_slot_matches_prediction),
	CASE(t_seed_change_refused_on_pins),
	CASE(t_decap_4in4),
	CASE(t_decap_6in6),
	CASE(t_decap_4in6),
	CASE(t_decap_vlan),
	CASE(t_decap_leaves_other_traffic),
	CASE(t_decap_roundtrip_with_xlb),
	CASE(t_decap_allowed_counted),
	CASE(t_decap_foreign_source_dropped),
	CASE(t_decap_wrong_destination_dropped),
};

static int setup(void)
{
	return env_open(0);
}

int main(int argc, char **argv)
{
	int rc;

	if (geteuid() != 0) {
		fprintf(stderr, "test_bpf: needs root (BPF_PROG_TEST_RUN); skipped\n");
		return 77;
	}
	if (getenv("XLB_DEBUG"))
		xlb_log_level = XLB_LOG_DEBUG;
	xlb_log_libbpf();
	decap = decap__open_and_load();
	if (!decap || decap_trust_setup()) {
		fprintf(stderr, "test_bpf: couldn't load the decap program: %s\n", strerror(errno));
		return 1;
	}
	rc = harness_run("test-bpf", cases, sizeof(cases) / sizeof(cases[0]),
			 argc > 1 ? argv[1] : NULL, setup, env_close);
	rc |= harness_run("test-bpf sync", sync_dp_cases, sync_dp_ncases, argc > 1 ? argv[1] : NULL,
			  setup, env_close);
	rc |= harness_run("test-bpf stats", stats_dp_cases, stats_dp_ncases,
			  argc > 1 ? argv[1] : NULL, setup, env_close);
	rc |= harness_run("test-bpf syn", syn_dp_cases, syn_dp_ncases, argc > 1 ? argv[1] : NULL,
			  setup, env_close);
	rc |= harness_run("test-bpf stateless", sl_dp_cases, sl_dp_ncases,
			  argc > 1 ? argv[1] : NULL, setup, env_close);
	rc |= harness_run("test-bpf check_out", check_out_cases, check_out_ncases,
			  argc > 1 ? argv[1] : NULL, setup, env_close);
	sl_decap = decap;
	rc |= harness_run("test-bpf handover", sl_decap_cases, sl_decap_ncases,
			  argc > 1 ? argv[1] : NULL, setup, env_close);
	decap__destroy(decap);
	return rc;
}
