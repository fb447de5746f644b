// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "vipname.h"
#include "xlb_dp.h"

int xlb_vip_name_parse(const char *s, struct xlb_vip_name *out)
{
	char buf[XLB_VIP_NAME_LEN * 2], *addr = buf, *port, *proto, *end;
	unsigned long p;
	int fam;

	memset(out, 0, sizeof(*out));
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	proto = strrchr(buf, '/');
	port = strrchr(buf, ':');
	if (!proto || !port || port > proto)
		return -EINVAL;
	*proto++ = 0;
	*port++ = 0;
	if (*addr == '[') {
		addr++;
		if (port - 2 < addr || port[-2] != ']')
			return -EINVAL;
		port[-2] = 0;
	} else if (strchr(addr, ':')) {
		return -EINVAL; /* 2001:db8::1:80 is an address: IPv6 goes in [] */
	}
	p = strtoul(port, &end, 10);
	if (*port < '0' || *port > '9' || *end || p > 65535)
		return -EINVAL;
	fam = xlb_addr_parse(addr, &out->addr);
	if (fam < 0)
		return -EINVAL;
	out->family = (__u8)fam;
	out->port = (__u16)p;
	if (!strcmp(proto, "tcp"))
		out->proto = IPPROTO_TCP;
	else if (!strcmp(proto, "udp"))
		out->proto = IPPROTO_UDP;
	else
		return -EINVAL;
	return 0;
}

const char *xlb_vip_name_str(const struct xlb_vip_name *n, char *buf, size_t len)
{
	char a[48];

	xlb_addr_str(&n->addr, a, sizeof(a));
	snprintf(buf, len, n->family == XLB_AF_INET6 ? "[%s]:%u/%s" : "%s:%u/%s", a, n->port,
		 n->proto == IPPROTO_UDP ? "udp" : "tcp");
	return buf;
}

int xlb_vip_name_cmp(const char *a, const char *b)
{
	struct xlb_vip_name x, y;
	int px = !xlb_vip_name_parse(a, &x), py = !xlb_vip_name_parse(b, &y), r;

	if (!px || !py)
		return px != py ? py - px : strcmp(a, b);
	if (x.family != y.family)
		return x.family < y.family ? -1 : 1;
	r = memcmp(&x.addr, &y.addr, sizeof(x.addr));
	if (r)
		return r;
	if (x.port != y.port)
		return x.port < y.port ? -1 : 1;
	return x.proto - y.proto;
}
