// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "abi_pin.h"
#include "log.h"
#include "xlb_dp.h"
#include "xlb_hash.h"
#include "xlb.skel.h"

struct xlb_dp {
	struct xlb *skel;
	int ncpus;
	__u32 flow_buckets;
	char pin_dir[200];     /* empty: nothing pinned */
	int adopted;	       /* the maps were found pinned and reused */
	int link_fd;	       /* XDP link, -1 before xlb_dp_attach() */
	unsigned long writes;  /* map writes counted by write_ok() */
	unsigned long fail_at; /* test-only: this write fails (0: none) */
	struct xlb_hash_seed seed;
	int ifindex; /* the interface whose MAC and MTU the "nic" map holds */
	__u32 mtu;   /* configured ipip MTU, 0: the NIC's */
};

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
 * The flow table keeps the size it was created with (resizing it would
 * drop every flow): *flow_buckets is set from the pinned map if there is one.
 */
static int setup_pins(struct xlb_dp *dp, __u32 *flow_buckets)
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
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.max_entries != *flow_buckets) {
			pr_warn("keeping the pinned flow table of %u flows (asked for %u); detach "
				"first to resize it\n",
				info.max_entries * XLB_FLOW_WAYS, *flow_buckets * XLB_FLOW_WAYS);
			*flow_buckets = info.max_entries;
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

int xlb_dp_pinned_seed(const char *pin_dir, struct xlb_hash_seed *out)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char path[256];
	int fd, prog_fd, err;

	snprintf(path, sizeof(path), "%s/link", pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -ENOENT;
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	close(fd);
	if (err)
		return err;
	prog_fd = bpf_prog_get_fd_by_id(info.prog_id);
	if (prog_fd < 0)
		return -errno;
	err = rodata_var(prog_fd, "hash_seed", out, sizeof(*out));
	close(prog_fd);
	return err;
}

/*
 * Refuse to adopt pinned maps that a program with another seed fills: the
 * flow table's buckets derive from the hash, so every flow would move.
 */
static int same_seed(const char *pin_dir, const struct xlb_hash_seed *want)
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

/* CONFIG_HZ from a kernel config file (gzip or plain), 0 if absent. */
static unsigned int hz_from_config(const char *path)
{
	gzFile f = gzopen(path, "r");
	unsigned int hz = 0;
	char line[256];

	if (!f)
		return 0;
	while (gzgets(f, line, sizeof(line)))
		if (sscanf(line, "CONFIG_HZ=%u", &hz) == 1)
			break;
	gzclose(f);
	return hz;
}

/* Jiffies from /proc/timer_list, 0 if unreadable. */
static unsigned long long timer_list_jiffies(void)
{
	FILE *f = fopen("/proc/timer_list", "r");
	unsigned long long j = 0;
	char line[256];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "jiffies: %llu", &j) == 1)
			break;
	fclose(f);
	return j;
}

unsigned int xlb_kernel_hz(void)
{
	static unsigned int hz;
	static const unsigned int known[] = {100, 250, 300, 1000};
	struct timespec d = {0, 200 * 1000 * 1000};
	unsigned long long j0, j1;
	char path[300];
	struct utsname u;

	if (hz)
		return hz;
	hz = hz_from_config("/proc/config.gz");
	if (!hz && !uname(&u)) {
		snprintf(path, sizeof(path), "/boot/config-%s", u.release);
		hz = hz_from_config(path);
	}
	if (hz)
		return hz;
	/* Measure: jiffies advanced over 200 ms, rounded to a known HZ. */
	j0 = timer_list_jiffies();
	nanosleep(&d, NULL);
	j1 = timer_list_jiffies();
	hz = 250;
	if (j0 && j1 > j0) {
		unsigned int best = 0;

		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (!best || llabs((long long)(j1 - j0) * 5 - known[i]) <
					     llabs((long long)(j1 - j0) * 5 - best))
				best = known[i];
		hz = best;
	} else {
		pr_warn("couldn't determine the kernel's HZ: assuming 250\n");
	}
	return hz;
}

