/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libxlb data-plane access: load the XDP program from its embedded skeleton,
 * program VIPs, backends and Maglev tables, read counters. Tests and the
 * agent use it; it is the only code that knows the map layout.
 *
 * All functions return 0 or -errno. Nothing here validates policy beyond
 * what would corrupt the data plane; the agent validates requests in full.
 *
 * Update ordering (so a packet never sees an inconsistent VIP):
 *  - a new VIP gets its table first, then its VIP entry;
 *  - a VIP whose table grows gets the table first, then the new size; one
 *    that shrinks gets the new size first. Either way every slot index a
 *    packet can compute exists in the table it finds;
 *  - a deleted VIP loses its entry first, then its table;
 *  - the agent swaps a backend out of every table before it marks the
 *    backend DRAINING or DOWN (the data plane drops packets whose table
 *    names a backend that is not ACTIVE, and counts them);
 *  - a backend record carries its VIP's id and mode (flow-table hits forward
 *    by them): the agent rewrites the records when a VIP's mode changes,
 *    and marks them DOWN when the VIP is deleted.
 */
#ifndef XLB_DP_H
#define XLB_DP_H

#include <stddef.h>

#include "xlb_abi.h"
#include "xlb_counters.h"
#include "xlb_hash.h"

struct xlb_dp_opts {
	__u32 flow_entries;	   /* flows the table holds; 0: XLB_DEFAULT_FLOW_ENTRIES */
	__u32 udp_idle_ms;	   /* 0: XLB_DEFAULT_UDP_IDLE_MS */
	__u32 closed_idle_ms;	   /* TCP closed by the client; 0: XLB_DEFAULT_CLOSED_IDLE_MS */
	__be32 encap_src4;	   /* outer IPv4 source prefix for ipip */
	union xlb_addr encap_src6; /* outer IPv6 source prefix for ipip */
	__u8 encap_vary_bits;	   /* 0..16 low bits of the source set per flow */
	const char *pin_dir; /* pin maps and link here (e.g. /sys/fs/bpf/xlb); NULL: no pins */
	struct xlb_hash_seed hash_seed; /* the fleet's secret (xlb_hash.h) */
	/* 0: XLB_SYN_RETRY_MIN_MS; XLB_SYN_RETRY_MIN_NONE: no minimum, every
	 * SYN of a flow still opening is a retransmission (tests whose model
	 * cannot know the data plane's clock: the packet fuzzer) */
	__u32 syn_retry_min_ms;
};
#define XLB_SYN_RETRY_MIN_NONE 0xffffffffu

struct xlb_dp;

/*
 * Load the XDP program. With opts->pin_dir, every map is pinned there, and
 * maps an earlier instance pinned are reused as they are: VIPs, backends,
 * tables, flows and counters survive a restart or an upgrade of the agent
 * (bpffs is mounted at /sys/fs/bpf first when it is missing).
 *
 * A pinned program that hashes with another seed is not adopted: its flow
 * table would be misread (buckets derive from the hash) and every flow it
 * holds would move. -ESTALE, with a message saying how to apply the seed.
 */
int xlb_dp_open(const struct xlb_dp_opts *opts, struct xlb_dp **out);
/* 1 when the maps were found pinned and reused. */
int xlb_dp_adopted(const struct xlb_dp *dp);
/*
 * Attach the program to ifindex. With a pin dir, a link pinned there is
 * adopted: its program is replaced by this one in one step (no packet sees
 * no program); otherwise a new link is created (and pinned).
 */
int xlb_dp_attach(struct xlb_dp *dp, int ifindex, int generic);
/*
 * The seed of the program attached through the link pinned in pin_dir:
 * 0, -ENOENT (no link pinned), -ENODATA (a program without a seed, from a
 * release before the keyed hash).
 */
int xlb_dp_pinned_seed(const char *pin_dir, struct xlb_hash_seed *out);

