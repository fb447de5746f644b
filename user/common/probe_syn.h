/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Half-open tcp checks (issue #15), for the prober (probe.c): a plain tcp
 * check sends a SYN from a raw socket and is answered by the backend's
 * kernel exactly as a connect() would be: a SYN-ACK is healthy, a RST is
 * "refused", an ICMP unreachable is that error, silence is a timeout (the
 * SYN is sent again at 1, 3, 7... s, as the kernel's connect does). The
 * SYN-ACK arrives at a local port no socket listens on or is connected
 * from, so this host's kernel answers it with a RST: the backend's half-open
 * entry goes, its application never sees a connection (no accept, no log
 * line, no TIME_WAIT on either side), and no socket is made here at all.
 * Per check: one SYN out, a SYN-ACK in, the kernel's RST out; sends are
 * batched (sendmmsg) and replies read in batches (recvmmsg).
 *
 * Ports: a block of XLB_SYN_PORTS consecutive local ports is held by bound
 * (never listening, never connected) tcp sockets, so no other socket of
 * this host can use them and the kernel keeps answering SYN-ACKs to them
 * with RSTs; each check takes the next port of the block, so the same
 * backend address and port come back to a local port only every
 * XLB_SYN_PORTS checks. A classic BPF filter on the raw sockets keeps only
 * SYN-ACKs and RSTs to the block (a raw tcp socket otherwise gets a copy of
 * every tcp segment the host receives).
 *
 * A reply counts only when it comes from the address and port probed, to
 * the port the SYN left from, and acknowledges the SYN's random sequence
 * number (as the kernel's own check of a SYN-ACK does).
 *
 * Needs CAP_NET_RAW for the raw sockets, at xlb_synprobe_new() only (xlbd
 * makes its prober at setup, before it drops capabilities; privs.c). Where
 * the raw sockets cannot be made the prober keeps connect() (io_uring or
 * epoll): same outcomes, reasons and timing.
 *
 * IPv4 SYNs carry a checksum over this host's source address, which the
 * engine learns per backend address (a UDP socket's connect() and
 * getsockname(), as the kernel's route picks it) and relearns every
 * XLB_SYN_SRC_TTL_MS, for a SYN sent again, and for the check after one
 * that got no answer: a route change that moves the source address costs
 * a check at most, not XLB_SYN_SRC_TTL_MS of them. The kernel sums IPv6's
 * checksum (IPV6_CHECKSUM).
 */
#ifndef XLB_PROBE_SYN_H
#define XLB_PROBE_SYN_H

#include <linux/types.h>
#include <stddef.h>
#include <sys/socket.h>

#define XLB_SYN_PORTS 64
#define XLB_SYN_FDS 3 /* raw IPv4, raw IPv6, retransmission timer */
#define XLB_SYN_SRC_TTL_MS 30000

struct xlb_synprobe;

/* One check's outcome: err 0 a SYN-ACK, ECONNREFUSED a RST, else the
 * errno of an ICMP error or of the send; `what` is NULL (the same shape as
 * probe_uring.h's). Never called from _start/_abandon/_flush. */
typedef void (*xlb_synprobe_done_fn)(void *ctx, void *owner, int err, const char *what);

/* NULL with *err (-errno) when the raw sockets or the port block cannot be
 * had (no CAP_NET_RAW: -EPERM). */
struct xlb_synprobe *xlb_synprobe_new(xlb_synprobe_done_fn done, void *ctx, int *err);
void xlb_synprobe_free(struct xlb_synprobe *s);

/* The fds to watch (EPOLLIN); -1 entries are none (no IPv6). */
void xlb_synprobe_fds(const struct xlb_synprobe *s, int fds[XLB_SYN_FDS]);
/* The first local port of the block. */
__u16 xlb_synprobe_port_base(const struct xlb_synprobe *s);

/* Queue a SYN to sa for owner: 0 and *handle; -EAFNOSUPPORT (a family
 * without a raw socket), -EBUSY (every port of the block has a check in
 * flight to this address and port), -ENOMEM. */
int xlb_synprobe_start(struct xlb_synprobe *s, const struct sockaddr *sa, socklen_t len,
		       void *owner, __u64 *handle);
/* No outcome for this check, ever. */
void xlb_synprobe_abandon(struct xlb_synprobe *s, __u64 handle);
/* fd (one of xlb_synprobe_fds()) is ready with epoll events `events`:
 * read its replies, errors or timer; done() for what ended. fd -1: read
 * both raw sockets (a deadline is due: what arrived counts first). */
void xlb_synprobe_reap(struct xlb_synprobe *s, int fd, __u32 events);
/* Send what is queued. */
void xlb_synprobe_flush(struct xlb_synprobe *s);
/* Checks in flight. */
unsigned int xlb_synprobe_busy(const struct xlb_synprobe *s);

/*
 * A received segment, as a raw socket of `family` gives it (IPv4: from the
 * IP header; IPv6: from the tcp header). 0 and *r, or -EINVAL for anything
 * that is not a whole tcp header. Any bytes at all may come in.
 */
struct xlb_syn_seg {
	__u16 sport, dport; /* host order */
	__u32 seq, ack;
	__u8 flags;
};
int xlb_syn_parse(int family, const void *buf, size_t len, struct xlb_syn_seg *r);

#endif /* XLB_PROBE_SYN_H */