int xlb_dp_open(const struct xlb_dp_opts *opts, struct xlb_dp **out)
{
	struct xlb_dp_opts o = opts ? *opts : (struct xlb_dp_opts){};
	unsigned int hz, flows;
	struct xlb_dp *dp;
	int err;

	if (o.encap_vary_bits > 16 || (o.pin_dir && strlen(o.pin_dir) >= 200))
		return -EINVAL;
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	dp->link_fd = -1;
	if (o.pin_dir)
		snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s", o.pin_dir);
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus < 0) {
		err = dp->ncpus;
		goto cleanup;
	}
	dp->skel = xlb__open();
	if (!dp->skel) {
		err = -errno;
		pr_warn("couldn't open BPF object 'xlb': %s\n", strerror(-err));
		goto cleanup;
	}
	hz = xlb_kernel_hz();
	flows = o.flow_entries ? o.flow_entries : XLB_DEFAULT_FLOW_ENTRIES;
	dp->flow_buckets = (flows + XLB_FLOW_WAYS - 1) / XLB_FLOW_WAYS;
	if (dp->pin_dir[0]) {
		err = setup_pins(dp, &dp->flow_buckets) ?: same_seed(dp->pin_dir, &o.hash_seed);
		if (err)
			goto cleanup;
	}
	dp->skel->rodata->flow_buckets = dp->flow_buckets;
	dp->skel->rodata->udp_idle_jiffies =
		(__u32)(((__u64)(o.udp_idle_ms ? o.udp_idle_ms : XLB_DEFAULT_UDP_IDLE_MS) * hz +
			 999) /
			1000);
	dp->skel->rodata->atime_gran_jiffies = XLB_ATIME_GRANULARITY_MS * hz / 1000;
	dp->skel->rodata->encap_src4 = o.encap_src4;
	memcpy((void *)&dp->skel->rodata->encap_src6, &o.encap_src6, sizeof(o.encap_src6));
	dp->skel->rodata->encap_vary_mask = (1u << o.encap_vary_bits) - 1;
	memcpy((void *)&dp->skel->rodata->hash_seed, &o.hash_seed, sizeof(o.hash_seed));
	dp->seed = o.hash_seed;
	dp->skel->rodata->reject_cpus = xlb_dp_reject_cpus();
	err = bpf_map__set_max_entries(dp->skel->maps.flows, dp->flow_buckets);
	if (err)
		goto cleanup;
	err = xlb__load(dp->skel);
	if (err) {
		pr_warn("couldn't load BPF program 'xlb': %s%s\n", strerror(-err),
			dp->adopted ? " (maps pinned by an incompatible version? detach first)"
				    : "");
		goto cleanup;
	}
	*out = dp;
	return 0;
cleanup:
	xlb_dp_close(dp);
	return err;
}

void xlb_dp_close(struct xlb_dp *dp)
{
	if (!dp)
		return;
	if (dp->link_fd >= 0)
		close(dp->link_fd); /* a pinned link stays attached */
	xlb__destroy(dp->skel);
	free(dp);
}

int xlb_dp_prog_fd(const struct xlb_dp *dp)
{
	return bpf_program__fd(dp->skel->progs.xlb_xdp);
}

static int neg_errno(int ret);

unsigned int xlb_dp_reject_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned int)n : 1;
}

int xlb_dp_nic_set(struct xlb_dp *dp, const __u8 mac[6], __u32 mtu)
{
	struct xlb_nic v = {.mtu = mtu};
	__u32 zero = 0;

	if ((mac[0] & 1) || (mtu && mtu < XLB_MIN_MTU))
		return -EINVAL;
	memcpy(v.mac, mac, 6);
	return neg_errno(bpf_map_update_elem(bpf_map__fd(dp->skel->maps.nic), &zero, &v, BPF_ANY));
}

int xlb_dp_nic_get(struct xlb_dp *dp, struct xlb_nic *nic)
{
	__u32 zero = 0;

	return neg_errno(bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.nic), &zero, nic));
}

/* MAC and MTU of an interface of this network namespace. */
static int link_read(int ifindex, __u8 mac[6], __u32 *mtu)
{
	struct ifreq ifr = {};
	int fd, err = 0;

	if (!if_indextoname((unsigned int)ifindex, ifr.ifr_name))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (!err && ioctl(fd, SIOCGIFMTU, &ifr))
		err = -errno;
	else if (!err)
		*mtu = (__u32)ifr.ifr_mtu;
	close(fd);
	return err;
}