/*
 * Feature bits (XLB_FEAT_*, include/xlb_abi.h) of a program: of the one
 * attached through the link pinned in pin_dir (-ENOENT: no link pinned),
 * or of dp's own. A program from before the bits (no `xlb_features`
 * variable) has none: 0 and *out = 0.
 */
int xlb_dp_pinned_features(const char *pin_dir, __u32 *out);
int xlb_dp_features(const struct xlb_dp *dp, __u32 *out);

/*
 * The NIC as the data plane sees it (map "nic", pinned with the others):
 * frames whose destination MAC is not its MAC pass untouched, forwarded and
 * rejected frames carry it as source, and ipip packets above its MTU (outer
 * header included) are answered with ICMP fragmentation needed / packet too
 * big. xlb_dp_attach() sets it from the interface; until then it is all
 * zero and the program touches no frame.
 *
 * nic_set: a unicast MAC (or all zero), mtu 0 (no check) or >= 1280.
 * mtu_set: the MTU for ipip instead of the NIC's own (0: the NIC's); taken
 * at once when attached, else at attach.
 * nic_refresh: read MAC and MTU of the attached interface again and update
 * the map if they changed (the agent calls it on link events): 1 changed,
 * 0 unchanged, -errno.
 */
int xlb_dp_nic_set(struct xlb_dp *dp, const __u8 mac[6], __u32 mtu);
int xlb_dp_nic_get(struct xlb_dp *dp, struct xlb_nic *nic);
int xlb_dp_mtu_set(struct xlb_dp *dp, __u32 mtu);
int xlb_dp_nic_refresh(struct xlb_dp *dp);
/* CPUs that share a VIP's reject_rate (each has reject_rate / this). */
unsigned int xlb_dp_reject_cpus(void);
/* Remove everything pinned in pin_dir: detaches the program, frees the maps. */
int xlb_dp_unpin(const char *pin_dir);
void xlb_dp_close(struct xlb_dp *dp);
int xlb_dp_prog_fd(const struct xlb_dp *dp);

/*
 * Attach an XDP program to ifindex through a bpf_link: native mode, or the
 * kernel's generic mode when generic is set. Returns the link fd (>= 0) or
 * -errno; closing the fd (or the process exiting) detaches it.
 */
int xlb_xdp_attach(int prog_fd, int ifindex, int generic);
int xlb_dp_flows_fd(const struct xlb_dp *dp);

/* table: val->table_size backend ids, or NULL for an empty table. A
 * stateless VIP's (val flow_state, issue #14): one __u32 per slot, the
 * current id | the previous hop's << 16, written as struct xlb_sl_slot. */
/* Either call changes all it should or, failing, nothing (but see
 * xlb_dp_vip_set() in xlb_dp_maps.c for a table swap failing after the entry). */
int xlb_dp_vip_set(struct xlb_dp *dp, const struct xlb_vip_key *key, const struct xlb_vip_val *val,
		   const __u32 *table);
int xlb_dp_vip_del(struct xlb_dp *dp, const struct xlb_vip_key *key);
/* Replace a VIP's whole table with one map update (a flow-table VIP's). */
int xlb_dp_table_swap(struct xlb_dp *dp, __u32 vip_id, const __u32 *table, __u32 size);
/* The same for n VIPs (whose size does not change) in one batch update:
 * one wait for running programs instead of one per table. flow_states[i]
 * (enum xlb_flow_state) is table i's layout; NULL: all flow-table VIPs. */
int xlb_dp_tables_swap(struct xlb_dp *dp, size_t n, const __u32 *vip_ids,
		       const __u32 *const *tables, const __u32 *sizes, const __u8 *flow_states);

/* b all zero: the record of an id never set (what a rollback puts back). */
int xlb_dp_backend_set(struct xlb_dp *dp, __u32 id, const struct xlb_backend *b);

/* What is programmed (after adoption): every VIP; every record ever set. */
int xlb_dp_for_each_vip(struct xlb_dp *dp,
			int (*cb)(const struct xlb_vip_key *k, const struct xlb_vip_val *v,
				  void *ctx),
			void *ctx);
