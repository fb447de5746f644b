/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Another build of the XDP program (an object file of an earlier commit,
 * tools/bench/build_old.sh), loaded on the maps of the running one, so the
 * bench can measure both in the same rounds on the same table state.
 */
#ifndef XLB_BENCH_OTHER_BUILD_H
#define XLB_BENCH_OTHER_BUILD_H

#include <linux/types.h>

struct bpf_object;

/*
 * Open `path`, share every map the running program `like_fd` has under the
 * same name (flow table, VIPs, backends, tables, counters; maps it lacks
 * stay its own), give it that program's .rodata values for every variable
 * of the same name and size, load it. *prog_fd: its XDP program `prog`.
 * Returns the object (for bpf_object__close) or NULL with errno set.
 */
struct bpf_object *xlb_other_open(const char *path, const char *prog, int like_fd, int *prog_fd);

/* What the kernel holds of a loaded program: the size of its instructions
 * after the verifier's rewrites and of its machine code, and how many
 * instructions the verifier walked. 0 or -errno. */
struct xlb_prog_size {
	__u32 xlated_insns;
	__u32 jited_bytes;
	__u32 verified_insns;
};
int xlb_prog_size(int prog_fd, struct xlb_prog_size *out);

#endif /* XLB_BENCH_OTHER_BUILD_H */