/* The "nic" entry for ifindex: its MAC, the configured MTU or its own. */
static int nic_from_link(struct xlb_dp *dp, int ifindex)
{
	struct xlb_nic old = {};
	__u32 mtu = 0;
	__u8 mac[6];
	int err = link_read(ifindex, mac, &mtu);

	if (err) {
		pr_warn("couldn't read the MAC address of interface %d: %s\n", ifindex,
			strerror(-err));
		return err;
	}
	if (dp->mtu)
		mtu = dp->mtu;
	else if (mtu < XLB_MIN_MTU)
		mtu = 0; /* below IPv6's minimum: no ipip MTU check (README) */
	xlb_dp_nic_get(dp, &old);
	if (!memcmp(old.mac, mac, 6) && old.mtu == mtu)
		return 0;
	err = xlb_dp_nic_set(dp, mac, mtu);
	if (err) {
		pr_warn("couldn't set the NIC's MAC address %02x:%02x:%02x:%02x:%02x:%02x in the "
			"data plane: %s\n",
			mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], strerror(-err));
		return err;
	}
	pr_info("data plane: interface %d has MAC %02x:%02x:%02x:%02x:%02x:%02x, ipip MTU %u%s\n",
		ifindex, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], mtu,
		dp->mtu ? " (configured)"
		: mtu	? ""
			: " (no check)");
	return 1;
}

int xlb_dp_nic_refresh(struct xlb_dp *dp)
{
	return dp->ifindex ? nic_from_link(dp, dp->ifindex) : 0;
}

int xlb_dp_mtu_set(struct xlb_dp *dp, __u32 mtu)
{
	if (mtu && (mtu < XLB_MIN_MTU || mtu > XLB_MAX_MTU))
		return -EINVAL;
	dp->mtu = mtu;
	return xlb_dp_nic_refresh(dp) < 0 ? -EIO : 0;
}

int xlb_xdp_attach(int prog_fd, int ifindex, int generic)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo,
		    .flags = generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
	int fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo);

	return fd < 0 ? -errno : fd;
}

int xlb_dp_adopted(const struct xlb_dp *dp)
{
	return dp->adopted;
}

int xlb_dp_attach(struct xlb_dp *dp, int ifindex, int generic)
{
	int prog_fd = xlb_dp_prog_fd(dp), fd, err;
	char path[256];

	if (dp->link_fd >= 0)
		return -EALREADY;
	snprintf(path, sizeof(path), "%s/link", dp->pin_dir);
	fd = dp->pin_dir[0] ? bpf_obj_get(path) : -1;
	if (fd >= 0) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);

		/* Adopt: swap the running program for ours, no gap in forwarding. */
		if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != BPF_LINK_TYPE_XDP ||
		    (int)info.xdp.ifindex != ifindex) {
			pr_warn("couldn't adopt the XDP link pinned at '%s': it is attached to "
				"interface %u, not %d; detach first\n",
				path, info.xdp.ifindex, ifindex);
			close(fd);
			return -EEXIST;
		}
		err = nic_from_link(dp, ifindex);
		if (err < 0) {
			close(fd);
			return err;
		}
		dp->ifindex = ifindex;
		if (bpf_link_update(fd, prog_fd, NULL)) {
			err = -errno;

			pr_warn("couldn't update the XDP link pinned at '%s': %s\n", path,
				strerror(-err));
			close(fd);
			return err;
		}
		dp->link_fd = fd;
		return 0;
	}
	/* The program's NIC before it sees a frame. */
	err = nic_from_link(dp, ifindex);
	if (err < 0)
		return err;
	dp->ifindex = ifindex;
	fd = xlb_xdp_attach(prog_fd, ifindex, generic);
	if (fd < 0)
		return fd;
	if (dp->pin_dir[0] && bpf_obj_pin(fd, path)) {
		err = -errno;

		pr_warn("couldn't pin the XDP link at '%s': %s\n", path, strerror(-err));
		close(fd);
		return err;
	}
	dp->link_fd = fd;
	return 0;
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

