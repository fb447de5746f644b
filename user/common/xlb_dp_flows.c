// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The flow table's live flows one by one (a switch to stateless seeds
 * previous hops from them, handover.h "Switching"). */
#include <errno.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "xlb_dp.h"
#include "xlb_dp_int.h"
#include "xlb.skel.h"

int xlb_dp_flow_each(struct xlb_dp *dp, const __u32 *gen_by_id, __u32 tcp_idle_s, __u32 closed_s,
		     int (*cb)(void *ctx, const struct xlb_flow_key *k, __u32 id), void *ctx)
{
	size_t bytes = (size_t)dp->flow_buckets * sizeof(struct xlb_flow_bucket);
	size_t mapped = (bytes + getpagesize() - 1) & ~((size_t)getpagesize() - 1);
	unsigned int hz = xlb_kernel_hz();
	__u32 now = (__u32)xlb_kernel_jiffies();
	__u32 tcp_idle = tcp_idle_s * hz, udp_idle = dp->skel->rodata->udp_idle_jiffies;
	__u32 closed_idle = closed_s * hz;
	const struct xlb_flow_bucket *b;
	void *mem;
	int ret = 0;

	if (!now)
		return -ENOENT;
	mem = mmap(NULL, mapped, PROT_READ, MAP_SHARED, xlb_dp_flows_fd(dp), 0);
	if (mem == MAP_FAILED)
		return -errno;
	b = mem;
	for (__u32 i = 0; !ret && i < dp->flow_buckets; i++, b++) {
		for (int w = 0; !ret && w < XLB_FLOW_WAYS; w++) {
			const struct xlb_flow_entry *e = &b->way[w];
			struct xlb_flow_key k;
			__u32 id = e->backend_id, age;

			if (!b->tag[w] || id >= XLB_MAX_BACKENDS || !gen_by_id[id] ||
			    e->backend_gen != gen_by_id[id])
				continue;
			/* a torn entry (written while we read) fails its check */
			if (((e->check ^ xlb_flow_check(0, id, e->backend_gen)) | 1) != b->tag[w])
				continue;
			/* jiffies from /proc can trail the data plane's: an access
			 * "in the future" is a fresh flow (as xlb_dp_flow_count) */
			age = now - b->atime[w];
			if ((__s32)age < 0)
				age = 0;
			if (age > (e->key.proto == IPPROTO_UDP ? udp_idle : tcp_idle))
				continue; /* the data plane would not keep it either */
			if (e->closed && age > closed_idle)
				continue; /* ended (the client's FIN or RST) a while ago */
			k = e->key;
			ret = cb(ctx, &k, id);
		}
	}
	munmap(mem, mapped);
	return ret;
}
