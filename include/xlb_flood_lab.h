/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The SYN-flood lab's maps (bpf/flood_lab.bpf.c, tests/flood/sl_flood.c):
 * test scaffolding, not part of xlb's ABI; kept here because both
 * compilers read it.
 */
#ifndef XLB_FLOOD_LAB_H
#define XLB_FLOOD_LAB_H

#include <linux/types.h>

#define FLOOD_MAX_PROBES 4096

/* An established flow as the sink saw it (addresses network order). */
struct flood_probe {
	__u32 holder;	/* the backend that took its first packet */
	__u32 cur;	/* the last packet's outer destination */
	__u32 prev;	/* ... and its previous hop (0: none) */
	__u32 seen;	/* packets that came back */
	__u32 direct;	/* ... sent to the holder */
	__u32 via_prev; /* ... reaching it as the previous hop */
	__u32 missed;	/* ... reaching neither: the flow moved */
	__u32 pad;
};

/* Frames that came back (map flood_sunk, per CPU). */
enum flood_sunk {
	FLOOD_SUNK_SYN,
	FLOOD_SUNK_PROBE, /* an established flow's */
	FLOOD_SUNK_OTHER, /* not understood */
	FLOOD_SUNK_N
};

#endif
