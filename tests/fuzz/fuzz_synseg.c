// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer harness for what a half-open check reads off its raw sockets
 * (user/common/probe_syn.c, xlb_syn_parse()): any bytes, as an IPv4 raw
 * socket gives them (IP header first) and as an IPv6 one does (tcp header
 * first). A segment is taken only when the whole tcp header is inside the
 * bytes, an IPv4 one only when it is a first fragment of tcp with a sane
 * header length; what is taken reads exactly the header's bytes. Anything
 * else aborts (a crash for libFuzzer), as do ASan/UBSan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "probe_syn.h"

static __u32 be32(const uint8_t *b)
{
	return (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3];
}

static void check(int family, const uint8_t *d, size_t n)
{
	struct xlb_syn_seg g;
	size_t off = 0;
	int ok;

	/* A copy of exactly n bytes: ASan sees any read past them. */
	uint8_t *b = malloc(n ? n : 1);

	if (!b)
		return;
	memcpy(b, d, n);
	ok = !xlb_syn_parse(family, b, n, &g);
	if (ok && family != AF_INET && family != AF_INET6)
		abort(); /* a family no raw socket gives */
	if (ok && family == AF_INET) {
		if (n < 20 || b[0] >> 4 != 4 || (b[0] & 0xf) < 5 || b[9] != IPPROTO_TCP ||
		    ((b[6] << 8 | b[7]) & 0x1fff))
			abort(); /* not a first tcp fragment, yet taken */
		off = (size_t)(b[0] & 0xf) * 4;
	}
	if (ok && (n < off + 20 || b[off + 12] >> 4 < 5))
		abort(); /* a tcp header cut short, yet taken */
	if (ok &&
	    (g.sport != (b[off] << 8 | b[off + 1]) || g.dport != (b[off + 2] << 8 | b[off + 3]) ||
	     g.seq != be32(b + off + 4) || g.ack != be32(b + off + 8) || g.flags != b[off + 13]))
		abort(); /* fields from the wrong bytes */
	if (!ok && family == AF_INET6 && n >= 20 && b[12] >> 4 >= 5)
		abort(); /* a whole IPv6 tcp header refused */
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(AF_INET, data, size);
	check(AF_INET6, data, size);
	check(AF_UNIX, data, size); /* no such family: always refused */
	return 0;
}
