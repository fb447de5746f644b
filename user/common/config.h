/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xlb configuration: what the operator asks for (VIPs and their backends),
 * parsed from YAML and validated in full before anything is applied.
 *
 * Pure logic: no BPF, no sockets. Every rejection names where (file:line
 * for a file, the field for a request) and how to fix it.
 *
 * Which file holds what:
 *   config.c           names of enum values, a check's defaults, durations and
 *                      status ranges, the VIP's name, find/copy/equal/free
 *   config_parse.c     the YAML walk: xlb_cfg_load_*, xlb_cfg_parse_check
 *   config_validate.c  xlb_cfg_validate and its checks
 *   config_dump.c      xlb_cfg_dump, and the checked dump (config_dump.h)
 *   config_int.h       helpers these share; not for use outside config*.c
 *
 * YAML format (README "Configuration"):
 *
 *   interface: eth0
 *   deleted_vip_grace: 60s        # a deleted VIP answers on_empty this long (0 = off)
 *   hash_seed_file: /etc/xlb/hash_seed  # the fleet's secret seed (default), or
 *   hash_seed: 00112233445566778899aabbccddeeff  # inline; read at start (seed.h)
 *   flow_table_size: 1048576      # flows (default); rounded up to whole buckets of 4
 *   announce:                     # absent: this host announces nothing (README
 *     table: 9641                 # "Running a fleet"); {} = the defaults
 *     protocol: 250               # route protocol of xlbd's routes, 5..255
 *     hold: 10s                   # a silent agent's routes go after this (1s..10m)
 *   vips:
 *     - address: 10.0.0.10        # IPv4 or IPv6
 *       port: 80                  # 0 = every port
 *       protocol: tcp             # tcp | udp
 *       mode: dsr                 # dsr | ipip                  (default dsr)
 *       hash: 5-tuple             # 5-tuple | source            (default 5-tuple)
 *       on_empty: reject          # reject | drop | pass        (default reject)
 *       table_size: 65537         # a prime from the list       (default 65537)
 *       panic_threshold: 0        # % of healthy primaries; below it every enabled
 *                                 # backend is used (0 = off, the default)
 *       slow_start: 0s            # ramp 10% -> 100% after coming up (0s = off)
 *       drain_timeout: 0s         # a drained backend turns DOWN after (0s = never)
 *       announce: when-usable     # when-usable | always | never (default when-usable)
 *       flow_state: table         # table | stateless (ipip only)  (default table)
 *       handover: 10m             # stateless: how long a slot that changed keeps
 *                                 # its previous backend as a previous hop (1s..24h)
 *       syn_retry: another-backend  # a retransmitted SYN: another-backend |
 *                                 # same-backend (default another-backend; table only)
 *       outlier:                  # eject backends whose clients retransmit SYNs
 *         window: 10s             # (tcp, table only; on by default; `off` | `on`)
 *         threshold: 50%          # retransmitted share of a backend's SYNs
 *         min_samples: 5          # SYNs a span needs before it is judged
 *         base_ejection_time: 30s # first ejection; the nth lasts n times this
 *         max_ejection_time: 5m   # the longest one
 *         max_ejection_percent: 50%  # never more of the VIP's usable backends out
 *       check:                    # health check of every backend (README "Health checks")
 *         type: tcp               # tcp | http | https | udp | exec | none (default tcp)
 *         interval: 2s            # durations: 1500ms, 2s, 1m          (default 2s)
 *         fast_interval: 2s       # while a backend is between states  (default interval)
 *         timeout: 1s             # below interval                     (default 1s)
 *         rise: 2                 # successes to come up               (default 2)
 *         fall: 3                 # failures to go down                (default 3)
 *         jitter: 10%             # each interval varies by up to this (default 10%)
 *         port: 8080              # (default: the VIP's port; required when it is 0)
 *         start: unknown          # unknown | up: health of a new backend
 *         via: backend            # backend | vip: probes to the backend's address, or
 *                                 # to the VIP through the data path (not exec)
 *         path: /healthz          # http(s): request path              (default /)
 *         host: www.example.com   # http(s): Host header and TLS name  (default: address)
 *         status: 200-399         # http(s): accepted codes, e.g. "200,204,300-399"
 *         body: ok                # http(s): the body must contain this (default: any)
 *         tls_verify: true        # https: verify the certificate      (default true)
 *         send: PING\r\n          # tcp, udp: payload sent after connecting (default none)
 *         expect: +PONG           # tcp, udp: the reply must contain this (default: any
 *                                 # reply; tcp with neither: connecting is enough)
 *                                 # send and expect read \r \n \t \\ \xHH (01-7f) in
 *                                 # any YAML style; at most 1024 and 256 bytes
 *         command: /usr/lib/xlb/check.sh  # exec: run with XLB_BACKEND_ADDR, _PORT,
 *                                 # as --exec-user, split on blanks, no shell
 *         shell: false            # exec: run command with /bin/sh -c   (default false)
 *       backends:
 *         - address: 10.1.0.11
 *           weight: 1             # 0..65535, 0 = out of the table (default 1)
 *           admin: enabled        # enabled | drain | disabled  (default enabled)
 *           backup: false         # only used while no primary is up (default false)
 *           check:                # overrides of the VIP's check: interval,
 *             port: 8080          # fast_interval, timeout, rise, fall, jitter, port
 *           check_port: 8080      # older spelling of check: {port: ...}
 */