int xlb_dp_for_each_backend(struct xlb_dp *dp,
			    int (*cb)(__u32 id, const struct xlb_backend *b, void *ctx), void *ctx);
int xlb_dp_backend_get(struct xlb_dp *dp, __u32 id, struct xlb_backend *b);
/* The table of VIP vip_id, size slots (-EINVAL if its size differs); a
 * stateless table (told by its length) as xlb_dp_vip_set() takes it. */
int xlb_dp_table_get(struct xlb_dp *dp, __u32 vip_id, __u32 size, __u32 *table);

/*
 * Test-only fault injection (off unless a test calls it): the nth map write
 * from now (an update or a new table, counted by xlb_dp_writes()) fails
 * with -ENOMEM, once; 0 turns it off. Deletes and the writes that undo a
 * failed step are not counted.
 */
void xlb_dp_fail_write(struct xlb_dp *dp, unsigned long nth);
unsigned long xlb_dp_writes(const struct xlb_dp *dp);

/* Counters summed over CPUs. */
int xlb_dp_vip_stats(struct xlb_dp *dp, __u32 vip_id, struct xlb_vip_stats *out);
int xlb_dp_backend_stats(struct xlb_dp *dp, __u32 id, struct xlb_backend_stats *out);
/* A backend's SYN counters (monotonic; outlier detection reads them each tick). */
int xlb_dp_backend_syn_stats(struct xlb_dp *dp, __u32 id, struct xlb_backend_syn_stats *out);
int xlb_dp_reason_count(struct xlb_dp *dp, __u32 reason, __u64 *out);
/*
 * The same for many ids at once (out[i] for ids[i]), in a few batch reads
 * of the span of the ids rather than a syscall per id: what a scrape of
 * thousands of backends uses. 0, or -errno (-ENOENT: an id beyond the map).
 */
int xlb_dp_vip_stats_many(struct xlb_dp *dp, const __u32 *ids, size_t n, struct xlb_vip_stats *out);
int xlb_dp_backend_stats_many(struct xlb_dp *dp, const __u32 *ids, size_t n,
			      struct xlb_backend_stats *out);
int xlb_dp_backend_syn_stats_many(struct xlb_dp *dp, const __u32 *ids, size_t n,
				  struct xlb_backend_syn_stats *out);
/* Every reason slot's count (out[reason]), in one batch read. */
int xlb_dp_reason_counts(struct xlb_dp *dp, __u64 out[XLB_REASON_SLOTS]);

/* The flow-table entry of a 5-tuple: 0, or -ENOENT. */
int xlb_dp_flow_get(struct xlb_dp *dp, const struct xlb_flow_key *k, struct xlb_flow_entry *e);

/*
 * Live flows per backend: count_by_id[id] += entries of backend id whose
 * generation is gen_by_id[id], not closed by the client (FIN/RST; a flow
 * still in its handshake counts), and
 * active within udp_idle (UDP) or tcp_idle_s (TCP: a connection that ended
 * without a client FIN, e.g. reset by the server, stops counting then).
 * Reads the mmapped table: one pass, no syscall per bucket.
 * In the same pass, *used (if not NULL) = the ways in use, live or not (the
 * table's fill). count_by_id NULL: count only that.
 */
int xlb_dp_flow_count(struct xlb_dp *dp, const __u32 *gen_by_id, __u32 *count_by_id,
		      __u32 tcp_idle_s, __u64 *used);
/*
 * The same count a slice at a time (xlbd's background sweep): a mapping
 * of the flow table kept open; xlb_dp_flow_scan_count() counts buckets
 * [first, first + n) as xlb_dp_flow_count() does, with now_jiffies as the
 * kernel's jiffies (xlb_kernel_jiffies()), and returns their fill.
 */
struct xlb_dp_flow_scan;
int xlb_dp_flow_scan_open(struct xlb_dp *dp, __u32 tcp_idle_s, struct xlb_dp_flow_scan **out);
void xlb_dp_flow_scan_close(struct xlb_dp_flow_scan *s);
__u32 xlb_dp_flow_scan_buckets(const struct xlb_dp_flow_scan *s);
__u64 xlb_dp_flow_scan_count(struct xlb_dp_flow_scan *s, __u32 now_jiffies, __u32 first, __u32 n,
			     const __u32 *gen_by_id, __u32 *count_by_id);
