/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The fleet's hash seed: 128 secret bits that key the flow hash and the
 * Maglev permutations (xlb_hash.h). Every load balancer of one ECMP group
 * must use the same seed, or a flow that ECMP moves between them lands on
 * another backend.
 *
 * Where it comes from: the configuration's hash_seed (32 hex digits) or
 * hash_seed_file (a file holding them, mode 0600), else XLB_SEED_FILE.
 * `make install` creates XLB_SEED_FILE when it is absent and never
 * overwrites it. No seed is an error: a public default would let clients
 * aim traffic again.
 *
 * Pure file reading: no BPF, no sockets.
 */
#ifndef XLB_SEED_H
#define XLB_SEED_H

#include "config.h"
#include "xlb_hash.h"

#define XLB_SEED_FILE "/etc/xlb/hash_seed"

/* 32 hex digits (surrounding white space ignored) -> seed: 0, or -EINVAL. */
int xlb_seed_parse(const char *hex, struct xlb_hash_seed *out);

/* Read a seed file: it must hold 32 hex digits and be private (no group
 * or other permissions). 0, or -errno with err set. */
int xlb_seed_load_file(const char *path, struct xlb_hash_seed *out, struct xlb_err *err);

/* The seed a configuration names (inline, its file, or XLB_SEED_FILE). */
int xlb_seed_resolve(const struct xlb_cfg *c, struct xlb_hash_seed *out, struct xlb_err *err);

/* Where the seed of c comes from, for messages ("hash_seed in the
 * configuration" or the file's path). */
const char *xlb_seed_source(const struct xlb_cfg *c);

#endif /* XLB_SEED_H */