int xlb_dp_flows_fd(const struct xlb_dp *dp)
{
	return bpf_map__fd(dp->skel->maps.flows);
}

static int neg_errno(int ret)
{
	return ret < 0 ? -errno : 0;
}

/*
 * Every map write that can fail for want of memory (an update, a new inner
 * table) asks here first, so tests can make the Nth one fail. Deletes and
 * the writes that undo a failed step do not ask: they allocate nothing.
 */
static int write_ok(struct xlb_dp *dp)
{
	if (++dp->writes == dp->fail_at) {
		dp->fail_at = 0;
		errno = ENOMEM;
		return -ENOMEM;
	}
	return 0;
}

void xlb_dp_fail_write(struct xlb_dp *dp, unsigned long nth)
{
	dp->fail_at = nth ? dp->writes + nth : 0;
}

unsigned long xlb_dp_writes(const struct xlb_dp *dp)
{
	return dp->writes;
}

/* A new inner table map holding `table` (NULL: every slot "no backend"). */
static int table_fd(struct xlb_dp *dp, const __u32 *table, __u32 size)
{
	LIBBPF_OPTS(bpf_map_create_opts, mopts, .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	size_t bytes = (size_t)XLB_TABLE_VALUES(size) * sizeof(struct xlb_table_slots);
	size_t mapped = (bytes + getpagesize() - 1) & ~((size_t)getpagesize() - 1);
	int fd, err;
	void *mem;

	if (!size || size > XLB_MAX_TABLE_SIZE)
		return -EINVAL;
	for (__u32 i = 0; table && i < size; i++)
		if (table[i] >= XLB_MAX_BACKENDS)
			return -EINVAL;
	if (write_ok(dp))
		return -ENOMEM;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_table", sizeof(__u32),
			    sizeof(struct xlb_table_slots), XLB_TABLE_VALUES(size), &mopts);
	if (fd < 0)
		return -errno;
	mem = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		err = -errno;
		close(fd);
		return err;
	}
	/* Slots back to back: the mapping is a plain __u16 array. A fresh
	 * array is zero-filled: NULL table = every slot "no backend". */
	for (__u32 i = 0; table && i < size; i++)
		((__u16 *)mem)[i] = (__u16)table[i];
	munmap(mem, mapped);
	return fd;
}

int xlb_dp_table_swap(struct xlb_dp *dp, __u32 vip_id, const __u32 *table, __u32 size)
{
	int fd, err;

	if (vip_id >= XLB_MAX_VIPS)
		return -EINVAL;
	fd = table_fd(dp, table, size);
	if (fd < 0)
		return fd;
	err = write_ok(dp)
		      ?: neg_errno(bpf_map_update_elem(bpf_map__fd(dp->skel->maps.maglev_tables),
						       &vip_id, &fd, BPF_ANY));
	close(fd);
	return err;
}

int xlb_dp_tables_swap(struct xlb_dp *dp, size_t n, const __u32 *vip_ids,
		       const __u32 *const *tables, const __u32 *sizes)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bopts, .elem_flags = BPF_ANY);
	int *fds = calloc(n ? n : 1, sizeof(*fds)), err = 0;
	__u32 count = (__u32)n;
	size_t made = 0;

	if (!fds)
		return -ENOMEM;
	for (; made < n; made++) {
		if (vip_ids[made] >= XLB_MAX_VIPS) {
			err = -EINVAL;
			break;
		}
		fds[made] = table_fd(dp, tables[made], sizes[made]);
		if (fds[made] < 0) {
			err = fds[made];
			break;
		}
	}
	/* One update for all: the kernel waits for running programs (an RCU
	 * grace period, 8-16 ms here) once per call, not once per table. */
	if (!err && n)
		err = write_ok(dp)
			      ?: neg_errno(bpf_map_update_batch(
					 bpf_map__fd(dp->skel->maps.maglev_tables), vip_ids, fds,
					 &count, &bopts));
	for (size_t i = 0; i < made; i++)
		close(fds[i]);
	free(fds);
	return err;
}

