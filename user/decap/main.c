// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-decap: attach, replace, detach and inspect xlb's backend-side
 * decapsulation program (bpf/decap.bpf.c) on a backend's interface.
 *
 *   xlb-decap attach IFACE --allow PREFIX [--allow PREFIX...] [--local ADDR...]
 *   xlb-decap detach IFACE
 *   xlb-decap status [IFACE] [-j]
 *
 * The program decapsulates only tunnel packets whose outer source is in an
 * --allow prefix (the load balancers' encapsulation prefixes) and whose
 * outer destination is one of IFACE's addresses (read at attach time) or a
 * --local address; it drops and counts the rest.
 *
 * Everything is pinned under PIN_DIR/IFACE (default /sys/fs/bpf/xlb-decap):
 * the XDP link, so the program stays attached after this command exits,
 * and the maps, so `status` reads them later. Attaching again replaces the
 * program and its lists in one step (bpf_link_update: no packet sees no
 * program or half a list) and keeps the counters.
 *
 * Exit status: 0 done, 1 runtime failure, 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "decap.h"
#include "log.h"
#include "xlb_dp.h"
#include "decap.skel.h"

#define DEFAULT_PIN_DIR "/sys/fs/bpf/xlb-decap"
#define MAX_LIST 256
#define BPFFS_MAGIC 0xcafe4a11

struct opts {
	const char *pin_dir;
	const char *iface;
	int generic, json;
	struct xlb_prefix allow[MAX_LIST];
	size_t nallow;
	union xlb_addr local[MAX_LIST];
	size_t nlocal;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xlb-decap attach IFACE --allow PREFIX [--allow PREFIX...] [--local "
		"ADDR...]\n"
		"       xlb-decap detach IFACE\n"
		"       xlb-decap status [IFACE] [-j]\n"
		"\n"
		"Attach xlb's backend-side decapsulation (XDP) to IFACE. It strips the outer\n"
		"header of IPIP, IP6IP6 and IPv4-in-IPv6 packets whose outer source lies in an\n"
		"--allow prefix (the load balancers' encapsulation prefixes) and whose outer\n"
		"destination is an address of IFACE (read now: attach again after changing\n"
		"them) or a --local address; other tunnel packets are dropped and counted,\n"
		"everything else passes untouched. Attaching again replaces the lists in one\n"
		"step and keeps the counters.\n"
		"\n"
		"Options:\n"
		"  -a, --allow PREFIX    accept outer sources in PREFIX (e.g. 172.16.0.0/16,\n"
		"                        fd00:ffff::/112); at least one, repeatable\n"
		"  -l, --local ADDR      accept outer destination ADDR too (repeatable)\n"
		"  -m, --xdp-mode MODE   native (default) or generic\n"
		"  -P, --pin-dir DIR     pins go to DIR/IFACE (default " DEFAULT_PIN_DIR "; one\n"
		"                        DIR per network namespace)\n"
		"  -j, --json            status as JSON\n"
		"  -h, --help            this text\n"
		"  -V, --version         the version\n"
		"\n"
		"Counters (status): ipip, ip6 (decapsulated), pass (not a tunnel packet),\n"
		"invalid (truncated or fragmented outer), foreign_src (outer source not\n"
		"allowed), not_local (outer destination not this host's).\n"
		"\n"
		"Exit status: 0 done, 1 runtime failure, 2 bad usage.\n");
}

static int pin_path(char *buf, size_t len, const struct opts *o, const char *iface,
		    const char *name)
{
	int n = name ? snprintf(buf, len, "%s/%s/%s", o->pin_dir, iface, name)
		     : snprintf(buf, len, "%s/%s", o->pin_dir, iface);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* bpffs at /sys/fs/bpf (a fresh machine may lack it), then DIR/IFACE. */
static int make_pin_dir(const struct opts *o)
{
	struct statfs st;
	char path[256];

	if (!strncmp(o->pin_dir, "/sys/fs/bpf/", 12) &&
	    (statfs("/sys/fs/bpf", &st) || st.f_type != BPFFS_MAGIC) &&
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		return -errno;
	if (mkdir(o->pin_dir, 0700) && errno != EEXIST)
		return -errno;
	if (pin_path(path, sizeof(path), o, o->iface, NULL))
		return -ENAMETOOLONG;
	return mkdir(path, 0700) && errno != EEXIST ? -errno : 0;
}

/* IFACE's addresses (IPv4 and IPv6) appended to o->local. */
static int iface_addrs(struct opts *o)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		union xlb_addr a = {};

		if (!i->ifa_addr || strcmp(i->ifa_name, o->iface) || o->nlocal >= MAX_LIST)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			a.w[2] = htonl(0xffff);
			a.w[3] = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			memcpy(a.b, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		o->local[o->nlocal++] = a;
	}
	freeifaddrs(ifa);
	return 0;
}

/* Replace the pin of map at path (the new program's map). */
static int repin(struct bpf_map *map, const char *path)
{
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return bpf_obj_pin(bpf_map__fd(map), path) ? -errno : 0;
}

static int fill(struct decap *skel, const struct opts *o)
{
	int fd4 = bpf_map__fd(skel->maps.decap_allow4), fd6 = bpf_map__fd(skel->maps.decap_allow6);
	int err = 0;

	for (size_t i = 0; i < o->nallow && !err; i++)
		err = xlb_decap_allow(fd4, fd6, &o->allow[i]);
	for (size_t i = 0; i < o->nlocal && !err; i++)
		err = xlb_decap_local(bpf_map__fd(skel->maps.decap_local), &o->local[i]);
	return err;
}

/* Swap the program of the pinned link, or create and pin a new link. */
static int attach_link(const struct opts *o, int prog_fd, int ifindex, const char *path)
{
	int fd = bpf_obj_get(path), err;

	if (fd >= 0) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(fd, &info, &len) || (int)info.xdp.ifindex != ifindex) {
			fprintf(stderr,
				"xlb-decap: couldn't replace the link pinned at '%s': it is "
				"attached "
				"to interface %u, not '%s'; run 'xlb-decap detach %s' first\n",
				path, info.xdp.ifindex, o->iface, o->iface);
			close(fd);
			return -EEXIST;
		}
		err = bpf_link_update(fd, prog_fd, NULL) ? -errno : 0;
		close(fd);
		if (err)
			fprintf(stderr, "xlb-decap: couldn't replace the program on '%s': %s\n",
				o->iface, strerror(-err));
		return err;
	}
	fd = xlb_xdp_attach(prog_fd, ifindex, o->generic);
	if (fd == -EOPNOTSUPP && !o->generic) {
		fprintf(stderr,
			"xlb-decap: the driver of '%s' has no native XDP: using generic XDP "
			"(slower); say --xdp-mode generic to choose it\n",
			o->iface);
		fd = xlb_xdp_attach(prog_fd, ifindex, 1);
	}
	if (fd < 0) {
		fprintf(stderr, "xlb-decap: couldn't attach to '%s': %s%s\n", o->iface,
			strerror(-fd),
			fd == -EBUSY || fd == -EEXIST
				? "; another XDP program is attached ('ip link set dev IFACE xdp "
				  "off' removes one attached by ip)"
				: "");
		return fd;
	}
	err = bpf_obj_pin(fd, path) ? -errno : 0;
	if (err)
		fprintf(stderr, "xlb-decap: couldn't pin the link at '%s': %s\n", path,
			strerror(-err));
	close(fd); /* the pin holds the link; without it the program goes */
	return err;
}

