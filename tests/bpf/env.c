// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "env.h"
#include "maglev.h"

struct env E;

const struct xlb_hash_seed ENV_SEED = {{0x0123456789abcdefull, 0xfedcba9876543210ull}};

/* Each VIP id's mode, to stamp on the backends its table names. */
static __u8 vip_mode[XLB_MAX_VIPS];

int env_open(__u32 udp_idle_ms)
{
	return env_open_pinned(udp_idle_ms, NULL);
}

int env_open_pinned(__u32 udp_idle_ms, const char *pin_dir)
{
	return env_open_seeded(udp_idle_ms, pin_dir, &ENV_SEED);
}

static int open_opts(__u32 flows, __u32 udp_idle_ms, __u32 closed_idle_ms, const char *pin_dir,
		     const struct xlb_hash_seed *seed);

int env_open_seeded(__u32 udp_idle_ms, const char *pin_dir, const struct xlb_hash_seed *seed)
{
	return open_opts(4096, udp_idle_ms, 0, pin_dir, seed);
}

int env_open_sized(__u32 flows, const char *pin_dir)
{
	return open_opts(flows, 0, 0, pin_dir, &ENV_SEED);
}

__u32 env_syn_retry_min_ms;

int env_open_idle(__u32 udp_idle_ms, __u32 closed_idle_ms)
{
	return open_opts(4096, udp_idle_ms, closed_idle_ms, NULL, &ENV_SEED);
}

static int open_opts(__u32 flows, __u32 udp_idle_ms, __u32 closed_idle_ms, const char *pin_dir,
		     const struct xlb_hash_seed *seed)
{
	struct xlb_dp_opts o = {
		.syn_retry_min_ms = env_syn_retry_min_ms,
		.flow_entries = flows,
		.udp_idle_ms = udp_idle_ms,
		.closed_idle_ms = closed_idle_ms,
		.pin_dir = pin_dir,
		.encap_vary_bits = 16,
		.hash_seed = *seed,
	};
	__u8 a[16];
	int err;

	pb_addr(ENV_ENCAP_SRC4, a);
	memcpy(&o.encap_src4, a + 12, 4);
	pb_addr(ENV_ENCAP_SRC6, o.encap_src6.b);
	err = xlb_dp_open(&o, &E.dp);
	if (err) {
		fprintf(stderr, "    couldn't load the data plane: %s\n", strerror(-err));
		return err;
	}
	E.prog_fd = xlb_dp_prog_fd(E.dp);
	/* What xlb_dp_attach() reads from the interface. */
	err = xlb_dp_nic_set(E.dp, MAC_LB, ENV_MTU);
	if (err)
		fprintf(stderr, "    couldn't set the NIC: %s\n", strerror(-err));
	return err;
}

int env_flow_idle(const struct xlb_flow_key *k, __u32 ms)
{
	__u32 h = xlb_hash_flow(k, &ENV_SEED);
	__u32 idx = xlb_hash_bucket(h, xlb_dp_flow_entries(E.dp) / XLB_FLOW_WAYS);
	__u32 back = (__u32)((__u64)ms * xlb_kernel_hz() / 1000);
	int fd = xlb_dp_flows_fd(E.dp);
	struct xlb_flow_bucket b;

	if (bpf_map_lookup_elem(fd, &idx, &b))
		return -errno;
	for (int w = 0; w < XLB_FLOW_WAYS; w++) {
		if (b.tag[w] == (h | 1) && !memcmp(&b.way[w].key, k, sizeof(*k))) {
			b.atime[w] -= back;
			return bpf_map_update_elem(fd, &idx, &b, BPF_ANY) ? -errno : 0;
		}
	}
	return -ENOENT;
}

void env_close(void)
{
	xlb_dp_close(E.dp);
	E.dp = NULL;
}

int env_backend(__u32 id, const char *addr, int mac, __u8 state)
{
	struct xlb_backend b = {.state = state, .gen = 1};

	pb_addr(addr, b.addr.b);
	b.family = xlb_addr_is_v4(&b.addr) ? XLB_AF_INET : XLB_AF_INET6;
	memcpy(b.mac, MAC_BACKEND[mac], 6);
	return xlb_dp_backend_set(E.dp, id, &b);
}

