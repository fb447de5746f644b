// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Stateless VIPs in the LB program: every packet by its Maglev slot
 * {cur, prev}, a second header to prev on non-SYN packets, never the flow
 * table, and an MTU budget that always counts the second header.
 */
#include <string.h>
#include <sys/mman.h>

#include <linux/bpf.h>

#include <bpf/bpf.h>

#include "env.h"
#include "sl_dp.h"

#define TCP 6
#define UDP 17
#define F_SYN 0x02
#define F_ACK 0x10
#define CLIENT4 "192.0.2.1"
#define CLIENT6 "2001:db8::1"

static const struct vip_def SL4_TCP = {"10.0.0.20",    80, TCP, XLB_MODE_IPIP, XLB_HASH_5TUPLE,
				       XLB_EMPTY_DROP, 21};
static const struct vip_def SL4_UDP = {"10.0.0.20",    53, UDP, XLB_MODE_IPIP, XLB_HASH_5TUPLE,
				       XLB_EMPTY_DROP, 22};
static const struct vip_def SL6_TCP = {"fd00::20",     80, TCP, XLB_MODE_IPIP, XLB_HASH_5TUPLE,
				       XLB_EMPTY_DROP, 23};

/* Backends 1-3: IPv4 10.1.0.11-13, MACs 0-2; 11-13: IPv6 fd00:1::11-13. */
static const char *const ADDR4[] = {"", "10.1.0.11", "10.1.0.12", "10.1.0.13"};
static const char *const ADDR6[] = {"", "fd00:1::11", "fd00:1::12", "fd00:1::13"};

static const char *addr_of(__u32 id)
{
	return id > 10 ? ADDR6[(id - 10) & 3] : ADDR4[id & 3];
}

static int mac_of(__u32 id)
{
	return (int)(id % 10) - 1;
}

static int backends(void)
{
	for (__u32 i = 1; i <= 3; i++)
		if (env_backend(i, ADDR4[i], (int)i - 1, XLB_BE_ACTIVE) ||
		    env_backend(10 + i, ADDR6[i], (int)i - 1, XLB_BE_ACTIVE))
			return -1;
	return 0;
}

static int is_v6(const char *a)
{
	return strchr(a, ':') != NULL;
}

/* A client packet of ip_len bytes (0: 100 bytes of payload), DF for IPv4. */
static void mk(struct pb *p, const struct vip_def *v, __u16 sport, __u8 flags, size_t ip_len)
{
	const char *client = is_v6(v->addr) ? CLIENT6 : CLIENT4;
	size_t hdrs = (is_v6(v->addr) ? 40 : 20) + (v->proto == TCP ? 20 : 8);

	pb_init(p);
	pb_eth(p, MAC_LB, MAC_ROUTER, 0, is_v6(v->addr) ? 0x86dd : 0x0800);
	if (is_v6(v->addr))
		pb_ip6(p, client, v->addr, v->proto, 61, 0x28, 0x12345);
	else
		pb_ip4(p, client, v->addr, v->proto, 61, 0x28, 0x4000, 0);
	if (v->proto == TCP)
		pb_tcp(p, sport, v->port, 1000, (flags & F_ACK) ? 2000 : 0, flags, 65535);
	else
		pb_udp(p, sport, v->port);
	pb_payload(p, ip_len ? ip_len - hdrs : 100, (__u8)sport);
	pb_finish(p);
}

static int run(const struct pb *in, int verdict, const struct pb *want, const char *what)
{
	__u8 out[PB_MAX];
	size_t out_len = 0;

	ASSERT_EQ(env_run(E.prog_fd, in->buf, in->len, out, &out_len), verdict, what);
	if (want)
		ASSERT_MEM(out, out_len, want->buf, want->len, what);
	return 0;
}

/* The packet goes to cur, with a second header to prev when prev is set. */
static int expect_to(const struct pb *in, const struct vip_def *v, __u16 sport, __u32 cur,
		     __u32 prev, const char *what)
{
	struct pb want;

	expect_ipip_prev(in, 14, 0, addr_of(cur), prev ? addr_of(prev) : NULL, mac_of(cur), sport,
			 is_v6(v->addr) ? CLIENT6 : CLIENT4, &want);
	return run(in, XDP_TX, &want, what);
}

