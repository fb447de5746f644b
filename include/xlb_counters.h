/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one list of per-reason counters. The XDP program counts by id, the CLI
 * and /metrics print by name; both come from XLB_REASONS, so they cannot
 * disagree. Ids are ABI: append new ones, never renumber, never reuse a
 * retired id (leave a comment where it was).
 *
 * kind says what happened to the packet:
 *   DROP  - XDP_DROP
 *   TX    - answered by XDP_TX instead of being forwarded (on_empty=reject)
 *   PASS  - handed to the local stack instead of being forwarded
 *   EVENT - informational; the packet went on its way
 */
#ifndef XLB_COUNTERS_H
#define XLB_COUNTERS_H

enum xlb_reason_kind {
	XLB_KIND_DROP = 0,
	XLB_KIND_TX = 1,
	XLB_KIND_PASS = 2,
	XLB_KIND_EVENT = 3,
};

/* X(id, ENUM, "name", kind, "help") */
#define XLB_REASONS(X)                                                                             \
	X(1, TRUNCATED, "truncated", XLB_KIND_DROP,                                                \
	  "to a VIP address: a header ends before its fixed part, or the IP length exceeds the "   \
	  "frame")                                                                                 \
	X(2, MALFORMED, "malformed", XLB_KIND_DROP,                                                \
	  "to a VIP address: wrong IP version, IPv4 header length or TCP data offset below 20 "    \
	  "bytes")                                                                                 \
	X(3, FRAGMENT, "fragment", XLB_KIND_DROP,                                                  \
	  "IPv4 or IPv6 fragment addressed to a VIP address (no ports to hash)")                   \
	X(4, IPV4_OPTIONS, "ipv4_options", XLB_KIND_DROP,                                          \
	  "IPv4 packet with options addressed to a VIP address")                                   \
	X(5, IPV6_EXT_HEADER, "ipv6_ext_header", XLB_KIND_DROP,                                    \
	  "IPv6 packet with extension headers addressed to a VIP address")                         \
	X(6, NO_BACKEND_DROP, "no_backend", XLB_KIND_DROP, "no usable backend and on_empty=drop")  \
	X(7, BACKEND_NOT_ACTIVE, "backend_not_active", XLB_KIND_DROP,                              \
	  "the VIP's table names a backend that is not ACTIVE")                                    \
	X(8, ENCAP_NO_ROOM, "encap_no_room", XLB_KIND_DROP,                                        \
	  "no headroom to add the tunnel header (driver headroom too small)")                      \
	X(9, FAMILY_MISMATCH, "family_mismatch", XLB_KIND_DROP,                                    \
	  "ipip mode cannot carry an IPv6 VIP to an IPv4 backend")                                 \
	X(10, NO_BACKEND_UNANSWERABLE, "no_backend_unanswerable", XLB_KIND_DROP,                   \
	  "no usable backend, on_empty=reject, but the packet is a RST, an ICMP error, or from a " \
	  "broadcast/multicast source")                                                            \
	X(11, REJECT_TCP_RST, "reject_tcp_rst", XLB_KIND_TX,                                       \
	  "no usable backend: answered with a TCP RST")                                            \
	X(12, REJECT_ICMP_UNREACH, "reject_icmp_unreach", XLB_KIND_TX,                             \
	  "no usable backend: answered with ICMP/ICMPv6 port unreachable")                         \
	X(13, NO_BACKEND_PASS, "no_backend_pass", XLB_KIND_PASS,                                   \
	  "no usable backend: handed to the local stack (on_empty=pass)")                          \
	X(14, ICMP_ERROR_FORWARDED, "icmp_error_forwarded", XLB_KIND_EVENT,                        \
	  "ICMP error quoting a VIP flow sent to that flow's backend")                             \
	X(15, FLOW_BACKEND_GONE, "flow_backend_gone", XLB_KIND_EVENT,                              \
	  "a flow's backend was DOWN or recycled: the flow was re-hashed")                         \
	X(16, UDP_FLOW_EXPIRED, "udp_flow_expired", XLB_KIND_EVENT,                                \
	  "a UDP flow idle beyond the timeout was re-hashed")                                      \
	X(17, FLOW_EVICTED, "flow_evicted", XLB_KIND_EVENT,                                        \
	  "a new flow replaced the least recently used flow of a full bucket")                     \
	X(18, REJECT_RATE_LIMITED, "reject_rate_limited", XLB_KIND_DROP,                           \
	  "no usable backend, on_empty=reject, but the VIP's reject_rate was used up")             \
	X(19, ENCAP_TOO_BIG, "encap_too_big", XLB_KIND_TX,                                         \
	  "ipip: too big for the MTU with the outer header: answered with ICMP fragmentation "     \
	  "needed or ICMPv6 packet too big")                                                       \
	X(20, ENCAP_TOO_BIG_DROP, "encap_too_big_drop", XLB_KIND_DROP,                             \
	  "ipip: too big for the MTU with the outer header and not answerable: IPv4 without DF, "  \
	  "an ICMP error, or a broadcast/multicast source")                                        \
	X(21, STATELESS, "stateless", XLB_KIND_EVENT,                                              \
	  "stateless VIP: forwarded by its Maglev slot alone, no flow table")                      \
	X(22, STATELESS_PREV_HOP, "stateless_prev_hop", XLB_KIND_EVENT,                            \
	  "stateless VIP: of those, sent to the current backend carrying the slot's previous "     \
	  "backend as a second IP header")                                                         \
	X(23, FLOW_MISS, "flow_miss", XLB_KIND_EVENT,                                              \
	  "a packet of a VIP, not a TCP SYN, found no usable flow-table entry: Maglev chose its "  \
	  "backend")                                                                               \
	X(24, FLOW_SYN, "flow_syn", XLB_KIND_EVENT,                                                \
	  "a TCP SYN of a VIP: a new connection, Maglev chose its backend (not a flow-table "      \
	  "lookup)")                                                                               \
	X(25, TCP_CLOSED_FLOW_EXPIRED, "tcp_closed_flow_expired", XLB_KIND_EVENT,                  \
	  "a TCP flow the client had closed (FIN or RST), idle beyond the timeout, was re-hashed") \
	X(26, SYN_RETRANSMIT, "syn_retransmit", XLB_KIND_EVENT,                                    \
	  "a TCP SYN of a flow still opening on its backend, 200 ms or more after the SYN "        \
	  "before: "                                                                               \
	  "the client got no answer and retransmitted (counted on that backend)")                  \
	X(27, SYN_REROUTED, "syn_rerouted", XLB_KIND_EVENT,                                        \
	  "of those, sent to another ACTIVE backend of the VIP (syn_retry another-backend); the "  \
	  "flow entry follows it")                                                                 \
	X(28, SYN_NO_OTHER_BACKEND, "syn_no_other_backend", XLB_KIND_EVENT,                        \
	  "of those, syn_retry another-backend found no other ACTIVE backend near the flow's "     \
	  "Maglev slot: sent where the table says")                                                \
	X(29, SYN_DUPLICATE, "syn_duplicate", XLB_KIND_EVENT,                                      \
	  "a TCP SYN of a flow still opening, under 200 ms after the SYN before: a duplicate, "    \
	  "sent where that one went")

enum xlb_reason {
#define XLB_REASON_ENUM(id, e, name, kind, help) XLB_R_##e = id,
	XLB_REASONS(XLB_REASON_ENUM)
#undef XLB_REASON_ENUM
};

#endif /* XLB_COUNTERS_H */