#ifndef XLB_CONFIG_H
#define XLB_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <net/if.h>

#include "xlb_abi.h"

#define XLB_CFG_MAX_WEIGHT 65535
#define XLB_CFG_ERR_LEN 512

/* Health-check types. */
enum xlb_check_type {
	XLB_CHECK_TCP = 0,   /* connect; then optionally send, expect a reply */
	XLB_CHECK_HTTP = 1,  /* GET path, status in ranges, optional body match */
	XLB_CHECK_HTTPS = 2, /* the same over TLS */
	XLB_CHECK_UDP = 3,   /* send a payload, expect a reply */
	XLB_CHECK_EXEC = 4,  /* a command; exit 0 = healthy */
	XLB_CHECK_NONE = 5,  /* no check: always up */
};

/*
 * Where a check's probes go (`via:`). BACKEND: to the backend's own address.
 * VIP: to the VIP (and the check port), delivered to the backend the way
 * client packets are (dsr: its MAC; ipip: encapsulated), so a backend that
 * lost its VIP fails its check (xlbd's check path, bpf/check_out.bpf.c).
 */
enum xlb_check_via {
	XLB_CHECK_VIA_BACKEND = 0,
	XLB_CHECK_VIA_VIP = 1,
};

#define XLB_CHECK_STR 128
/* send and expect of tcp and udp checks: at most 1024 and 256 bytes. */
#define XLB_CHECK_SEND_LEN 1025
#define XLB_CHECK_EXPECT_LEN 257
#define XLB_CHECK_MAX_RANGES 8

/* Defaults: HAProxy's. */
#define XLB_CHECK_DEFAULT_INTERVAL_MS 2000
#define XLB_CHECK_DEFAULT_TIMEOUT_MS 1000
#define XLB_CHECK_DEFAULT_RISE 2
#define XLB_CHECK_DEFAULT_FALL 3
#define XLB_CHECK_DEFAULT_JITTER 10

/* Timing of a check: per VIP, each field overridable per backend. */
struct xlb_check_timing {
	__u32 interval_ms;
	__u32 fast_interval_ms; /* while rising or falling; 0: interval */
	__u32 timeout_ms;
	__u32 rise, fall;
	__u32 jitter_pct; /* 0..50 */
	__u16 port;	  /* 0: the VIP's port */
};

/* Bits of xlb_cfg_backend.check_set: which timing fields it overrides. */
enum {
	XLB_CHK_SET_INTERVAL = 1 << 0,
	XLB_CHK_SET_FAST = 1 << 1,
	XLB_CHK_SET_TIMEOUT = 1 << 2,
	XLB_CHK_SET_RISE = 1 << 3,
	XLB_CHK_SET_FALL = 1 << 4,
	XLB_CHK_SET_JITTER = 1 << 5,
	XLB_CHK_SET_PORT = 1 << 6,
};