/* ---- slots without and with a previous backend -------------------------- */

static int t_sl_no_prev_plain(void)
{
	struct pb p;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip_sl(&SL4_TCP, 2, XLB_BACKEND_NONE), "stateless vip {2, none}");
	mk(&p, &SL4_TCP, 40000, F_SYN, 0);
	ASSERT_OK(expect_to(&p, &SL4_TCP, 40000, 2, 0, "SYN: plain ipip to cur"), "");
	mk(&p, &SL4_TCP, 40000, F_ACK, 0);
	ASSERT_OK(expect_to(&p, &SL4_TCP, 40000, 2, 0, "ACK without prev: plain ipip to cur"), "");
	ASSERT_EQ(env_reason(XLB_R_STATELESS), 2, "both counted stateless");
	ASSERT_EQ(env_reason(XLB_R_STATELESS_PREV_HOP), 0, "none carried a previous hop");
	ASSERT_EQ(env_backend_stats(2).packets, 2, "cur's counter");
	ASSERT_EQ(env_vip_stats(SL4_TCP.vip_id).packets, 2, "the VIP's counter");
	return 0;
}

static int prev_case(const struct vip_def *v, __u32 cur, __u32 prev)
{
	struct pb p;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip_sl(v, cur, prev), "stateless vip {cur, prev}");
	mk(&p, v, 40001, F_SYN, 0);
	ASSERT_OK(expect_to(&p, v, 40001, cur, 0, "SYN: plain to cur, never the previous hop"), "");
	mk(&p, v, 40001, v->proto == TCP ? F_ACK : 0, 0);
	ASSERT_OK(
		expect_to(&p, v, 40001, cur, prev, "non-SYN: to cur with a second header to prev"),
		"");
	ASSERT_EQ(env_reason(XLB_R_STATELESS), 2, "counted stateless");
	ASSERT_EQ(env_reason(XLB_R_STATELESS_PREV_HOP), 1, "one carried the previous hop");
	ASSERT_EQ(env_backend_stats(cur).packets, 2, "both counted for cur");
	ASSERT_EQ(env_backend_stats(prev).packets, 0, "nothing counted for prev");
	return 0;
}

static int t_sl_prev_4in4(void)
{
	return prev_case(&SL4_TCP, 2, 1);
}

static int t_sl_prev_6in6(void)
{
	return prev_case(&SL6_TCP, 12, 13);
}

static int t_sl_prev_4in6(void)
{
	return prev_case(&SL4_TCP, 13, 11);
}

static int t_sl_prev_udp_4in4(void)
{
	struct pb p;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip_sl(&SL4_UDP, 3, 1), "stateless vip {3, 1}");
	mk(&p, &SL4_UDP, 5353, 0, 0);
	ASSERT_OK(expect_to(&p, &SL4_UDP, 5353, 3, 1, "UDP: to cur carrying prev"), "");
	ASSERT_EQ(env_reason(XLB_R_STATELESS_PREV_HOP), 1, "counted");
	return 0;
}

/* A previous hop that is DOWN, the current one itself, or of the other
 * family is not carried: plain to cur. */
static int t_sl_prev_not_carried(void)
{
	struct pb p;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip_sl(&SL4_TCP, 2, 1), "stateless vip {2, 1}");
	ASSERT_OK(env_backend_state(1, XLB_BE_DOWN, 1), "prev DOWN");
	mk(&p, &SL4_TCP, 40002, F_ACK, 0);
	ASSERT_OK(expect_to(&p, &SL4_TCP, 40002, 2, 0, "prev DOWN: plain to cur"), "");
	ASSERT_OK(env_backend_state(1, XLB_BE_DRAINING, 1), "prev DRAINING");
	ASSERT_OK(expect_to(&p, &SL4_TCP, 40002, 2, 1, "prev DRAINING: still carried"), "");
	ASSERT_OK(env_sl_fill(SL4_TCP.vip_id, 2, 2), "{2, 2}");
	ASSERT_OK(expect_to(&p, &SL4_TCP, 40002, 2, 0, "prev == cur: plain"), "");
	ASSERT_OK(env_sl_fill(SL4_TCP.vip_id, 2, 11), "{2, 11}: an IPv6 prev");
	ASSERT_OK(expect_to(&p, &SL4_TCP, 40002, 2, 0, "prev of the other family: plain"), "");
	ASSERT_EQ(env_reason(XLB_R_STATELESS_PREV_HOP), 1, "only the DRAINING one carried");
	return 0;
}

