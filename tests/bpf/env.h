/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Fixture environment: a freshly loaded data plane and map-setup helpers. */
#ifndef XLB_TEST_ENV_H
#define XLB_TEST_ENV_H

#include "harness.h"
#include "pkt.h"
#include "xlb_dp.h"

/* The ipip outer source prefixes every fixture loads with. */
#define ENV_ENCAP_SRC4 "172.16.0.0"
#define ENV_ENCAP_SRC6 "fd00:ffff::"
#define ENV_TABLE 251 /* small Maglev tables keep fixtures fast */
#define ENV_MTU 1500  /* the NIC's MTU as fixtures see it */

/* The hash seed every fixture loads with: not the all-zero default. */
extern const struct xlb_hash_seed ENV_SEED;

struct env {
	struct xlb_dp *dp;
	int prog_fd;
};

extern struct env E;

/* Load a fresh data plane (udp_idle_ms 0 = default); close it. */
int env_open(__u32 udp_idle_ms);
/* The same, with maps pinned in (and adopted from) pin_dir. */
int env_open_pinned(__u32 udp_idle_ms, const char *pin_dir);
/* The same with another hash seed. */
int env_open_seeded(__u32 udp_idle_ms, const char *pin_dir, const struct xlb_hash_seed *seed);
/* The same with a flow table of `flows` flows (env_open's is 4096). */
int env_open_sized(__u32 flows, const char *pin_dir);
/* The same with both idle timeouts (0 = default): UDP flows, and TCP flows
 * the client closed. */
int env_open_idle(__u32 udp_idle_ms, __u32 closed_idle_ms);
void env_close(void);
/* xlb_dp_opts.syn_retry_min_ms of the next env_open* (0: the default). */
extern __u32 env_syn_retry_min_ms;

/* Make k's flow-table entry look `ms` idler than it is: its access time
 * moved back, as if the data plane's clock had moved on (-ENOENT: no entry). */
int env_flow_idle(const struct xlb_flow_key *k, __u32 ms);

/* Backend id with address, MAC index into MAC_BACKEND, state; gen 1. */
int env_backend(__u32 id, const char *addr, int mac, __u8 state);
int env_backend_state(__u32 id, __u8 state, __u32 gen);

struct vip_def {
	const char *addr;
	__u16 port;
	__u8 proto;
	__u8 mode;
	__u8 hash;
	__u8 on_empty;
	__u32 vip_id;
};

/*
 * VIP whose whole table names one backend (0: empty table). The VIP helpers
 * also stamp the VIP's id and mode on the backends its table names, as the
 * agent does.
 */
int env_vip(const struct vip_def *v, __u32 backend);
/* The same with an on_empty=reject rate (xlb_vip_val.reject_rate). */
int env_vip_rate(const struct vip_def *v, __u32 backend, __u32 reject_rate);
/* VIP with a real Maglev table over the given backend ids (equal weights). */
int env_vip_maglev(const struct vip_def *v, const __u32 *ids, int n, __u32 *table_out);
/* Stateless VIP (flow_state stateless) whose every slot is {cur, prev}
 * (0: none); env_sl_fill rewrites its slots the same way. */
int env_vip_sl(const struct vip_def *v, __u32 cur, __u32 prev);
int env_sl_fill(__u32 vip_id, __u32 cur, __u32 prev);
/* Point every slot of the VIP's table at one backend (0: empty). */
int env_table_fill(__u32 vip_id, __u32 backend);

/* Run the XDP program once; out receives the resulting frame. */
int env_run(int prog_fd, const void *in, size_t in_len, void *out, size_t *out_len);
__u64 env_reason(__u32 reason);
struct xlb_vip_stats env_vip_stats(__u32 vip_id);
struct xlb_backend_stats env_backend_stats(__u32 id);
struct xlb_backend_syn_stats env_backend_syn_stats(__u32 id);

/* Expected DSR output: the input with dst MAC := backend's, src := LB's. */
void expect_dsr(const struct pb *in, int mac, struct pb *out);
/* Expected ipip output for an input whose L2 header is l2 bytes long. */
void expect_ipip(const struct pb *in, size_t l2, int vlan, const char *backend, int mac,
		 __u16 client_port, const char *client, struct pb *out);
/* The same with a second header to prev (NULL: none), as stateless VIPs send. */
void expect_ipip_prev(const struct pb *in, size_t l2, int vlan, const char *backend,
		      const char *prev, int mac, __u16 client_port, const char *client,
		      struct pb *out);

#endif /* XLB_TEST_ENV_H */