int env_backend_state(__u32 id, __u8 state, __u32 gen)
{
	struct xlb_backend b;
	int err = xlb_dp_backend_get(E.dp, id, &b);

	if (err)
		return err;
	b.state = state;
	b.gen = gen;
	return xlb_dp_backend_set(E.dp, id, &b);
}

/* A backend serves the VIP whose table names it: record VIP id and mode. */
static int bind_backend(__u32 id, __u32 vip_id)
{
	struct xlb_backend b;

	if (id == XLB_BACKEND_NONE || xlb_dp_backend_get(E.dp, id, &b))
		return 0;
	b.vip_id = (__u16)vip_id;
	b.mode = vip_mode[vip_id];
	return xlb_dp_backend_set(E.dp, id, &b);
}

static void vip_kv(const struct vip_def *v, struct xlb_vip_key *k, struct xlb_vip_val *val)
{
	memset(k, 0, sizeof(*k));
	memset(val, 0, sizeof(*val));
	pb_addr(v->addr, k->addr.b);
	k->port = htons(v->port);
	k->proto = v->proto;
	val->vip_id = v->vip_id;
	val->table_size = ENV_TABLE;
	val->mode = v->mode;
	val->hash = v->hash;
	val->on_empty = v->on_empty;
}

int env_vip(const struct vip_def *v, __u32 backend)
{
	return env_vip_rate(v, backend, 0);
}

int env_vip_rate(const struct vip_def *v, __u32 backend, __u32 reject_rate)
{
	struct xlb_vip_key k;
	struct xlb_vip_val val;
	__u32 table[ENV_TABLE];

	vip_kv(v, &k, &val);
	val.reject_rate = reject_rate;
	vip_mode[v->vip_id] = v->mode;
	for (int i = 0; i < ENV_TABLE; i++)
		table[i] = backend;
	return bind_backend(backend, v->vip_id) ?: xlb_dp_vip_set(E.dp, &k, &val, table);
}

int env_vip_maglev(const struct vip_def *v, const __u32 *ids, int n, __u32 *table)
{
	struct xlb_maglev_backend mb[16] = {};
	struct xlb_vip_key k;
	struct xlb_vip_val val;
	char name[32];
	int err;

	if (n > 16)
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "backend-%u", ids[i]);
		mb[i] = (struct xlb_maglev_backend){
			.key = xlb_maglev_key(name), .id = ids[i], .weight = 1};
	}
	err = xlb_maglev_build(mb, (size_t)n, ENV_TABLE, table);
	vip_mode[v->vip_id] = v->mode;
	for (int i = 0; i < n && !err; i++)
		err = bind_backend(ids[i], v->vip_id);
	if (err)
		return err;
	vip_kv(v, &k, &val);
	return xlb_dp_vip_set(E.dp, &k, &val, table);
}

int env_vip_sl(const struct vip_def *v, __u32 cur, __u32 prev)
{
	struct xlb_vip_key k;
	struct xlb_vip_val val;

	vip_kv(v, &k, &val);
	val.flow_state = XLB_FLOW_STATELESS;
	vip_mode[v->vip_id] = v->mode;
	return bind_backend(cur, v->vip_id) ?: bind_backend(prev, v->vip_id)
		?: xlb_dp_vip_set(E.dp, &k, &val, NULL) ?: env_sl_fill(v->vip_id, cur, prev);
}

int env_sl_fill(__u32 vip_id, __u32 cur, __u32 prev)
{
	/* {cur, prev} per slot is two consecutive 16-bit ids: the table
	 * helper packs four ids per value, so 2M ids fill M stateless slots. */
	__u32 table[2 * ENV_TABLE];

	for (int i = 0; i < ENV_TABLE; i++) {
		table[2 * i] = cur;
		table[2 * i + 1] = prev;
	}
	return xlb_dp_table_swap(E.dp, vip_id, table, 2 * ENV_TABLE);
}

int env_table_fill(__u32 vip_id, __u32 backend)
{
	__u32 table[ENV_TABLE];

	for (int i = 0; i < ENV_TABLE; i++)
		table[i] = backend;
	return bind_backend(backend, vip_id) ?: xlb_dp_table_swap(E.dp, vip_id, table, ENV_TABLE);
}