struct xlb_status_range {
	__u16 lo, hi; /* inclusive */
};

/* What a check does (per VIP). Strings are NUL-terminated, "" = unset. */
struct xlb_cfg_check {
	__u8 type;     /* enum xlb_check_type */
	__u8 start_up; /* a new backend starts up instead of unknown */
	__u8 tls_verify;
	__u8 nranges; /* 0: 200-399 */
	__u8 shell;   /* exec: run command with /bin/sh -c (else split on blanks) */
	__u8 via;     /* enum xlb_check_via: where probes are addressed */
	struct xlb_status_range ranges[XLB_CHECK_MAX_RANGES];
	struct xlb_check_timing t;
	char path[XLB_CHECK_STR];
	char host[XLB_CHECK_STR];
	char body[XLB_CHECK_STR];
	char send[XLB_CHECK_SEND_LEN];	   /* tcp, udp: escapes decoded */
	char expect[XLB_CHECK_EXPECT_LEN]; /* tcp, udp: escapes decoded */
	char command[XLB_CHECK_STR * 2];
};

/* What the operator wants of a backend (health is separate, issue #4). */
enum xlb_admin {
	XLB_ADMIN_ENABLED = 0,	/* in the table when usable */
	XLB_ADMIN_DRAIN = 1,	/* out of the table; established flows stay */
	XLB_ADMIN_DISABLED = 2, /* out of the table; its flows move at once */
};

struct xlb_cfg_backend {
	union xlb_addr addr;
	__u8 family; /* XLB_AF_INET / XLB_AF_INET6 */
	__u8 admin;  /* enum xlb_admin */
	__u32 weight;
	__u8 backup;	/* only in the table while no primary is up */
	__u8 check_set; /* XLB_CHK_SET_*: fields of `check` set by the backend */
	/* The VIP's timing with the backend's overrides (complete after
	 * parsing and after xlb_cfg_resolve_checks()). */
	struct xlb_check_timing check;
	int line; /* where it was defined (0: not from a file) */
};

/*
 * Per VIP `outlier:` (issue #16): passive detection of silent backends from
 * their clients' retransmitted SYNs (xlbd's outlier.c). Numbers 0 = the
 * default; `outlier: off` sets state OFF; `on` or a block sets ON. The
 * default (state DEFAULT) is on where it can work: tcp VIPs with a flow
 * table (a stateless or udp VIP sees no retransmitted SYN).
 */
enum xlb_outlier_state {
	XLB_OUTLIER_DEFAULT = 0,
	XLB_OUTLIER_OFF = 1,
	XLB_OUTLIER_ON = 2,
};
#define XLB_CFG_DEFAULT_OUTLIER_WINDOW_MS 10000
#define XLB_CFG_MIN_OUTLIER_WINDOW_MS 1000
#define XLB_CFG_MAX_OUTLIER_WINDOW_MS 60000
#define XLB_CFG_DEFAULT_OUTLIER_THRESHOLD 50
#define XLB_CFG_DEFAULT_OUTLIER_MIN_SAMPLES 5
#define XLB_CFG_MAX_OUTLIER_MIN_SAMPLES 100000
#define XLB_CFG_DEFAULT_OUTLIER_BASE_MS 30000
#define XLB_CFG_DEFAULT_OUTLIER_MAX_MS 300000
#define XLB_CFG_MIN_OUTLIER_EJECTION_MS 1000
#define XLB_CFG_MAX_OUTLIER_EJECTION_MS 86400000
#define XLB_CFG_DEFAULT_OUTLIER_MAX_PERCENT 50
struct xlb_cfg_outlier {
	__u32 state;		/* enum xlb_outlier_state (no padding: compared whole) */
	__u32 window_ms;	/* sliding window, 1s..60s */
	__u32 threshold_pct;	/* 1..100 */
	__u32 min_samples;	/* 1.. */
	__u32 base_ejection_ms; /* 1s..24h */
	__u32 max_ejection_ms;	/* >= base, ..24h */
	__u32 max_percent;	/* 1..100 */
};