/*
 * The live flows one by one: cb(ctx, key, backend id) for each entry of a
 * backend id whose generation is gen_by_id[id] (0: none), active within
 * udp_idle (UDP) or tcp_idle_s (TCP), and, if the client closed it, within
 * closed_s (its last packets may still come); until cb returns nonzero,
 * which is returned. Reads the mmapped table in one pass.
 */
int xlb_dp_flow_each(struct xlb_dp *dp, const __u32 *gen_by_id, __u32 tcp_idle_s, __u32 closed_s,
		     int (*cb)(void *ctx, const struct xlb_flow_key *k, __u32 id), void *ctx);
/* Flows the flow table holds (its size: buckets * XLB_FLOW_WAYS). */
__u32 xlb_dp_flow_entries(const struct xlb_dp *dp);
/*
 * The flow table's work, since the maps were created: hits (packets that
 * took a flow-table entry; the data plane does not count them, they are
 * every VIP's packets minus misses and syns), misses (reason flow_miss),
 * syns (reason flow_syn: a new TCP connection, never looked up), evictions
 * (reason flow_evicted).
 */
struct xlb_dp_flow_lookups {
	__u64 hits, misses, syns, evictions;
};
int xlb_dp_flow_lookups(struct xlb_dp *dp, struct xlb_dp_flow_lookups *out);
/* Memory as the kernel accounts it (memlock, as bpftool shows it). */
struct xlb_dp_memory {
	__u64 maps;   /* every map of the program, the flow table included */
	__u64 flows;  /* the flow table alone */
	__u64 tables; /* the Maglev tables (inner maps) */
	__u32 ntables;
};
int xlb_dp_memory(struct xlb_dp *dp, struct xlb_dp_memory *m);

/*
 * Health-check probes through the VIP (check `via: vip`; the owner is
 * bpf/check_out.bpf.c, whose header says how it works). The tc egress
 * program is loaded with the XDP program and attached next to it by
 * xlb_dp_attach() (link pinned as "check_link" and adopted like "link").
 * check_sock_set: a probe socket's packets (struct xlb_check_key, network
 * order) go to backend id (-EOPNOTSUPP: the program did not load).
 * check_ready: 1 when the program is attached. Without it no probe may go
 * to the VIP (a kernel without tcx): it would reach the VIP through the
 * router and pass for any backend. check_sock_del: forget a probe socket
 * (-ENOENT if unknown).
 */
int xlb_dp_check_ready(const struct xlb_dp *dp);
int xlb_dp_check_sock_set(struct xlb_dp *dp, const struct xlb_check_key *k, __u32 id);
int xlb_dp_check_sock_del(struct xlb_dp *dp, const struct xlb_check_key *k);
/* The program's fd (fixtures run it), or -1. */
int xlb_dp_check_prog_fd(const struct xlb_dp *dp);

/* The kernel's jiffies now (from /proc/timer_list), 0 if unreadable. */
unsigned long long xlb_kernel_jiffies(void);

/* The kernel's HZ (jiffies per second): kernel config, else measured. */
unsigned int xlb_kernel_hz(void);

/* Names of the reason counters (from the X-macro list); NULL if unused id. */
const char *xlb_reason_name(__u32 id);
const char *xlb_reason_help(__u32 id);
int xlb_reason_kind(__u32 id);

/* "10.0.0.1" or "2001:db8::1" -> 16-byte form; returns XLB_AF_* or -EINVAL. */
int xlb_addr_parse(const char *s, union xlb_addr *a);
/* Back to text; buf needs 46 bytes. */
const char *xlb_addr_str(const union xlb_addr *a, char *buf, size_t len);
int xlb_addr_is_v4(const union xlb_addr *a);

#endif /* XLB_DP_H */