static int do_attach(struct opts *o)
{
	char path[256], buf[64];
	struct decap *skel = NULL;
	int ifindex, err, fd;

	if (!o->nallow) {
		fprintf(stderr, "xlb-decap: attach needs at least one --allow PREFIX: the load "
				"balancers' encapsulation prefix, e.g. --allow 172.16.0.0/16\n");
		return -EINVAL;
	}
	ifindex = (int)if_nametoindex(o->iface);
	if (!ifindex) {
		fprintf(stderr,
			"xlb-decap: couldn't find interface '%s': %s; 'ip link' lists them\n",
			o->iface, strerror(errno));
		return -ENODEV;
	}
	err = iface_addrs(o);
	if (err) {
		fprintf(stderr, "xlb-decap: couldn't read the addresses of '%s': %s\n", o->iface,
			strerror(-err));
		return err;
	}
	err = make_pin_dir(o);
	if (err) {
		fprintf(stderr, "xlb-decap: couldn't create the pin directory under '%s': %s\n",
			o->pin_dir, strerror(-err));
		return err;
	}
	skel = decap__open();
	if (!skel) {
		err = -errno;
		fprintf(stderr, "xlb-decap: couldn't open the decap program: %s\n", strerror(-err));
		return err;
	}
	/* Keep the counters of an earlier attach. */
	pin_path(path, sizeof(path), o, o->iface, "decap_stats");
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		err = bpf_map__reuse_fd(skel->maps.decap_stats, fd);
		close(fd);
		if (err)
			goto out;
	}
	err = decap__load(skel);
	if (err) {
		fprintf(stderr, "xlb-decap: couldn't load the decap program: %s\n", strerror(-err));
		goto out;
	}
	err = fill(skel, o);
	if (err) {
		fprintf(stderr, "xlb-decap: couldn't fill the allow-lists: %s\n", strerror(-err));
		goto out;
	}
	if (fd < 0) {
		err = repin(skel->maps.decap_stats, path);
		if (err)
			goto out;
	}
	pin_path(path, sizeof(path), o, o->iface, "link");
	err = attach_link(o, bpf_program__fd(skel->progs.xlb_decap), ifindex, path);
	if (err)
		goto out;
	/* The program runs with the new lists: pin those for status. */
	pin_path(path, sizeof(path), o, o->iface, "decap_allow4");
	err = repin(skel->maps.decap_allow4, path);
	pin_path(path, sizeof(path), o, o->iface, "decap_allow6");
	err = err ?: repin(skel->maps.decap_allow6, path);
	pin_path(path, sizeof(path), o, o->iface, "decap_local");
	err = err ?: repin(skel->maps.decap_local, path);
	if (err) {
		fprintf(stderr, "xlb-decap: attached, but couldn't pin the lists for status: %s\n",
			strerror(-err));
		goto out;
	}
	printf("xlb-decap: attached to %s: allow", o->iface);
	for (size_t i = 0; i < o->nallow; i++)
		printf(" %s", xlb_prefix_str(&o->allow[i], buf, sizeof(buf)));
	printf("; local");
	for (size_t i = 0; i < o->nlocal; i++)
		printf(" %s", xlb_addr_str(&o->local[i], buf, sizeof(buf)));
	printf("\n");