struct xlb_cfg_vip {
	union xlb_addr addr;
	__u8 family;
	__u16 port; /* host order; 0 = every port */
	__u8 proto; /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 mode;  /* enum xlb_mode */
	__u8 hash;  /* enum xlb_hash */
	__u8 on_empty;
	__u32 table_size;
	__u32 panic_percent;	/* 0 = off */
	__u32 slow_start_ms;	/* 0 = off */
	__u32 drain_timeout_ms; /* 0 = never */
	__u32 reject_rate;	/* on_empty=reject replies/s; 0 = default, ~0 = unlimited */
	__u8 announce;		/* enum xlb_announce: when this host announces the VIP */
	__u8 flow_state;	/* enum xlb_flow_state: flow table, or stateless (ipip) */
	__u32 handover_ms;	/* stateless: previous hops live this long; 0 = default */
	__u8 syn_retry;		/* enum xlb_syn_retry: a retransmitted SYN's second chance */
	struct xlb_cfg_outlier outlier;
	struct xlb_cfg_check check;
	struct xlb_cfg_backend *backends;
	size_t nbackends;
	int line;
};

/* Per VIP `announce:` (issue #13): when this host announces the VIP's
 * prefix (only while the top-level `announce:` block is set). */
enum xlb_announce {
	XLB_ANNOUNCE_WHEN_USABLE = 0, /* default: a usable backend, program attached */
	XLB_ANNOUNCE_ALWAYS = 1,      /* also while empty: answers on_empty here */
	XLB_ANNOUNCE_NEVER = 2,
};

/* Per VIP `handover:` (issue #14): 0 in the struct means the default. */
#define XLB_CFG_DEFAULT_HANDOVER_MS 600000
#define XLB_CFG_MIN_HANDOVER_MS 1000
#define XLB_CFG_MAX_HANDOVER_MS 86400000
/* The handover a VIP runs with (its own, or the default). */
__u32 xlb_cfg_handover_ms(const struct xlb_cfg_vip *v);

/* The outlier settings a VIP runs with: every number filled in, state ON or
 * OFF (DEFAULT resolved: on for tcp table-mode VIPs). */
struct xlb_cfg_outlier xlb_cfg_outlier_of(const struct xlb_cfg_vip *v);

/* Top-level `announce:`: the kernel routing table in which xlbd keeps
 * the prefixes (/32, /128) it announces, for a BGP daemon (BIRD, FRR) to
 * export. table 0 = not announcing (the block is absent). */
#define XLB_CFG_DEFAULT_ANNOUNCE_TABLE 9641
#define XLB_CFG_DEFAULT_ANNOUNCE_PROTOCOL 250
#define XLB_CFG_DEFAULT_ANNOUNCE_HOLD_MS 10000
#define XLB_CFG_MIN_ANNOUNCE_PROTOCOL 5
#define XLB_CFG_MIN_ANNOUNCE_HOLD_MS 1000
#define XLB_CFG_MAX_ANNOUNCE_HOLD_MS 600000
struct xlb_cfg_announce {
	__u32 table;   /* 0: off */
	__u8 protocol; /* rtm_protocol of xlbd's routes, 1..255 (not 0-4: kernel's) */
	__u32 hold_ms; /* a silent agent's routes go after this (xlb-guard) */
};

/* A deleted VIP answers with its on_empty policy this long (sync.h). */
#define XLB_CFG_DEFAULT_DELETED_VIP_GRACE_MS 60000

struct xlb_cfg {
	char iface[IF_NAMESIZE];
	__u32 deleted_vip_grace_ms; /* deleted_vip_grace; 0 = deleted VIPs go at once */
	/* The fleet's hash seed, as written ("" = unset; seed.h resolves it).
	 * Never dumped, never compared: it is read at start, not applied. */
	char hash_seed[33];
	char hash_seed_file[256];
	__u32 mtu; /* ipip path MTU of the interface; 0 = the NIC's own */
	/* Flows the flow table holds, a multiple of XLB_FLOW_WAYS; 0 = the
	 * default (the parser stores the default as 0, so equal configs compare
	 * equal). Host-local: not in the fleet digest (cfgdigest.h). */
	__u32 flow_table_size;
	struct xlb_cfg_announce announce;
	struct xlb_cfg_vip *vips;
	size_t nvips;
};