static int vip_addr_ref(struct xlb_dp *dp, const union xlb_addr *a, int delta)
{
	int fd = bpf_map__fd(dp->skel->maps.vip_addrs);
	__u32 n = 0;

	if (bpf_map_lookup_elem(fd, a, &n) && errno != ENOENT)
		return -errno;
	n += delta;
	if (!n)
		return neg_errno(bpf_map_delete_elem(fd, a));
	return write_ok(dp) ?: neg_errno(bpf_map_update_elem(fd, a, &n, BPF_ANY));
}

static int vip_valid(const struct xlb_vip_key *key, const struct xlb_vip_val *val)
{
	if (key->pad || (key->proto != IPPROTO_TCP && key->proto != IPPROTO_UDP))
		return 0;
	if (val->vip_id >= XLB_MAX_VIPS || !val->table_size || val->table_size > XLB_MAX_TABLE_SIZE)
		return 0;
	return val->mode <= XLB_MODE_IPIP && val->hash <= XLB_HASH_SRC &&
	       val->on_empty <= XLB_EMPTY_PASS;
}

/*
 * All or nothing: a step that fails takes back the steps before it, so a
 * failed call leaves the VIP as it was (the undo writes allocate nothing).
 * An existing VIP whose table swap fails after its entry changed gets the
 * old entry back; its old table is gone then, and the caller puts it back
 * (xlb_sync rolls the whole apply back).
 */
int xlb_dp_vip_set(struct xlb_dp *dp, const struct xlb_vip_key *key, const struct xlb_vip_val *val,
		   const __u32 *table)
{
	int fd = bpf_map__fd(dp->skel->maps.vips), tfd = bpf_map__fd(dp->skel->maps.maglev_tables);
	struct xlb_vip_val old;
	int err, exists;

	if (!vip_valid(key, val))
		return -EINVAL;
	exists = !bpf_map_lookup_elem(fd, key, &old);
	if (!exists || old.vip_id != val->vip_id || val->table_size >= old.table_size) {
		/* Table first: the VIP never points at a missing or smaller table. */
		err = xlb_dp_table_swap(dp, val->vip_id, table, val->table_size);
		if (!err)
			err = write_ok(dp) ?: neg_errno(bpf_map_update_elem(fd, key, val, BPF_ANY));
	} else {
		/* Shrinking: the smaller size first, then the smaller table. */
		err = write_ok(dp) ?: neg_errno(bpf_map_update_elem(fd, key, val, BPF_ANY));
		if (!err) {
			err = xlb_dp_table_swap(dp, val->vip_id, table, val->table_size);
			if (err)
				bpf_map_update_elem(fd, key, &old, BPF_EXIST);
		}
	}
	if (!err && !exists) {
		err = vip_addr_ref(dp, &key->addr, 1);
		if (err)
			bpf_map_delete_elem(fd, key);
	}
	if (err && !exists)
		bpf_map_delete_elem(tfd, &val->vip_id); /* the new VIP's table */
	if (err)
		return err;
	if (exists && old.vip_id != val->vip_id)
		bpf_map_delete_elem(tfd, &old.vip_id);
	return 0;
}

int xlb_dp_vip_del(struct xlb_dp *dp, const struct xlb_vip_key *key)
{
	int fd = bpf_map__fd(dp->skel->maps.vips);
	struct xlb_vip_val old;
	int err;

	if (bpf_map_lookup_elem(fd, key, &old))
		return -errno;
	if (bpf_map_delete_elem(fd, key))
		return -errno;
	err = vip_addr_ref(dp, &key->addr, -1);
	if (err) { /* all or nothing: the entry comes back */
		bpf_map_update_elem(fd, key, &old, BPF_NOEXIST);
		return err;
	}
	bpf_map_delete_elem(bpf_map__fd(dp->skel->maps.maglev_tables), &old.vip_id);
	return 0;
}

int xlb_dp_backend_set(struct xlb_dp *dp, __u32 id, const struct xlb_backend *b)
{
	static const struct xlb_backend unset; /* what an id never set holds */

	if (id == XLB_BACKEND_NONE || id >= XLB_MAX_BACKENDS || b->state > XLB_BE_DRAINING ||
	    (b->family != XLB_AF_INET && b->family != XLB_AF_INET6 &&
	     memcmp(b, &unset, sizeof(unset))) ||
	    b->vip_id >= XLB_MAX_VIPS || b->mode > XLB_MODE_IPIP)
		return -EINVAL;
	return write_ok(dp)
		       ?: neg_errno(bpf_map_update_elem(bpf_map__fd(dp->skel->maps.backends), &id,
							b, BPF_ANY));
}