out:
	if (err && err != -EINVAL && err != -EEXIST && err != -ENODEV)
		fprintf(stderr, "xlb-decap: attach to '%s' failed: %s\n", o->iface, strerror(-err));
	decap__destroy(skel);
	return err;
}

static int do_detach(const struct opts *o)
{
	char path[256];
	struct stat st;
	int err;

	if (pin_path(path, sizeof(path), o, o->iface, NULL))
		return -ENAMETOOLONG;
	if (stat(path, &st)) {
		fprintf(stderr, "xlb-decap: nothing attached to '%s' (no pins at '%s')\n", o->iface,
			path);
		return -ENOENT;
	}
	err = xlb_dp_unpin(path);
	if (err)
		fprintf(stderr, "xlb-decap: couldn't remove '%s': %s\n", path, strerror(-err));
	else
		printf("xlb-decap: detached from %s\n", o->iface);
	return err;
}

/* One interface's state as JSON: attached, allow, local, counters. */
static json_object *iface_status(const struct opts *o, const char *iface)
{
	json_object *j = json_object_new_object(), *arr, *cnt;
	struct xlb_prefix pfx[MAX_LIST];
	union xlb_addr loc[MAX_LIST];
	int fd4, fd6, fdl, fds, fdk, n;
	char path[256], buf[64];
	int ncpus = libbpf_num_possible_cpus();

	json_object_object_add(j, "interface", json_object_new_string(iface));
	pin_path(path, sizeof(path), o, iface, "link");
	fdk = bpf_obj_get(path);
	if (fdk >= 0) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);
		char name[IF_NAMESIZE] = "";

		if (!bpf_obj_get_info_by_fd(fdk, &info, &len) && info.xdp.ifindex)
			if_indextoname(info.xdp.ifindex, name);
		json_object_object_add(j, "attached", json_object_new_boolean(name[0] != 0));
		close(fdk);
	} else {
		json_object_object_add(j, "attached", json_object_new_boolean(0));
	}
	pin_path(path, sizeof(path), o, iface, "decap_allow4");
	fd4 = bpf_obj_get(path);
	pin_path(path, sizeof(path), o, iface, "decap_allow6");
	fd6 = bpf_obj_get(path);
	pin_path(path, sizeof(path), o, iface, "decap_local");
	fdl = bpf_obj_get(path);
	pin_path(path, sizeof(path), o, iface, "decap_stats");
	fds = bpf_obj_get(path);
	arr = json_object_new_array();
	n = fd4 >= 0 && fd6 >= 0 ? xlb_decap_allowed(fd4, fd6, pfx, MAX_LIST) : 0;
	for (int i = 0; i < n; i++)
		json_object_array_add(
			arr, json_object_new_string(xlb_prefix_str(&pfx[i], buf, sizeof(buf))));
	json_object_object_add(j, "allow", arr);
	arr = json_object_new_array();
	n = fdl >= 0 ? xlb_decap_locals(fdl, loc, MAX_LIST) : 0;
	for (int i = 0; i < n; i++)
		json_object_array_add(
			arr, json_object_new_string(xlb_addr_str(&loc[i], buf, sizeof(buf))));
	json_object_object_add(j, "local", arr);
	cnt = json_object_new_object();
	for (__u32 id = 0; id < XLB_DECAP_COUNTERS && fds >= 0 && ncpus > 0; id++) {
		__u64 *v = calloc((size_t)ncpus, sizeof(*v)), sum = 0;

		if (v && !bpf_map_lookup_elem(fds, &id, v))
			for (int c = 0; c < ncpus; c++)
				sum += v[c];
		free(v);
		json_object_object_add(cnt, xlb_decap_counter_name(id),
				       json_object_new_int64((int64_t)sum));
	}
	json_object_object_add(j, "counters", cnt);
	for (int *fd = (int[]){fd4, fd6, fdl, fds}, i = 0; i < 4; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	return j;
}

