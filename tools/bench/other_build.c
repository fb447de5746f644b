// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Another build of the XDP program on the running one's maps; see other_build.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "other_build.h"

#define MAX_MAPS 64

/* Does the kernel's (15-character) map name `kname` end like `name`? For
 * internal maps the object prefix differs ("xlb_bpf.rodata"): compare the
 * part from the first dot. */
static int name_is(const char *kname, const char *name)
{
	const char *kd = strchr(kname, '.'), *nd = strchr(name, '.');

	if (kd || nd)
		return kd && nd && !strcmp(kd, nd);
	return !strncmp(kname, name, BPF_OBJ_NAME_LEN - 1);
}

/* An fd of the map named `name` that program prog_fd uses, or -errno. */
static int prog_map(int prog_fd, const char *name, struct bpf_map_info *info)
{
	__u32 ids[MAX_MAPS], len;
	struct bpf_prog_info pi = {.nr_map_ids = MAX_MAPS, .map_ids = (__u64)(unsigned long)ids};

	len = sizeof(pi);
	if (bpf_obj_get_info_by_fd(prog_fd, &pi, &len))
		return -errno;
	for (__u32 i = 0; i < pi.nr_map_ids && i < MAX_MAPS; i++) {
		int fd = bpf_map_get_fd_by_id(ids[i]);

		memset(info, 0, sizeof(*info));
		len = sizeof(*info);
		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, info, &len) && name_is(info->name, name))
			return fd;
		if (fd >= 0)
			close(fd);
	}
	return -ENOENT;
}

/* The DATASEC variable `name` of `size` bytes in btf's section sec: its offset, or -1. */
static long var_offset(const struct btf *btf, const struct btf_type *sec, const char *name,
		       __u32 size)
{
	const struct btf_var_secinfo *v = btf_var_secinfos(sec);

	for (__u16 i = 0; i < btf_vlen(sec); i++, v++) {
		const struct btf_type *t = btf__type_by_id(btf, v->type);

		if (t && v->size == size && !strcmp(btf__name_by_offset(btf, t->name_off), name))
			return (long)v->offset;
	}
	return -1;
}

/* Copy the running program's .rodata values into obj's, variable by name. */
static int copy_rodata(struct bpf_object *obj, int like_fd)
{
	struct btf *obtf = bpf_object__btf(obj), *kbtf = NULL;
	const struct btf_type *osec, *ksec;
	struct bpf_map_info info = {};
	struct bpf_map *m, *ro = NULL;
	const void *init;
	char *dst = NULL, *src = NULL;
	size_t dsize = 0;
	__u32 zero = 0;
	int fd, err = 0, id;

	bpf_object__for_each_map(m, obj)
	{
		const char *n = bpf_map__name(m), *d = strchr(n, '.');

		if (bpf_map__is_internal(m) && d && !strcmp(d, ".rodata"))
			ro = m;
	}
	if (!ro || !obtf)
		return 0; /* nothing to set */
	fd = prog_map(like_fd, ".rodata", &info);
	if (fd < 0)
		return fd;
	init = bpf_map__initial_value(ro, &dsize);
	dst = init ? malloc(dsize) : NULL;
	if (dst)
		memcpy(dst, init, dsize);
	id = btf__find_by_name_kind(obtf, ".rodata", BTF_KIND_DATASEC);
	osec = id > 0 ? btf__type_by_id(obtf, (__u32)id) : NULL;
	src = malloc(info.value_size);
	kbtf = btf__load_from_kernel_by_id(info.btf_id);
	if (!dst || !osec || !src || !kbtf || bpf_map_lookup_elem(fd, &zero, src)) {
		err = -EINVAL;
		goto out;
	}
	ksec = btf__type_by_id(kbtf, info.btf_value_type_id);
	if (!ksec || !btf_is_datasec(ksec)) {
		err = -EINVAL;
		goto out;
	}
	{
		const struct btf_var_secinfo *v = btf_var_secinfos(osec);

		for (__u16 i = 0; i < btf_vlen(osec); i++, v++) {
			const struct btf_type *t = btf__type_by_id(obtf, v->type);
			const char *name = t ? btf__name_by_offset(obtf, t->name_off) : NULL;
			long at = name ? var_offset(kbtf, ksec, name, v->size) : -1;

			if (at < 0 || v->offset + v->size > dsize ||
			    (size_t)at + v->size > info.value_size) {
				pr_info("other build: .rodata '%s' left at its default\n",
					name ? name : "?");
				continue;
			}
			memcpy(dst + v->offset, src + at, v->size);
		}
	}
	err = bpf_map__set_initial_value(ro, dst, dsize);
out:
	btf__free(kbtf);
	free(dst);
	free(src);
	close(fd);
	return err;
}

struct bpf_object *xlb_other_open(const char *path, const char *prog, int like_fd, int *prog_fd)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *p;
	struct bpf_map_info info;
	struct bpf_map *m;
	int err = obj ? 0 : -errno;

	bpf_object__for_each_map(m, err ? NULL : obj)
	{
		int fd;

		if (err || bpf_map__is_internal(m))
			continue;
		fd = prog_map(like_fd, bpf_map__name(m), &info);
		if (fd < 0)
			continue; /* a map the running build does not have */
		err = bpf_map__reuse_fd(m, fd);
		close(fd);
	}
	err = err ?: copy_rodata(obj, like_fd);
	err = err ?: bpf_object__load(obj);
	p = err ? NULL : bpf_object__find_program_by_name(obj, prog);
	if (!err && !p)
		err = -ENOENT;
	if (err) {
		pr_warn("couldn't load the other build '%s': %s\n", path, strerror(-err));
		bpf_object__close(obj);
		errno = -err;
		return NULL;
	}
	*prog_fd = bpf_program__fd(p);
	return obj;
}

int xlb_prog_size(int prog_fd, struct xlb_prog_size *out)
{
	struct bpf_prog_info pi = {};
	__u32 len = sizeof(pi);

	if (bpf_obj_get_info_by_fd(prog_fd, &pi, &len))
		return -errno;
	out->xlated_insns = pi.xlated_prog_len / 8;
	out->jited_bytes = pi.jited_prog_len;
	out->verified_insns = pi.verified_insns;
	return 0;
}
