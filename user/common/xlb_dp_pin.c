// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Pins in bpffs: where they go, reusing an earlier instance's (same ABI,
 * same hash seed), removing them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "abi_pin.h"
#include "log.h"
#include "xlb_dp.h"
#include "xlb_dp_int.h"
#include "xlb.skel.h"

#define XLB_BPFFS "/sys/fs/bpf"
#define XLB_BPFFS_MAGIC 0xcafe4a11

/* mkdir -p with mode 0700 for what it creates. */
static int mkdir_p(const char *dir)
{
	char path[256];

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(path, 0700) && errno != EEXIST ? -errno : 0;
}

/* A fresh machine may have no bpffs mounted: mount it where pins go. */
static int ensure_bpffs(const char *pin_dir)
{
	struct statfs st;

	if (strncmp(pin_dir, XLB_BPFFS "/", sizeof(XLB_BPFFS)))
		return 0; /* elsewhere: the caller's bpffs */
	if (!statfs(XLB_BPFFS, &st) && st.f_type == XLB_BPFFS_MAGIC)
		return 0;
	if (mkdir_p(XLB_BPFFS) || mount("bpf", XLB_BPFFS, "bpf", 0, "mode=0700")) {
		int err = -errno;

		pr_warn("couldn't mount bpffs at '%s': %s\n", XLB_BPFFS, strerror(-err));
		return err;
	}
	return 0;
}

/*
 * Pin every map under pin_dir; reuse what an earlier instance pinned there.
 * The flow table keeps the size it was created with: a pinned one of
 * another size than *flow_buckets is refused (-ESTALE).
 */
int xlb_dp_setup_pins(struct xlb_dp *dp, __u32 *flow_buckets)
{
	struct bpf_map *map;
	char path[256];
	int err = ensure_bpffs(dp->pin_dir) ?: mkdir_p(dp->pin_dir);

	if (err) {
		pr_warn("couldn't create pin directory '%s': %s\n", dp->pin_dir, strerror(-err));
		return err;
	}
	/* Pins of another ABI version are refused, never misread. */
	err = xlb_abi_check_pins(dp->pin_dir, dp->skel->obj);
	if (err)
		return err;
	bpf_object__for_each_map(map, dp->skel->obj)
	{
		if (bpf_map__is_internal(map))
			continue; /* .rodata belongs to one program version */
		snprintf(path, sizeof(path), "%s/%s", dp->pin_dir, bpf_map__name(map));
		err = bpf_map__set_pin_path(map, path);
		if (err)
			return err;
	}
	snprintf(path, sizeof(path), "%s/flows", dp->pin_dir);
	int fd = bpf_obj_get(path);

	if (fd >= 0) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		dp->adopted = 1;
		/* A flow's bucket depends on the table's size: another size
		 * cannot reuse this table, and a new one would drop every flow. */
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.max_entries != *flow_buckets) {
			pr_warn("couldn't adopt the flow table pinned at '%s': it holds %u flows, "
				"flow_table_size asks for %u. To resize: stop xlbd, run 'xlbd "
				"--detach --pin-dir %s' (forwarding stops until xlbd runs again), "
				"start xlbd. Or set flow_table_size: %u\n",
				path, info.max_entries * XLB_FLOW_WAYS,
				*flow_buckets * XLB_FLOW_WAYS, dp->pin_dir,
				info.max_entries * XLB_FLOW_WAYS);
			close(fd);
			return -ESTALE;
		}
		close(fd);
	}
	return 0;
}

