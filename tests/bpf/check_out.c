// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The probe path of checks through the VIP (bpf/check_out.bpf.c), run on
 * frames as the LB's stack sends them (source MAC the NIC's, destination
 * the router's, addressed to the VIP): a recorded probe leaves toward its
 * backend as a client packet would (dsr: the backend's MAC; ipip: the same
 * outer header the XDP program builds, checked with the XDP fixtures'
 * expect_ipip), anything else leaves untouched.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "env.h"
#include "check_out.h"

#define TC_UNSPEC (-1)
#define TC_SHOT 2

#define LB4 "10.0.0.2"
#define LB6 "fd00::2"
#define VIP4 "10.0.0.10"
#define VIP6 "fd00::10"
#define BE4 "10.1.0.11"
#define BE6 "fd00:1::11"
#define SPORT 40000

/* A frame the LB's stack sends from src:SPORT to vip:port. */
static void probe_frame(struct pb *p, const char *src, const char *vip, __u8 proto, __u16 port)
{
	int v6 = strchr(src, ':') != NULL;

	pb_init(p);
	pb_eth(p, MAC_ROUTER, MAC_LB, 0, v6 ? 0x86dd : 0x0800);
	if (v6)
		pb_ip6(p, src, vip, proto, 64, 0x10, 0);
	else
		pb_ip4(p, src, vip, proto, 64, 0x10, 0x4000, 0);
	if (proto == 6)
		pb_tcp(p, SPORT, port, 1, 0, 0x02, 65535);
	else
		pb_udp(p, SPORT, port);
	pb_payload(p, 16, 7);
	pb_finish(p);
}

static int record(const char *vip, __u16 vport, __u16 sport, __u8 proto, __u32 id)
{
	struct xlb_check_key k = {.vport = htons(vport), .sport = htons(sport), .proto = proto};

	pb_addr(vip, k.vip.b);
	return xlb_dp_check_sock_set(E.dp, &k, id);
}

/* Backend id at addr (MAC_BACKEND[mac]) of a VIP in mode. */
static int backend(__u32 id, const char *addr, int mac, __u8 mode)
{
	struct xlb_backend b;
	int err = env_backend(id, addr, mac, XLB_BE_DOWN); /* state is not looked at */

	err = err ?: xlb_dp_backend_get(E.dp, id, &b);
	b.mode = mode;
	return err ?: xlb_dp_backend_set(E.dp, id, &b);
}

