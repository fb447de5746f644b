// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The agent's heartbeat record (beat.h): a one-entry BPF array pinned as
 * <pin_dir>/beat, opened by path at every write and read (a few syscalls a
 * tick; a cached fd would keep beating into a map unpinned meanwhile,
 * which no guard could see). A pinned map of another layout is refused,
 * never misread: reading a larger value would overrun the record.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "beat.h"
#include "log.h"

#define BEAT_PIN "beat"

static int beat_path(const char *pin_dir, char *path, size_t len)
{
	if (snprintf(path, len, "%s/" BEAT_PIN, pin_dir) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/* The pinned map, checked: an fd, -ENOENT when none is pinned, -EPROTO
 * (said why) when it is not a beat map of this layout. */
static int open_beat(const char *path, __u32 file_flags)
{
	LIBBPF_OPTS(bpf_obj_get_opts, o, .file_flags = file_flags);
	struct bpf_map_info info = {};
	__u32 ilen = sizeof(info);
	int fd = bpf_obj_get_opts(path, &o), err;

	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(__u32) ||
	    info.value_size != sizeof(struct xlb_beat) || info.max_entries < 1) {
		pr_warn("couldn't use the beat record '%s': it is a map of type %u, key %u, value "
			"%u bytes; this build reads an array of %zu-byte values. Another version "
			"pinned it: remove it (rm %s; the running agent pins a new one at its next "
			"tick)\n",
			path, info.type, info.key_size, info.value_size, sizeof(struct xlb_beat),
			path);
		close(fd);
		return -EPROTO;
	}
	return fd;
}

static int create_beat(const char *path)
{
	/* No map name: naming one makes libbpf probe the kernel by loading a
	 * program first, for a map that the pin's path names anyway. */
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, sizeof(__u32), sizeof(struct xlb_beat), 1,
				NULL);
	int err;

	if (fd < 0)
		return -errno;
	if (!bpf_obj_pin(fd, path))
		return fd;
	err = -errno;
	close(fd);
	if (err == -EEXIST) /* pinned by another meanwhile: use that one */
		return open_beat(path, 0);
	return err;
}

int xlb_beat_write(const char *pin_dir, const struct xlb_beat *b)
{
	char path[512];
	__u32 key = 0;
	int fd, err = beat_path(pin_dir, path, sizeof(path));

	if (err)
		return err;
	fd = open_beat(path, 0);
	if (fd == -ENOENT)
		fd = create_beat(path);
	if (fd < 0)
		return fd;
	err = bpf_map_update_elem(fd, &key, b, BPF_ANY) ? -errno : 0;
	close(fd);
	return err;
}

int xlb_beat_read(const char *pin_dir, struct xlb_beat *b)
{
	char path[512];
	__u32 key = 0;
	int fd, err = beat_path(pin_dir, path, sizeof(path));

	if (err)
		return err;
	fd = open_beat(path, BPF_F_RDONLY); /* a reader (xlb-guard) needs no more */
	if (fd < 0)
		return fd;
	err = bpf_map_lookup_elem(fd, &key, b) ? -errno : 0;
	close(fd);
	return err;
}
