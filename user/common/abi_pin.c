// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ABI version of pinned maps (abi_pin.h).
 *
 * Two checks, both before libbpf reuses a pinned map: the version recorded
 * by whoever pinned them (a change that keeps every size but changes a
 * meaning is caught only by this), and the layout the kernel reports for
 * each pinned map (a forgotten version bump is still caught). Pins made
 * before the record existed have no "abi": they count as version 1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "abi_pin.h"
#include "log.h"
#include "xlb_abi.h"

#define ABI_PIN "abi"

/*
 * Maps this build added without an ABI version bump: no earlier program
 * reads them, so pins that lack them are still this version's, and libbpf
 * creates and pins them at load (issue #16: backend_syn_stats).
 */
static int added_map(const char *name)
{
	return !strcmp(name, "backend_syn_stats");
}

/* Pinned maps of obj under pin_dir that differ from obj's layout (type,
 * key and value size, flags; not max_entries, which is the operator's),
 * and how many are pinned; the first difference in what. */
static int compare_layout(const char *pin_dir, struct bpf_object *obj, int *npinned, char *what,
			  size_t len)
{
	struct bpf_map *map;
	char path[512];
	int ndiff = 0;

	*npinned = 0;
	bpf_object__for_each_map(map, obj)
	{
		struct bpf_map_info info = {};
		__u32 ilen = sizeof(info);
		int fd;

		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, bpf_map__name(map));
		fd = bpf_obj_get(path);
		if (fd < 0 && errno == ENOENT && added_map(bpf_map__name(map)))
			continue;
		if (fd < 0) {
			if (!ndiff++)
				snprintf(what, len, "map '%s' is not pinned", bpf_map__name(map));
			continue;
		}
		++*npinned;
		if (bpf_obj_get_info_by_fd(fd, &info, &ilen) || info.type != bpf_map__type(map) ||
		    info.key_size != bpf_map__key_size(map) ||
		    info.value_size != bpf_map__value_size(map) ||
		    info.map_flags != bpf_map__map_flags(map)) {
			if (!ndiff++)
				snprintf(what, len,
					 "map '%s' has type %u, key %u, value %u bytes, flags %#x; "
					 "this xlbd expects %u, %u, %u, %#x",
					 bpf_map__name(map), info.type, info.key_size,
					 info.value_size, info.map_flags, bpf_map__type(map),
					 bpf_map__key_size(map), bpf_map__value_size(map),
					 bpf_map__map_flags(map));
		}
		close(fd);
	}
	return ndiff;
}

/* The record pinned under pin_dir: 0, -ENOENT when there is none. */
static int read_record(const char *pin_dir, struct xlb_abi_info *rec)
{
	char path[512];
	__u32 key = 0;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/" ABI_PIN, pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_map_lookup_elem(fd, &key, rec))
		err = -errno;
	close(fd);
	return err;
}

/* Pin (or replace) the record saying that this version pinned the maps. */
static int write_record(const char *pin_dir)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_RDONLY_PROG);
	struct xlb_abi_info rec = {.magic = XLB_ABI_MAGIC, .version = XLB_ABI_VERSION};
	char path[512];
	__u32 key = 0;
	int fd, err = 0;

	snprintf(rec.pinned_by, sizeof(rec.pinned_by), "xlbd %s", XLB_VERSION);
	snprintf(path, sizeof(path), "%s/" ABI_PIN, pin_dir);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_abi", sizeof(key), sizeof(rec), 1, &o);
	if (fd < 0)
		return -errno;
	if (bpf_map_update_elem(fd, &key, &rec, BPF_ANY))
		err = -errno;
	/* A new one in place of an old one: unpin, then pin (a record of
	 * another version is never replaced: the caller refused first). */
	if (!err && unlink(path) && errno != ENOENT)
		err = -errno;
	if (!err && bpf_obj_pin(fd, path))
		err = -errno;
	close(fd);
	if (err)
		pr_warn("couldn't pin the ABI record '%s': %s\n", path, strerror(-err));
	return err;
}

static int refuse(const char *pin_dir, const struct xlb_abi_info *rec, const char *what)
{
	int other = rec->version != XLB_ABI_VERSION;
	char back[96] = "";

	pr_warn("couldn't adopt the data plane pinned at '%s': %s; this xlbd (%s) reads ABI "
		"version %u only.\n",
		pin_dir, what, XLB_VERSION, XLB_ABI_VERSION);
	pr_warn("nothing was changed: the XDP program attached keeps forwarding with its own "
		"maps, but no xlbd checks health or applies changes until one that reads them "
		"runs.\n");
	if (other)
		snprintf(back, sizeof(back), "start an xlbd of ABI version %u (%s) again; or ",
			 rec->version,
			 rec->pinned_by[0] ? rec->pinned_by : "the one that pinned them");
	pr_warn("to go on: %sreplace the data plane with 'xlbd --detach --pin-dir %s', then start "
		"this xlbd (forwarding stops until it has attached, about a second; README "
		"\"Upgrades\")\n",
		back, pin_dir);
	return -EPROTO;
}

int xlb_abi_check_pins(const char *pin_dir, struct bpf_object *obj)
{
	struct xlb_abi_info rec = {};
	char what[256] = "", why[320];
	int npinned, ndiff, err;

	ndiff = compare_layout(pin_dir, obj, &npinned, what, sizeof(what));
	if (!npinned)
		return write_record(pin_dir); /* a fresh directory */
	err = read_record(pin_dir, &rec);
	if (err == -ENOENT) {
		/* Pinned before records existed, by the layout of version 1. */
		rec = (struct xlb_abi_info){.magic = XLB_ABI_MAGIC, .version = 1};
	} else if (err) {
		pr_warn("couldn't read the ABI record in '%s': %s\n", pin_dir, strerror(-err));
		return err;
	}
	rec.pinned_by[sizeof(rec.pinned_by) - 1] = '\0';
	if (rec.magic != XLB_ABI_MAGIC) {
		snprintf(why, sizeof(why), "its ABI record is not one (magic %#x)", rec.magic);
		return refuse(pin_dir, &rec, why);
	}
	if (rec.version != XLB_ABI_VERSION) {
		snprintf(why, sizeof(why), "its maps have ABI version %u", rec.version);
		return refuse(pin_dir, &rec, why);
	}
	if (ndiff) {
		snprintf(why, sizeof(why), "its maps have another layout than version %u's (%s)",
			 rec.version, what);
		return refuse(pin_dir, &rec, why);
	}
	return err == -ENOENT ? write_record(pin_dir) : 0;
}