static int run(const struct pb *in, int verdict, const struct pb *want, const char *what)
{
	__u8 out[PB_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = in->buf, .data_size_in = (__u32)in->len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	ASSERT_TRUE(xlb_dp_check_prog_fd(E.dp) >= 0, "the probe path loaded");
	ASSERT_OK(bpf_prog_test_run_opts(xlb_dp_check_prog_fd(E.dp), &t), "test run");
	ASSERT_EQ((int)t.retval, verdict, what);
	if (want)
		ASSERT_MEM(out, t.data_size_out, want->buf, want->len, what);
	return 0;
}

static int t_check_out_dsr_to_backend_mac(void)
{
	struct pb in, want;

	ASSERT_OK(backend(7, BE4, 1, XLB_MODE_DSR), "backend");
	ASSERT_OK(record(VIP4, 80, SPORT, 6, 7), "record");
	probe_frame(&in, LB4, VIP4, 6, 80);
	want = in;
	memcpy(want.buf, MAC_BACKEND[1], 6); /* only the destination MAC changes */
	return run(&in, TC_UNSPEC, &want, "dsr: the backend's MAC, IP packet to the VIP");
}

static int t_check_out_dsr_udp6(void)
{
	struct pb in, want;

	ASSERT_OK(backend(8, BE6, 2, XLB_MODE_DSR), "backend");
	ASSERT_OK(record(VIP6, 53, SPORT, 17, 8), "record");
	probe_frame(&in, LB6, VIP6, 17, 53);
	want = in;
	memcpy(want.buf, MAC_BACKEND[2], 6);
	return run(&in, TC_UNSPEC, &want, "dsr udp over IPv6");
}

static int t_check_out_ipip_4in4(void)
{
	struct pb in, want;

	ASSERT_OK(backend(9, BE4, 1, XLB_MODE_IPIP), "backend");
	ASSERT_OK(record(VIP4, 80, SPORT, 6, 9), "record");
	probe_frame(&in, LB4, VIP4, 6, 80);
	expect_ipip(&in, 14, 0, BE4, 1, SPORT, LB4, &want);
	return run(&in, TC_UNSPEC, &want, "4in4 as the XDP program encapsulates");
}

static int t_check_out_ipip_6in6(void)
{
	struct pb in, want;

	ASSERT_OK(backend(9, BE6, 3, XLB_MODE_IPIP), "backend");
	ASSERT_OK(record(VIP6, 443, SPORT, 6, 9), "record");
	probe_frame(&in, LB6, VIP6, 6, 443);
	expect_ipip(&in, 14, 0, BE6, 3, SPORT, LB6, &want);
	return run(&in, TC_UNSPEC, &want, "6in6");
}

static int t_check_out_ipip_4in6(void)
{
	struct pb in, want;

	ASSERT_OK(backend(9, BE6, 0, XLB_MODE_IPIP), "backend");
	ASSERT_OK(record(VIP4, 80, SPORT, 17, 9), "record");
	probe_frame(&in, LB4, VIP4, 17, 80);
	expect_ipip(&in, 14, 0, BE6, 0, SPORT, LB4, &want);
	return run(&in, TC_UNSPEC, &want, "4in6");
}

/* Not recorded (another local port, port, protocol or VIP): untouched. */
static int t_check_out_leaves_other_packets(void)
{
	struct pb in;

	ASSERT_OK(backend(7, BE4, 1, XLB_MODE_DSR), "backend");
	ASSERT_OK(record(VIP4, 80, SPORT + 1, 6, 7), "another local port");
	ASSERT_OK(record(VIP4, 81, SPORT, 6, 7), "another check port");
	ASSERT_OK(record(VIP4, 80, SPORT, 17, 7), "udp");
	ASSERT_OK(record("10.0.0.11", 80, SPORT, 6, 7), "another VIP");
	probe_frame(&in, LB4, VIP4, 6, 80);
	ASSERT_OK(run(&in, TC_UNSPEC, &in, "unrecorded tcp packet untouched"), "");
	probe_frame(&in, LB6, VIP6, 6, 80);
	return run(&in, TC_UNSPEC, &in, "IPv6 packet untouched");
}

/* Recorded, but its backend id names no record: dropped, never sent on
 * toward the VIP through the router (it would pass for another backend). */
static int t_check_out_unknown_backend_dropped(void)
{
	struct pb in;

	ASSERT_OK(record(VIP4, 80, SPORT, 6, 1234), "record of an id never set");
	probe_frame(&in, LB4, VIP4, 6, 80);
	ASSERT_OK(run(&in, TC_SHOT, NULL, "id without a backend record"), "");
	/* IPv6 VIP to an IPv4 ipip backend: no header can carry it */
	ASSERT_OK(backend(9, BE4, 1, XLB_MODE_IPIP), "backend");
	ASSERT_OK(record(VIP6, 80, SPORT, 6, 9), "record");
	probe_frame(&in, LB6, VIP6, 6, 80);
	return run(&in, TC_SHOT, NULL, "IPv6 in IPv4");
}

/* Deleted (the probe ended): untouched again. */
static int t_check_out_forgotten_probe_untouched(void)
{
	struct xlb_check_key k = {.vport = htons(80), .sport = htons(SPORT), .proto = 6};
	struct pb in;

	pb_addr(VIP4, k.vip.b);
	ASSERT_OK(backend(7, BE4, 1, XLB_MODE_DSR), "backend");
	ASSERT_OK(xlb_dp_check_sock_set(E.dp, &k, 7), "record");
	ASSERT_OK(xlb_dp_check_sock_del(E.dp, &k), "forget");
	ASSERT_EQ(xlb_dp_check_sock_del(E.dp, &k), -ENOENT, "forgotten");
	probe_frame(&in, LB4, VIP4, 6, 80);
	return run(&in, TC_UNSPEC, &in, "forgotten probe untouched");
}

#define CASE(fn)                                                                                   \
	{                                                                                          \
		&(#fn)[2], fn                                                                      \
	}
const struct harness_case check_out_cases[] = {
	CASE(t_check_out_dsr_to_backend_mac),
	CASE(t_check_out_dsr_udp6),
	CASE(t_check_out_ipip_4in4),
	CASE(t_check_out_ipip_6in6),
	CASE(t_check_out_ipip_4in6),
	CASE(t_check_out_leaves_other_packets),
	CASE(t_check_out_unknown_backend_dropped),
	CASE(t_check_out_forgotten_probe_untouched),
};
const size_t check_out_ncases = sizeof(check_out_cases) / sizeof(check_out_cases[0]);