int xlb_dp_for_each_vip(struct xlb_dp *dp,
			int (*cb)(const struct xlb_vip_key *k, const struct xlb_vip_val *v,
				  void *ctx),
			void *ctx)
{
	int fd = bpf_map__fd(dp->skel->maps.vips), err;
	struct xlb_vip_key k, next;
	struct xlb_vip_val v;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue; /* deleted meanwhile */
		err = cb(&k, &v, ctx);
		if (err)
			return err;
	}
	return errno == ENOENT ? 0 : -errno;
}

int xlb_dp_for_each_backend(struct xlb_dp *dp,
			    int (*cb)(__u32 id, const struct xlb_backend *b, void *ctx), void *ctx)
{
	enum {
		BATCH = 4096
	};
	int fd = bpf_map__fd(dp->skel->maps.backends), err = 0;
	struct xlb_backend *vals = calloc(BATCH, sizeof(*vals));
	__u32 *keys = calloc(BATCH, sizeof(*keys)), in = 0, out = 0;
	void *in_batch = NULL;

	if (!vals || !keys) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		__u32 count = BATCH;
		int ret = bpf_map_lookup_batch(fd, in_batch, &out, keys, vals, &count, NULL);

		if (ret && errno != ENOENT) {
			err = -errno;
			break;
		}
		for (__u32 i = 0; i < count && !err; i++)
			if (vals[i].gen) /* never set: all zero */
				err = cb(keys[i], &vals[i], ctx);
		if (ret || err)
			break; /* ENOENT: that was the last batch */
		in = out;
		in_batch = &in;
	}
out:
	free(vals);
	free(keys);
	return err;
}

int xlb_dp_backend_get(struct xlb_dp *dp, __u32 id, struct xlb_backend *b)
{
	return neg_errno(bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.backends), &id, b));
}

int xlb_dp_table_get(struct xlb_dp *dp, __u32 vip_id, __u32 size, __u32 *table)
{
	size_t bytes = (size_t)XLB_TABLE_VALUES(size) * sizeof(struct xlb_table_slots);
	size_t mapped = (bytes + getpagesize() - 1) & ~((size_t)getpagesize() - 1);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), map_id;
	int fd, err = 0;
	void *mem;

	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.maglev_tables), &vip_id, &map_id))
		return -errno;
	fd = bpf_map_get_fd_by_id(map_id);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.max_entries != XLB_TABLE_VALUES(size)) {
		close(fd);
		return -EINVAL; /* not a table of this size */
	}
	mem = mmap(NULL, mapped, PROT_READ, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		err = -errno;
	} else {
		for (__u32 i = 0; i < size; i++)
			table[i] = ((const __u16 *)mem)[i];
		munmap(mem, mapped);
	}
	close(fd);
	return err;
}

/* Sum a per-CPU value of n __u64 counters. */
static int percpu_sum(struct xlb_dp *dp, int fd, __u32 key, __u64 *out, size_t n)
{
	__u64 *vals = calloc((size_t)dp->ncpus * n, sizeof(__u64));
	int err;

	if (!vals)
		return -ENOMEM;
	err = neg_errno(bpf_map_lookup_elem(fd, &key, vals));
	memset(out, 0, n * sizeof(__u64));
	for (int c = 0; !err && c < dp->ncpus; c++)
		for (size_t i = 0; i < n; i++)
			out[i] += vals[c * n + i];
	free(vals);
	return err;
}

int xlb_dp_vip_stats(struct xlb_dp *dp, __u32 vip_id, struct xlb_vip_stats *out)
{
	return percpu_sum(dp, bpf_map__fd(dp->skel->maps.vip_stats), vip_id, (__u64 *)out,
			  sizeof(*out) / sizeof(__u64));
}

int xlb_dp_backend_stats(struct xlb_dp *dp, __u32 id, struct xlb_backend_stats *out)
{
	return percpu_sum(dp, bpf_map__fd(dp->skel->maps.backend_stats), id, (__u64 *)out,
			  sizeof(*out) / sizeof(__u64));
}