/* No current backend (empty slot, or DOWN): on_empty, as for table VIPs. */
static int t_sl_no_cur_on_empty(void)
{
	struct pb p;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip_sl(&SL4_TCP, XLB_BACKEND_NONE, 1), "stateless vip {none, 1}");
	mk(&p, &SL4_TCP, 40003, F_ACK, 0);
	ASSERT_OK(run(&p, XDP_DROP, NULL, "empty slot: on_empty drop"), "");
	ASSERT_OK(env_sl_fill(SL4_TCP.vip_id, 2, 1), "{2, 1}");
	ASSERT_OK(env_backend_state(2, XLB_BE_DOWN, 1), "cur DOWN");
	ASSERT_OK(run(&p, XDP_DROP, NULL, "cur DOWN: on_empty drop"), "");
	ASSERT_EQ(env_reason(XLB_R_NO_BACKEND_DROP), 2, "counted no_backend");
	ASSERT_EQ(env_vip_stats(SL4_TCP.vip_id).no_backend_packets, 2, "the VIP's counter");
	ASSERT_EQ(env_reason(XLB_R_STATELESS), 0, "nothing forwarded");
	return 0;
}

/* dsr has no tunnel to carry a previous hop: the current backend only. */
static int t_sl_dsr_forwards_to_cur(void)
{
	struct vip_def v = SL4_TCP;
	struct pb p, want;

	v.mode = XLB_MODE_DSR;
	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip_sl(&v, 3, 1), "stateless dsr vip {3, 1}");
	mk(&p, &v, 40004, F_ACK, 0);
	expect_dsr(&p, 2, &want);
	ASSERT_OK(run(&p, XDP_TX, &want, "dsr to cur's MAC, unchanged"), "");
	return 0;
}

/* ---- no flow table ------------------------------------------------------- */

/* Is every byte of the flow table still zero? */
static int flows_untouched(void)
{
	int fd = xlb_dp_flows_fd(E.dp);
	struct bpf_map_info info = {};
	__u32 ilen = sizeof(info);
	const __u64 *m;
	__u64 any = 0;
	size_t len;

	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return -1;
	len = (size_t)info.max_entries * info.value_size;
	m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -2;
	for (size_t i = 0; i < len / 8; i++)
		any |= m[i];
	munmap((void *)m, len);
	return any == 0;
}

static int t_sl_never_touches_flow_table(void)
{
	struct vip_def table_vip = SL4_TCP;
	struct pb p;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip_sl(&SL4_TCP, 2, 1), "stateless TCP");
	ASSERT_OK(env_vip_sl(&SL4_UDP, 3, 1), "stateless UDP");
	ASSERT_OK(env_vip_sl(&SL6_TCP, 12, 11), "stateless TCP over IPv6");
	for (__u16 port = 41000; port < 41050; port++) {
		mk(&p, &SL4_TCP, port, F_SYN, 0);
		ASSERT_EQ(run(&p, XDP_TX, NULL, "SYN"), 0, "");
		mk(&p, &SL4_TCP, port, F_ACK, 0);
		ASSERT_EQ(run(&p, XDP_TX, NULL, "ACK"), 0, "");
		mk(&p, &SL4_UDP, port, 0, 0);
		ASSERT_EQ(run(&p, XDP_TX, NULL, "UDP"), 0, "");
		mk(&p, &SL6_TCP, port, F_ACK, 0);
		ASSERT_EQ(run(&p, XDP_TX, NULL, "ACK v6"), 0, "");
	}
	ASSERT_EQ(flows_untouched(), 1, "no flow-table bucket written");
	ASSERT_EQ(env_vip_stats(SL4_TCP.vip_id).new_flows, 0, "no new flows");
	ASSERT_EQ(env_reason(XLB_R_STATELESS), 200, "all forwarded stateless");
	/* The check can fail: a table VIP's SYN writes its bucket. */
	table_vip.addr = "10.0.0.21";
	table_vip.vip_id = 24;
	ASSERT_OK(env_vip(&table_vip, 1), "table vip");
	mk(&p, &table_vip, 41000, F_SYN, 0);
	ASSERT_EQ(run(&p, XDP_TX, NULL, "table SYN"), 0, "");
	ASSERT_EQ(flows_untouched(), 0, "a table VIP's flow is written");
	return 0;
}

