// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "xlb_dp.h"

int xlb_addr_is_v4(const union xlb_addr *a)
{
	return a->w[0] == 0 && a->w[1] == 0 && a->w[2] == htonl(0xffff);
}

int xlb_addr_parse(const char *s, union xlb_addr *a)
{
	struct in_addr v4;

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &v4) == 1) {
		a->w[2] = htonl(0xffff);
		a->w[3] = v4.s_addr;
		return XLB_AF_INET;
	}
	if (inet_pton(AF_INET6, s, a->b) == 1)
		return xlb_addr_is_v4(a) ? XLB_AF_INET : XLB_AF_INET6;
	return -EINVAL;
}

const char *xlb_addr_str(const union xlb_addr *a, char *buf, size_t len)
{
	if (xlb_addr_is_v4(a))
		return inet_ntop(AF_INET, &a->w[3], buf, len);
	return inet_ntop(AF_INET6, a->b, buf, len);
}
