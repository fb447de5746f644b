/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The Maglev table by the book (maglev.c's header says what it computes):
 * one probe at a time, every backend visited in every round. Slow and plain
 * on purpose: the unit tests hold the builder to it on random inputs and
 * xlb-bench times the builder against it in the same run.
 */
#ifndef XLB_MAGLEV_REF_H
#define XLB_MAGLEV_REF_H

#include "maglev.h"

/* As xlb_maglev_build_keyed: the same table, the same errors. */
int maglev_ref_build(const struct xlb_maglev_backend *b, size_t n, __u32 m,
		     const struct xlb_hash_seed *seed, __u32 *table);

#endif