/* The value of the variable `name` in a program's .rodata map, via its BTF. */
static int rodata_var(int prog_fd, const char *name, void *out, __u32 size)
{
	__u32 ids[64], nids = 64, len;
	struct bpf_prog_info pinfo = {.nr_map_ids = nids, .map_ids = (__u64)(unsigned long)ids};
	int err = -ENODATA;

	len = sizeof(pinfo);
	if (bpf_obj_get_info_by_fd(prog_fd, &pinfo, &len))
		return -errno;
	nids = pinfo.nr_map_ids < 64 ? pinfo.nr_map_ids : 64;
	for (__u32 i = 0; i < nids && err == -ENODATA; i++) {
		struct bpf_map_info m = {};
		int fd = bpf_map_get_fd_by_id(ids[i]);
		struct btf *btf = NULL;
		const struct btf_type *t;

		len = sizeof(m);
		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &m, &len) || !strstr(m.name, ".rodata") ||
		    !m.btf_id || !(btf = btf__load_from_kernel_by_id(m.btf_id)))
			goto next;
		t = btf__type_by_id(btf, m.btf_value_type_id);
		if (!t || !btf_is_datasec(t))
			goto next;
		for (__u16 v = 0; v < btf_vlen(t); v++) {
			const struct btf_var_secinfo *vs = btf_var_secinfos(t) + v;
			const struct btf_type *var = btf__type_by_id(btf, vs->type);
			char *val;

			if (!var || strcmp(btf__name_by_offset(btf, var->name_off), name))
				continue;
			if (vs->size != size || vs->offset + size > m.value_size)
				break;
			val = calloc(1, m.value_size);
			if (!val) {
				err = -ENOMEM;
				break;
			}
			__u32 zero = 0;

			err = bpf_map_lookup_elem(fd, &zero, val) ? -errno : 0;
			if (!err)
				memcpy(out, val + vs->offset, size);
			free(val);
			break;
		}
	next:
		btf__free(btf);
		close(fd);
	}
	return err;
}

/* The program attached through the link pinned in pin_dir: an fd, or
 * -ENOENT (no link pinned), -errno. */
static int pinned_prog(const char *pin_dir)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char path[256];
	int fd, err, prog_fd;

	snprintf(path, sizeof(path), "%s/link", pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -ENOENT;
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	close(fd);
	if (err)
		return err;
	prog_fd = bpf_prog_get_fd_by_id(info.prog_id);
	return prog_fd < 0 ? -errno : prog_fd;
}

int xlb_dp_pinned_seed(const char *pin_dir, struct xlb_hash_seed *out)
{
	int prog_fd = pinned_prog(pin_dir), err;

	if (prog_fd < 0)
		return prog_fd;
	err = rodata_var(prog_fd, "hash_seed", out, sizeof(*out));
	close(prog_fd);
	return err;
}

static int features_of(int prog_fd, __u32 *out)
{
	int err = rodata_var(prog_fd, XLB_FEATURES_VAR, out, sizeof(*out));

	if (err == -ENODATA) { /* a program from before the feature bits */
		*out = 0;
		return 0;
	}
	return err;
}

int xlb_dp_pinned_features(const char *pin_dir, __u32 *out)
{
	int prog_fd = pinned_prog(pin_dir), err;

	if (prog_fd < 0)
		return prog_fd;
	err = features_of(prog_fd, out);
	close(prog_fd);
	return err;
}

int xlb_dp_features(const struct xlb_dp *dp, __u32 *out)
{
	return features_of(xlb_dp_prog_fd(dp), out);
}

/*
 * Refuse to adopt pinned maps that a program with another seed fills: the
 * flow table's buckets derive from the hash, so every flow would move.
 */
int xlb_dp_same_seed(const char *pin_dir, const struct xlb_hash_seed *want)
{
	struct xlb_hash_seed have;
	int err = xlb_dp_pinned_seed(pin_dir, &have);

	if (err == -ENOENT)
		return 0; /* nothing attached: nothing forwards by the old seed */
	if (!err && !memcmp(&have, want, sizeof(have)))
		return 0;
	if (err && err != -ENODATA) {
		pr_warn("couldn't read the hash seed of the program pinned at '%s': %s\n", pin_dir,
			strerror(-err));
		return err;
	}
	pr_warn("couldn't adopt the data plane pinned at '%s': it hashes with %s; a new seed "
		"moves every established flow to another backend, and this host then disagrees "
		"with the hosts still on the old seed. To apply it on purpose: stop xlbd, run "
		"'xlbd --detach --pin-dir %s' (forwarding stops), start xlbd again, and do the "
		"same on every host of the fleet. Otherwise restore the previous hash_seed.\n",
		pin_dir, err ? "no seed (a release before the keyed hash)" : "another hash seed",
		pin_dir);
	return -ESTALE;
}

int xlb_dp_unpin(const char *pin_dir)
{
	struct dirent *de;
	char path[512];
	DIR *d = opendir(pin_dir);
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	/* The link first: unpinning it detaches the program (once no process
	 * holds it open); then the maps. */
	snprintf(path, sizeof(path), "%s/link", pin_dir);
	if (unlink(path) && errno != ENOENT)
		err = -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, de->d_name);
		if (unlink(path) && !err)
			err = -errno;
	}
	closedir(d);
	if (rmdir(pin_dir) && !err)
		err = -errno;
	return err;
}