struct xlb_err {
	char msg[XLB_CFG_ERR_LEN];
};

/* Parse YAML from a file or a string (name is used in messages). */
int xlb_cfg_load_file(const char *path, struct xlb_cfg *out, struct xlb_err *err);
int xlb_cfg_load_string(const char *name, const char *yaml, struct xlb_cfg *out,
			struct xlb_err *err);

/* A VIP's check with the defaults; a backend's timing from its VIP's and
 * its own overrides (call after changing either). */
void xlb_cfg_check_defaults(struct xlb_cfg_check *c);
void xlb_cfg_resolve_checks(struct xlb_cfg_vip *v);

/*
 * Settings of a check from a YAML (or JSON) map, as in the file: onto the
 * VIP's check (b NULL), or onto backend b's overrides. Nothing changes on
 * error. Validate the config afterwards.
 */
int xlb_cfg_parse_check(const char *yaml, struct xlb_cfg_vip *v, struct xlb_cfg_backend *b,
			struct xlb_err *err);

/* A VIP's outlier setting from YAML: off, on, or a map of settings (the
 * file's `outlier:`), replacing v's. Nothing changes on error. */
int xlb_cfg_parse_outlier(const char *yaml, struct xlb_cfg_vip *v, struct xlb_err *err);

/* Parse "1500ms", "2s", "1m" (and "0"): 0, or -EINVAL. */
int xlb_parse_duration_ms(const char *s, __u32 *ms);
/* Parse "200-399", "200,204,300-399" into c->ranges: 0, or -EINVAL. */
int xlb_parse_status_ranges(const char *s, struct xlb_cfg_check *c);
const char *xlb_check_type_name(int type);
const char *xlb_check_via_name(int via);
int xlb_check_type_from_name(const char *s);

/* The flow table's size in flows (flow_table_size, or the default). */
__u32 xlb_cfg_flow_entries(const struct xlb_cfg *c);

/* Cross-field checks: duplicates, families the mode cannot carry, limits. */
int xlb_cfg_validate(const struct xlb_cfg *c, const char *name, struct xlb_err *err);

/* Print YAML that xlb_cfg_load_* accepts and that yields the same config. */
int xlb_cfg_dump(const struct xlb_cfg *c, FILE *f);

/* The VIP with key's address, port and protocol; the backend with address a. */
struct xlb_cfg_vip *xlb_cfg_find_vip(const struct xlb_cfg *c, const struct xlb_cfg_vip *key);
struct xlb_cfg_backend *xlb_cfg_find_backend(const struct xlb_cfg_vip *v, const union xlb_addr *a);

/* Deep copy and comparison (same VIPs and backends in the same order). */
int xlb_cfg_copy(struct xlb_cfg *dst, const struct xlb_cfg *src);
int xlb_cfg_equal(const struct xlb_cfg *a, const struct xlb_cfg *b);
void xlb_cfg_free(struct xlb_cfg *c);

/* "10.0.0.10:80/tcp", "[2001:db8::1]:443/tcp": the VIP's name everywhere. */
const char *xlb_cfg_vip_name(const struct xlb_cfg_vip *v, char *buf, size_t len);

/* Names of enum values, and back (-1 when unknown). */
const char *xlb_mode_name(int mode);
const char *xlb_hash_name(int hash);
const char *xlb_on_empty_name(int on_empty);
const char *xlb_admin_name(int admin);
int xlb_admin_from_name(const char *s);
int xlb_mode_from_name(const char *s);
int xlb_hash_from_name(const char *s);
int xlb_on_empty_from_name(const char *s);
const char *xlb_announce_name(int announce);
int xlb_announce_from_name(const char *s);
const char *xlb_flow_state_name(int flow_state);
int xlb_flow_state_from_name(const char *s);
const char *xlb_syn_retry_name(int syn_retry);
int xlb_syn_retry_from_name(const char *s);
/* 1 when xlbd may keep its routes in table t: not 0 (off), 253-255 (the
 * kernel's default, main and local tables). */
int xlb_cfg_announce_table_ok(__u32 t);

#endif /* XLB_CONFIG_H */
