/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the fuzzer expects of a packet, from a parse of its own that follows
 * the data plane's documented policy (bpf/lib/parse.h, README "Packet
 * policy"), and the checks of what came out: forwarded frames (dsr, ipip)
 * and frames answered in the VIP's name (TCP RST, ICMP errors).
 */
#ifndef XLB_FUZZ_PKT_MODEL_H
#define XLB_FUZZ_PKT_MODEL_H

#include <stddef.h>

#include "pkt_world.h"

enum fz_fate {
	FZ_NOT_OURS, /* not for a VIP or not for this NIC: XDP_PASS, byte-identical */
	FZ_ODD,	     /* to a VIP address, malformed or an anomaly: dropped, counted */
	FZ_VIP,	     /* a flow of a VIP, or an ICMP error about one */
};

/*
 * Invariants of issue #12 that the data plane of the day may not hold yet;
 * with the feature absent, the fuzzer relaxes the expectation and counts.
 */
enum fz_relax {
	FZ_RELAX_NONE = 0,
	FZ_RELAX_NIC_MAC,   /* frames to another MAC pass untouched */
	FZ_RELAX_ICMP_DST,  /* ICMP errors not sent to the quoted source pass */
	FZ_RELAX_MALFORMED, /* malformed frames not to a VIP address pass */
	FZ_RELAX_N,
};

extern const char *const fz_relax_name[FZ_RELAX_N];

struct fz_model_opts {
	int nic_mac;  /* check the destination MAC against nic[] */
	int intended; /* enforce the ICMP-destination and malformed rules */
	__u8 nic[6];  /* this NIC's MAC */
	__u32 mtu;    /* 0: unknown (no too-big answers expected) */
};

struct fz_cls {
	int fate;
	int relax;	 /* enum fz_relax that turned a NOT_OURS into something else */
	const char *tag; /* short name of the case, e.g. "other-mac", "malformed-vip" */
	char why[224];
	size_t l2;    /* 14 or 18 */
	int family;   /* 4 or 6 (outer) */
	__u32 ip_len; /* outer IP length, header included */
	int icmp_err; /* key read from an ICMP error's quote, reversed */
	__u8 tcp_flags;
	struct xlb_flow_key key; /* exactly as the data plane builds it */
	const struct fz_vip *vip;
};

void fz_classify(const struct fz_world *w, const struct fz_model_opts *o, const __u8 *b, size_t len,
		 struct fz_cls *c);

/*
 * Lengths and checksums of the IP packet at b[off..len): total/payload
 * length within the frame, IPv4 header checksum, TCP/UDP/ICMP/ICMPv6
 * checksums, and the same for an IPIP/IP6IP6 inner packet. Returns the
 * bytes beyond the IP length (padding), or -1 with the reason in err.
 */
int fz_ip_valid(const __u8 *b, size_t len, size_t off, char *err, size_t elen);

/*
 * A forward of in to backend id (decoded from the destination MAC): dsr
 * (only the MACs changed) or ipip (outer header, then the input's IP packet
 * byte for byte); with prev (a stateless VIP's previous hop, 0: none) a
 * second header of the same family to prev between the two. nic: the
 * source MAC required (NULL: not checked). Returns 0 or -1 with the reason
 * in err.
 */
int fz_check_forward(const struct fz_world *w, const struct fz_cls *c, const __u8 *in,
		     size_t in_len, const __u8 *out, size_t out_len, __u32 id, __u32 prev,
		     const __u8 *nic, char *err, size_t elen);

enum fz_reply {
	FZ_REPLY_RST = 1,
	FZ_REPLY_UNREACH, /* port unreachable (on_empty reject of UDP) */
	FZ_REPLY_TOOBIG,  /* fragmentation needed / packet too big */
};

/*
 * An answer to the client in the VIP's name. Returns enum fz_reply, or -1
 * with the reason in err.
 */
int fz_check_reply(const struct fz_cls *c, const __u8 *in, size_t in_len, const __u8 *out,
		   size_t out_len, const __u8 *nic, char *err, size_t elen);

#endif /* XLB_FUZZ_PKT_MODEL_H */