int xlb_dp_reason_count(struct xlb_dp *dp, __u32 reason, __u64 *out)
{
	return percpu_sum(dp, bpf_map__fd(dp->skel->maps.reason_stats), reason, out, 1);
}

/* The kernel's own accounting of a map (what bpftool shows as memlock). */
static __u64 fd_memlock(int fd)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

int xlb_dp_memory(struct xlb_dp *dp, struct xlb_dp_memory *m)
{
	int outer = bpf_map__fd(dp->skel->maps.maglev_tables);
	struct bpf_map *map;

	memset(m, 0, sizeof(*m));
	m->flows = fd_memlock(xlb_dp_flows_fd(dp));
	for (map = bpf_object__next_map(dp->skel->obj, NULL); map;
	     map = bpf_object__next_map(dp->skel->obj, map))
		m->maps += fd_memlock(bpf_map__fd(map));
	for (__u32 k = 0; k < XLB_MAX_VIPS; k++) {
		__u32 id;
		int fd;

		if (bpf_map_lookup_elem(outer, &k, &id))
			continue;
		fd = bpf_map_get_fd_by_id(id);
		if (fd < 0)
			continue;
		m->tables += fd_memlock(fd);
		m->ntables++;
		close(fd);
	}
	return 0;
}

unsigned long long xlb_kernel_jiffies(void)
{
	return timer_list_jiffies();
}

int xlb_dp_flow_count(struct xlb_dp *dp, const __u32 *gen_by_id, __u32 *count_by_id,
		      __u32 tcp_idle_s)
{
	size_t bytes = (size_t)dp->flow_buckets * sizeof(struct xlb_flow_bucket);
	size_t mapped = (bytes + getpagesize() - 1) & ~((size_t)getpagesize() - 1);
	unsigned int hz = xlb_kernel_hz();
	__u32 now = (__u32)xlb_kernel_jiffies();
	__u32 tcp_idle = tcp_idle_s * hz, udp_idle = dp->skel->rodata->udp_idle_jiffies;
	const struct xlb_flow_bucket *b;
	void *mem;

	if (!now)
		return -ENOENT;
	mem = mmap(NULL, mapped, PROT_READ, MAP_SHARED, xlb_dp_flows_fd(dp), 0);
	if (mem == MAP_FAILED)
		return -errno;
	b = mem;
	for (__u32 i = 0; i < dp->flow_buckets; i++, b++) {
		for (int w = 0; w < XLB_FLOW_WAYS; w++) {
			const struct xlb_flow_entry *e = &b->way[w];
			__u32 id = e->backend_id, hash, age;

			if (!b->tag[w] || e->closed || id >= XLB_MAX_BACKENDS ||
			    e->backend_gen != gen_by_id[id])
				continue;
			/* the check word gives the hash back: a torn entry fails */
			hash = e->check ^ xlb_flow_check(0, id, e->backend_gen);
			if ((hash | 1) != b->tag[w])
				continue;
			/* /proc/timer_list's jiffies can trail the data plane's by
			 * a tick or more (measured: up to 0.6 s on kernel 6.18): an
			 * access time "in the future" is a fresh flow, not one idle
			 * for 2^32 jiffies. */
			age = now - b->atime[w];
			if ((__s32)age > 0 &&
			    age > (e->key.proto == IPPROTO_UDP ? udp_idle : tcp_idle))
				continue;
			count_by_id[id]++;
		}
	}
	munmap(mem, mapped);
	return 0;
}

int xlb_dp_flow_get(struct xlb_dp *dp, const struct xlb_flow_key *k, struct xlb_flow_entry *e)
{
	__u32 h = xlb_hash_flow(k, &dp->seed), idx = xlb_hash_bucket(h, dp->flow_buckets);
	struct xlb_flow_bucket b;

	if (bpf_map_lookup_elem(xlb_dp_flows_fd(dp), &idx, &b))
		return -errno;
	for (int w = 0; w < XLB_FLOW_WAYS; w++) {
		if (b.tag[w] == (h | 1) && !memcmp(&b.way[w].key, k, sizeof(*k))) {
			*e = b.way[w];
			return 0;
		}
	}
	return -ENOENT;
}