int env_run(int prog_fd, const void *in, size_t in_len, void *out, size_t *out_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = in, .data_size_in = (__u32)in_len,
		    .data_out = out, .data_size_out = PB_MAX, .repeat = 1);
	int err = bpf_prog_test_run_opts(prog_fd, &t);

	if (err) {
		fprintf(stderr, "    test run failed: %s\n", strerror(errno));
		return -1;
	}
	*out_len = t.data_size_out;
	return (int)t.retval;
}

__u64 env_reason(__u32 reason)
{
	__u64 v = 0;

	xlb_dp_reason_count(E.dp, reason, &v);
	return v;
}

struct xlb_vip_stats env_vip_stats(__u32 vip_id)
{
	struct xlb_vip_stats s = {};

	xlb_dp_vip_stats(E.dp, vip_id, &s);
	return s;
}

struct xlb_backend_stats env_backend_stats(__u32 id)
{
	struct xlb_backend_stats s = {};

	xlb_dp_backend_stats(E.dp, id, &s);
	return s;
}

struct xlb_backend_syn_stats env_backend_syn_stats(__u32 id)
{
	struct xlb_backend_syn_stats s = {};

	xlb_dp_backend_syn_stats(E.dp, id, &s);
	return s;
}

void expect_dsr(const struct pb *in, int mac, struct pb *out)
{
	*out = *in;
	memcpy(out->buf, MAC_BACKEND[mac], 6);
	memcpy(out->buf + 6, MAC_LB, 6);
}

/* The documented per-flow value: client port ^ both halves of the client IPv4
 * word (low 32 bits of the 16-byte form). */
static __u16 vary(const char *client, __u16 port)
{
	__u8 a[16];
	__u32 w;

	pb_addr(client, a);
	w = (__u32)a[12] << 24 | (__u32)a[13] << 16 | (__u32)a[14] << 8 | a[15];
	return (__u16)(port ^ (w & 0xffff) ^ (w >> 16));
}

/* One tunnel header from the encap prefix (per-flow low bits) to dst. */
static void put_tunnel(struct pb *out, const char *dst, __u16 v, __u8 proto, const __u8 *ip,
		       int inner4)
{
	char src[64];
	__u8 a[16];

	if (strchr(dst, ':')) {
		__u8 tc = inner4 ? ip[1] : (__u8)(((ip[0] & 0xf) << 4) | (ip[1] >> 4));

		pb_addr(ENV_ENCAP_SRC6, a);
		a[14] |= v >> 8;
		a[15] |= v & 0xff;
		inet_ntop(AF_INET6, a, src, sizeof(src));
		pb_ip6(out, src, dst, proto, 64, tc, v);
	} else {
		int df = (ip[6] & 0x40) != 0;

		pb_addr(ENV_ENCAP_SRC4, a);
		a[14] |= v >> 8;
		a[15] |= v & 0xff;
		inet_ntop(AF_INET, a + 12, src, sizeof(src));
		pb_ip4(out, src, dst, proto, 64, ip[1], df ? 0x4000 : 0, 0);
	}
}

void expect_ipip(const struct pb *in, size_t l2, int vlan, const char *backend, int mac,
		 __u16 client_port, const char *client, struct pb *out)
{
	expect_ipip_prev(in, l2, vlan, backend, NULL, mac, client_port, client, out);
}

void expect_ipip_prev(const struct pb *in, size_t l2, int vlan, const char *backend,
		      const char *prev, int mac, __u16 client_port, const char *client,
		      struct pb *out)
{
	__u16 v = vary(client, client_port);
	int v6_outer = strchr(backend, ':') != NULL;
	int inner4 = (in->buf[l2] >> 4) == 4;
	__u8 inner_proto = inner4 ? 4 : 41;

	pb_init(out);
	pb_eth(out, MAC_BACKEND[mac], MAC_LB, vlan, v6_outer ? 0x86dd : 0x0800);
	if (prev) {
		put_tunnel(out, backend, v, v6_outer ? 41 : 4, in->buf + l2, inner4);
		put_tunnel(out, prev, v, inner_proto, in->buf + l2, inner4);
	} else {
		put_tunnel(out, backend, v, inner_proto, in->buf + l2, inner4);
	}
	pb_bytes(out, in->buf + l2, in->len - l2);
	pb_finish(out);
}