/* A table change moves a slot at once; the previous backend rides along. */
static int t_sl_slot_change_applies_next_packet(void)
{
	struct pb p;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip_sl(&SL4_TCP, 1, XLB_BACKEND_NONE), "{1, none}");
	mk(&p, &SL4_TCP, 40005, F_ACK, 0);
	ASSERT_OK(expect_to(&p, &SL4_TCP, 40005, 1, 0, "to 1"), "");
	ASSERT_OK(env_sl_fill(SL4_TCP.vip_id, 3, 1), "{3, 1}");
	ASSERT_OK(expect_to(&p, &SL4_TCP, 40005, 3, 1, "the same flow: to 3, carrying 1"), "");
	ASSERT_OK(env_sl_fill(SL4_TCP.vip_id, 3, XLB_BACKEND_NONE), "handover over: {3, none}");
	ASSERT_OK(expect_to(&p, &SL4_TCP, 40005, 3, 0, "to 3 alone"), "");
	return 0;
}

/* ---- MTU budget: the second header always counts ------------------------- */

static void expect_too_big(const struct pb *in, const struct vip_def *v, __u32 mtu, struct pb *want)
{
	const char *client = is_v6(v->addr) ? CLIENT6 : CLIENT4;

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

static int mtu_case(const struct vip_def *v, __u32 cur, __u32 prev, __u32 hlen)
{
	struct pb fits, big, want;

	ASSERT_OK(backends(), "backends");
	ASSERT_OK(env_vip_sl(v, cur, XLB_BACKEND_NONE), "{cur, none}");
	mk(&fits, v, 40006, F_ACK, ENV_MTU - 2 * hlen);
	ASSERT_OK(expect_to(&fits, v, 40006, cur, 0, "MTU - two headers, no prev: forwarded"), "");
	mk(&big, v, 40006, F_ACK, ENV_MTU - 2 * hlen + 1);
	expect_too_big(&big, v, ENV_MTU - 2 * hlen, &want);
	ASSERT_OK(run(&big, XDP_TX, &want, "one byte more: answered even without prev"), "");
	ASSERT_OK(env_sl_fill(v->vip_id, cur, prev), "{cur, prev}");
	ASSERT_OK(expect_to(&fits, v, 40006, cur, prev, "with prev: the frame is exactly the MTU"),
		  "");
	ASSERT_OK(run(&big, XDP_TX, &want, "with prev: the same answer"), "");
	ASSERT_EQ(env_reason(XLB_R_ENCAP_TOO_BIG), 2, "counted");
	ASSERT_EQ(env_reason(XLB_R_STATELESS), 2, "answers are not counted as forwarded");
	return 0;
}

static int t_sl_mtu_4in4(void)
{
	return mtu_case(&SL4_TCP, 2, 1, 20);
}

static int t_sl_mtu_6in6(void)
{
	return mtu_case(&SL6_TCP, 11, 12, 40);
}

static int t_sl_mtu_4in6(void)
{
	return mtu_case(&SL4_TCP, 12, 13, 40);
}

#define CASE(fn)                                                                                   \
	{                                                                                          \
		&(#fn)[2], fn                                                                      \
	}

const struct harness_case sl_dp_cases[] = {
	CASE(t_sl_no_prev_plain),
	CASE(t_sl_prev_4in4),
	CASE(t_sl_prev_6in6),
	CASE(t_sl_prev_4in6),
	CASE(t_sl_prev_udp_4in4),
	CASE(t_sl_prev_not_carried),
	CASE(t_sl_no_cur_on_empty),
	CASE(t_sl_dsr_forwards_to_cur),
	CASE(t_sl_never_touches_flow_table),
	CASE(t_sl_slot_change_applies_next_packet),
	CASE(t_sl_mtu_4in4),
	CASE(t_sl_mtu_6in6),
	CASE(t_sl_mtu_4in6),
};
const size_t sl_dp_ncases = sizeof(sl_dp_cases) / sizeof(sl_dp_cases[0]);
