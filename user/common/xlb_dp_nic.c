// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The "nic" map: the MAC and ipip MTU of the interface the program serves. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "xlb_dp.h"
#include "xlb_dp_int.h"
#include "xlb.skel.h"

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
int xlb_dp_nic_from_link(struct xlb_dp *dp, int ifindex)
{
	struct xlb_nic old = {};
	__u32 mtu = 0;
	__u8 mac[6] = {0}; /* the analyzer: a failed ioctl may leave errno 0 */
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
	return dp->ifindex ? xlb_dp_nic_from_link(dp, dp->ifindex) : 0;
}

int xlb_dp_mtu_set(struct xlb_dp *dp, __u32 mtu)
{
	if (mtu && (mtu < XLB_MIN_MTU || mtu > XLB_MAX_MTU))
		return -EINVAL;
	if (mtu == dp->mtu)
		return 0; /* link changes come through xlb_dp_nic_refresh() */
	dp->mtu = mtu;
	return xlb_dp_nic_refresh(dp) < 0 ? -EIO : 0;
}
