/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A VIP's name, "ADDRESS:PORT/PROTOCOL" (10.0.0.10:80/tcp,
 * [2001:db8::1]:443/udp, port 0 = every port): the one parser and printer
 * that xlbd (config, control requests) and xlbctl (sorting rows) share.
 * Pure: no BPF, no YAML, no sockets, so xlbctl links it alone.
 */
#ifndef XLB_VIPNAME_H
#define XLB_VIPNAME_H

#include <stddef.h>

#include "xlb_abi.h"

struct xlb_vip_name {
	union xlb_addr addr;
	__u8 family; /* XLB_AF_INET / XLB_AF_INET6 */
	__u16 port;  /* host order */
	__u8 proto;  /* IPPROTO_TCP / IPPROTO_UDP */
};

/* Enough for "[ffff:...:ffff]:65535/tcp". */
#define XLB_VIP_NAME_LEN 64

/* 0, or -EINVAL when s is not ADDRESS:PORT/PROTOCOL (an IPv6 address in
 * brackets: 2001:db8::1:80 would read as an address). */
int xlb_vip_name_parse(const char *s, struct xlb_vip_name *out);
const char *xlb_vip_name_str(const struct xlb_vip_name *n, char *buf, size_t len);
/* Order by address (IPv4 first), port, protocol; names that do not parse
 * sort after those that do, by their text. */
int xlb_vip_name_cmp(const char *a, const char *b);

#endif /* XLB_VIPNAME_H */