static void print_status(json_object *j)
{
	json_object *arr;

	printf("%s: %s\n", json_object_get_string(json_object_object_get(j, "interface")),
	       json_object_get_boolean(json_object_object_get(j, "attached")) ? "attached"
									      : "NOT attached");
	arr = json_object_object_get(j, "allow");
	printf("  allow ");
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		printf(" %s", json_object_get_string(json_object_array_get_idx(arr, i)));
	arr = json_object_object_get(j, "local");
	printf("\n  local ");
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		printf(" %s", json_object_get_string(json_object_array_get_idx(arr, i)));
	printf("\n");
	for (__u32 id = 0; id < XLB_DECAP_COUNTERS; id++)
		printf("  %-12s %llu\n", xlb_decap_counter_name(id),
		       (unsigned long long)json_object_get_int64(json_object_object_get(
			       json_object_object_get(j, "counters"), xlb_decap_counter_name(id))));
}

static int do_status(const struct opts *o)
{
	json_object *all = json_object_new_array();
	char path[256];
	struct stat st;
	int err = 0;

	if (o->iface) {
		if (pin_path(path, sizeof(path), o, o->iface, NULL) || stat(path, &st)) {
			fprintf(stderr, "xlb-decap: nothing attached to '%s' (no pins at '%s')\n",
				o->iface, path);
			err = -ENOENT;
		} else {
			json_object_array_add(all, iface_status(o, o->iface));
		}
	} else {
		DIR *d = opendir(o->pin_dir);
		struct dirent *de;

		while (d && (de = readdir(d)))
			if (de->d_name[0] != '.')
				json_object_array_add(all, iface_status(o, de->d_name));
		if (d)
			closedir(d);
	}
	if (!err && o->json)
		printf("%s\n",
		       json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
	else if (!err && !json_object_array_length(all))
		printf("xlb-decap: attached nowhere (no pins in '%s')\n", o->pin_dir);
	for (size_t i = 0; !err && !o->json && i < json_object_array_length(all); i++)
		print_status(json_object_array_get_idx(all, i));
	json_object_put(all);
	return err;
}

/* Commands, by unique prefix. */
static const struct {
	const char *name;
	int need_iface; /* 1: required, 0: optional */
} commands[] = {{"attach", 1}, {"detach", 1}, {"status", 0}};

static int find_command(const char *word)
{
	int found = -1;

	for (int i = 0; i < 3; i++) {
		if (strncmp(commands[i].name, word, strlen(word)))
			continue;
		if (found >= 0) {
			fprintf(stderr, "xlb-decap: '%s' is ambiguous: %s or %s?\n", word,
				commands[found].name, commands[i].name);
			return -2;
		}
		found = i;
	}
	if (found < 0)
		fprintf(stderr, "xlb-decap: unknown command '%s'; use attach, detach or status\n",
			word);
	return found;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"allow", required_argument, NULL, 'a'},
		{"local", required_argument, NULL, 'l'},
		{"xdp-mode", required_argument, NULL, 'm'},
		{"pin-dir", required_argument, NULL, 'P'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{},
	};
	static struct opts o = {.pin_dir = DEFAULT_PIN_DIR};
	char why[128];
	int c, cmd, err;

	while ((c = getopt_long(argc, argv, "a:l:m:P:jhV", lopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (o.nallow >= MAX_LIST ||
			    xlb_prefix_parse(optarg, &o.allow[o.nallow], why, sizeof(why))) {
				fprintf(stderr, "xlb-decap: --allow '%s': %s\n", optarg,
					o.nallow >= MAX_LIST ? "too many prefixes" : why);
				return 2;
			}
			o.nallow++;
			break;
		case 'l':
			if (o.nlocal >= MAX_LIST / 2 ||
			    xlb_addr_parse(optarg, &o.local[o.nlocal]) < 0) {
				fprintf(stderr,
					"xlb-decap: --local '%s': not an IPv4 or IPv6 address "
					"(or too many)\n",
					optarg);
				return 2;
			}
			o.nlocal++;
			break;
		case 'm':
			if (strcmp(optarg, "native") && strcmp(optarg, "generic")) {
				fprintf(stderr,
					"xlb-decap: --xdp-mode '%s': use native or generic\n",
					optarg);
				return 2;
			}
			o.generic = !strcmp(optarg, "generic");
			break;
		case 'P':
			o.pin_dir = optarg;
			break;
		case 'j':
			o.json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("xlb-decap " XLB_VERSION "\n");
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = find_command(argv[optind]);
	if (cmd < 0)
		return 2;
	o.iface = optind + 1 < argc ? argv[optind + 1] : NULL;
	if ((commands[cmd].need_iface && !o.iface) || optind + 2 < argc ||
	    (o.iface && (strlen(o.iface) >= IF_NAMESIZE || strchr(o.iface, '/')))) {
		fprintf(stderr, "xlb-decap: %s needs %sone interface name; see --help\n",
			commands[cmd].name, commands[cmd].need_iface ? "" : "at most ");
		return 2;
	}
	if (cmd != 0 && (o.nallow || o.nlocal)) {
		fprintf(stderr, "xlb-decap: --allow and --local belong to attach\n");
		return 2;
	}
	xlb_log_libbpf();
	err = cmd == 0 ? do_attach(&o) : cmd == 1 ? do_detach(&o) : do_status(&o);
	if (err == -EINVAL)
		return 2;
	return err ? 1 : 0;
}
