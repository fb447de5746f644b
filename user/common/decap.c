// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "decap.h"
#include "xlb_dp.h"

static const char *const counter_names[XLB_DECAP_COUNTERS] = {
	[XLB_DECAP_IPIP] = "ipip",
	[XLB_DECAP_IP6] = "ip6",
	[XLB_DECAP_PASS] = "pass",
	[XLB_DECAP_INVALID] = "invalid",
	[XLB_DECAP_FOREIGN_SRC] = "foreign_src",
	[XLB_DECAP_NOT_LOCAL] = "not_local",
	[XLB_DECAP_SL_DELIVERED] = "sl_delivered",
	[XLB_DECAP_SL_SELF] = "sl_self",
	[XLB_DECAP_SL_HANDED_ON] = "sl_handed_on",
	[XLB_DECAP_SL_FIB_FAILED] = "sl_fib_failed",
	[XLB_DECAP_SL_NESTED] = "sl_nested",
};

const char *xlb_decap_counter_name(__u32 id)
{
	return id < XLB_DECAP_COUNTERS ? counter_names[id] : NULL;
}

int xlb_prefix_parse(const char *s, struct xlb_prefix *p, char *why, size_t why_len)
{
	char addr[64], *end;
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	int fam, max, first;
	long len;

	memset(p, 0, sizeof(*p));
	if (alen >= sizeof(addr) ||
	    (memcpy(addr, s, alen), addr[alen] = 0, (fam = xlb_addr_parse(addr, &p->addr)) < 0)) {
		snprintf(why, why_len, "'%.*s' is not an IPv4 or IPv6 address", (int)alen, s);
		return -EINVAL;
	}
	p->family = (__u8)fam;
	max = fam == XLB_AF_INET ? 32 : 128;
	len = max;
	if (slash) {
		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || errno || len < 0 || len > max) {
			snprintf(why, why_len, "the prefix length must be 0 to %d", max);
			return -EINVAL;
		}
	}
	p->len = (__u8)len;
	/* Host bits: what lies past the prefix in the 16-byte form. */
	first = (fam == XLB_AF_INET ? 96 : 0) + (int)len;
	for (int bit = first; bit < 128; bit++) {
		if (p->addr.b[bit / 8] & (0x80 >> (bit % 8))) {
			struct xlb_prefix net = *p;
			char buf[64];

			for (int b = first; b < 128; b++)
				net.addr.b[b / 8] &= (__u8) ~(0x80 >> (b % 8));
			snprintf(why, why_len, "host bits are set; the network is %s",
				 xlb_prefix_str(&net, buf, sizeof(buf)));
			return -EINVAL;
		}
	}
	return 0;
}

const char *xlb_prefix_str(const struct xlb_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	snprintf(buf, len, "%s/%u", xlb_addr_str(&p->addr, a, sizeof(a)), p->len);
	return buf;
}

int xlb_decap_allow(int fd4, int fd6, const struct xlb_prefix *p)
{
	__u8 one = 1;

	if (p->family == XLB_AF_INET) {
		struct xlb_lpm4_key k = {.prefixlen = p->len};

		memcpy(k.addr, &p->addr.w[3], 4);
		return bpf_map_update_elem(fd4, &k, &one, BPF_ANY) ? -errno : 0;
	}
	struct xlb_lpm6_key k = {.prefixlen = p->len};

	memcpy(k.addr, p->addr.b, 16);
	return bpf_map_update_elem(fd6, &k, &one, BPF_ANY) ? -errno : 0;
}

int xlb_decap_local(int fd, const union xlb_addr *a)
{
	__u8 one = 1;

	return bpf_map_update_elem(fd, a, &one, BPF_ANY) ? -errno : 0;
}

int xlb_decap_allowed(int fd4, int fd6, struct xlb_prefix *out, size_t max)
{
	struct xlb_lpm4_key k4, n4;
	struct xlb_lpm6_key k6, n6;
	size_t n = 0;
	void *prev = NULL;

	while (n < max && !bpf_map_get_next_key(fd4, prev, &n4)) {
		k4 = n4;
		prev = &k4;
		out[n] = (struct xlb_prefix){.family = XLB_AF_INET, .len = (__u8)k4.prefixlen};
		out[n].addr.w[2] = htonl(0xffff);
		memcpy(&out[n++].addr.w[3], k4.addr, 4);
	}
	prev = NULL;
	while (n < max && !bpf_map_get_next_key(fd6, prev, &n6)) {
		k6 = n6;
		prev = &k6;
		out[n] = (struct xlb_prefix){.family = XLB_AF_INET6, .len = (__u8)k6.prefixlen};
		memcpy(out[n++].addr.b, k6.addr, 16);
	}
	return (int)n;
}

int xlb_decap_locals(int fd, union xlb_addr *out, size_t max)
{
	union xlb_addr k, next;
	void *prev = NULL;
	size_t n = 0;

	while (n < max && !bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		out[n++] = k;
	}
	return (int)n;
}
