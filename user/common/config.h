/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xlb configuration: what the operator asks for (VIPs and their backends),
 * parsed from YAML and validated in full before anything is applied.
 *
 * Pure logic: no BPF, no sockets. Every rejection names where (file:line
 * for a file, the field for a request) and how to fix it.
 *
 * YAML format (README "Configuration"):
 *
 *   interface: eth0
 *   vips:
 *     - address: 10.0.0.10        # IPv4 or IPv6
 *       port: 80                  # 0 = every port
 *       protocol: tcp             # tcp | udp
 *       mode: dsr                 # dsr | ipip                  (default dsr)
 *       hash: 5-tuple             # 5-tuple | source            (default 5-tuple)
 *       on_empty: reject          # reject | drop | pass        (default reject)
 *       table_size: 65537         # a prime from the list       (default 65537)
 *       backends:
 *         - address: 10.1.0.11
 *           weight: 1             # 0..65535, 0 = out of the table (default 1)
 *           check_port: 8080      # health-check port           (default: the VIP's)
 *           admin: enabled        # enabled | drain | disabled  (default enabled)
 */
#ifndef XLB_CONFIG_H
#define XLB_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <net/if.h>

#include "xlb_abi.h"

#define XLB_CFG_MAX_WEIGHT 65535
#define XLB_CFG_ERR_LEN 512

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
	__u16 check_port; /* 0: the VIP's port */
	int line;	  /* where it was defined (0: not from a file) */
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
	struct xlb_cfg_backend *backends;
	size_t nbackends;
	int line;
};

struct xlb_cfg {
	char iface[IF_NAMESIZE];
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

#endif /* XLB_CONFIG_H */
