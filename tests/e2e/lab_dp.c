// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlb-lab-dp: holds an XDP program attached for the end-to-end lab until it
 * is told to stop, then prints the data plane's counters. Test scaffolding
 * over libxlb until the agent (xlbd) takes over this job.
 *
 *   xlb-lab-dp xlb IFACE CONFIG [PIN_DIR]
 *                                 load xlb, program CONFIG, attach natively;
 *                                 with PIN_DIR, pin maps and link there and
 *                                 adopt what an earlier run pinned
 *   xlb-lab-dp pass IFACE         attach XDP_PASS (peer of an XDP_TX veth)
 *   xlb-lab-dp unpin PIN_DIR      remove a pinned instance (detaches it)
 *
 * CONFIG lines (# comments):
 *   backend ID ADDRESS MAC
 *   vip ADDRESS PORT tcp|udp dsr|ipip reject|drop|pass VIP_ID [ID,ID,...]
 * Prints "ready" once attached; on SIGINT/SIGTERM prints "vip ID packets N
 * no_backend N", "backend ID packets N" and "reason NAME N" lines and exits,
 * which detaches the program. Backends decapsulate with xlb-decap.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "log.h"
#include "maglev.h"
#include "xlb_dp.h"
#include "baseline.skel.h"

#define LAB_TABLE 251

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int parse_mac(const char *s, __u8 *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		      &mac[4], &mac[5]) == 6
		       ? 0
		       : -EINVAL;
}

static int vip_line(struct xlb_dp *dp, char *rest, int lineno, struct xlb_backend *bes)
{
	char addr[64], proto[8], mode[8], empty[8], ids[256] = "";
	struct xlb_maglev_backend mb[64];
	__u32 table[LAB_TABLE];
	struct xlb_vip_key k = {};
	struct xlb_vip_val v = {.table_size = LAB_TABLE};
	unsigned int port, vip_id;
	int n = 0;

	if (sscanf(rest, "%63s %u %7s %7s %7s %u %255s", addr, &port, proto, mode, empty, &vip_id,
		   ids) < 6 ||
	    xlb_addr_parse(addr, &k.addr) < 0) {
		fprintf(stderr, "config line %d: bad vip line\n", lineno);
		return -EINVAL;
	}
	k.port = htons((__u16)port);
	k.proto = !strcmp(proto, "udp") ? 17 : 6;
	v.vip_id = vip_id;
	v.mode = !strcmp(mode, "ipip") ? XLB_MODE_IPIP : XLB_MODE_DSR;
	v.on_empty = !strcmp(empty, "drop")   ? XLB_EMPTY_DROP
		     : !strcmp(empty, "pass") ? XLB_EMPTY_PASS
					      : XLB_EMPTY_REJECT;
	for (char *tok = strtok(ids, ","); tok && n < 64; tok = strtok(NULL, ",")) {
		__u32 id = (__u32)atoi(tok);
		char name[32];

		if (!id || id >= 1024) {
			fprintf(stderr, "config line %d: bad backend id '%s'\n", lineno, tok);
			return -EINVAL;
		}
		bes[id].vip_id = (__u16)vip_id;
		bes[id].mode = v.mode;
		bes[id].state = XLB_BE_ACTIVE;
		bes[id].gen = 1;
		if (xlb_dp_backend_set(dp, id, &bes[id]))
			return -EINVAL;
		snprintf(name, sizeof(name), "backend-%u", id);
		mb[n++] = (struct xlb_maglev_backend){
			.key = xlb_maglev_key(name), .id = id, .weight = 1};
	}
	if (xlb_maglev_build(mb, (size_t)n, LAB_TABLE, table))
		return -EINVAL;
	return xlb_dp_vip_set(dp, &k, &v, table);
}

static int load_config(struct xlb_dp *dp, const char *path)
{
	static struct xlb_backend bes[1024];
	FILE *f = fopen(path, "r");
	char line[512];
	int lineno = 0, err = 0;

	if (!f)
		return -errno;
	while (!err && fgets(line, sizeof(line), f)) {
		char what[16], addr[64], mac[32];
		unsigned int id;

		lineno++;
		if (line[0] == '#' || sscanf(line, "%15s", what) != 1)
			continue;
		if (!strcmp(what, "backend")) {
			if (sscanf(line, "%*s %u %63s %31s", &id, addr, mac) != 3 || !id ||
			    id >= 1024 || xlb_addr_parse(addr, &bes[id].addr) < 0 ||
			    parse_mac(mac, bes[id].mac)) {
				fprintf(stderr, "config line %d: bad backend line\n", lineno);
				err = -EINVAL;
				break;
			}
			bes[id].family = xlb_addr_is_v4(&bes[id].addr) ? XLB_AF_INET : XLB_AF_INET6;
		} else if (!strcmp(what, "vip")) {
			err = vip_line(dp, line + 3, lineno, bes);
		}
	}
	fclose(f);
	return err;
}

static void print_stats(struct xlb_dp *dp)
{
	for (__u32 id = 0; id < 64; id++) {
		struct xlb_vip_stats vs;

		if (!xlb_dp_vip_stats(dp, id, &vs) && vs.packets)
			printf("vip %u packets %llu no_backend %llu new_flows %llu\n", id,
			       (unsigned long long)vs.packets,
			       (unsigned long long)vs.no_backend_packets,
			       (unsigned long long)vs.new_flows);
	}
	for (__u32 id = 1; id < 1024; id++) {
		struct xlb_backend_stats bs;

		if (!xlb_dp_backend_stats(dp, id, &bs) && bs.packets)
			printf("backend %u packets %llu\n", id, (unsigned long long)bs.packets);
	}
	for (__u32 r = 1; r < XLB_REASON_SLOTS; r++) {
		__u64 n = 0;

		if (xlb_reason_name(r) && !xlb_dp_reason_count(dp, r, &n) && n)
			printf("reason %s %llu\n", xlb_reason_name(r), (unsigned long long)n);
	}
}

int main(int argc, char **argv)
{
	struct xlb_dp_opts o = {.encap_vary_bits = 16};
	struct baseline *base = NULL;
	struct xlb_dp *dp = NULL;
	int ifindex, prog_fd = -1, link = -1, err = 1;

	if (argc < 3 || (!strcmp(argv[1], "xlb") && argc < 4)) {
		fprintf(stderr, "usage: xlb-lab-dp xlb|pass IFACE [CONFIG [PIN_DIR]]\n"
				"       xlb-lab-dp unpin PIN_DIR\n");
		return 2;
	}
	xlb_log_libbpf();
	if (!strcmp(argv[1], "unpin"))
		return xlb_dp_unpin(argv[2]) ? 1 : 0;
	ifindex = (int)if_nametoindex(argv[2]);
	if (!ifindex) {
		fprintf(stderr, "xlb-lab-dp: no interface '%s'\n", argv[2]);
		return 1;
	}
	if (!strcmp(argv[1], "xlb")) {
		inet_pton(AF_INET, "172.16.0.0", &o.encap_src4);
		xlb_addr_parse("fd00:ffff::", &o.encap_src6);
		o.pin_dir = argc > 4 ? argv[4] : NULL;
		if (xlb_dp_open(&o, &dp) || load_config(dp, argv[3]))
			goto cleanup;
		if (xlb_dp_attach(dp, ifindex, 0)) {
			fprintf(stderr, "xlb-lab-dp: couldn't attach to '%s'\n", argv[2]);
			goto cleanup;
		}
	} else {
		base = baseline__open_and_load();
		if (!base)
			goto cleanup;
		prog_fd = bpf_program__fd(base->progs.xlb_pass);
	}
	link = dp ? 0 : xlb_xdp_attach(prog_fd, ifindex, 0);
	if (link < 0) {
		fprintf(stderr, "xlb-lab-dp: couldn't attach to '%s': %s\n", argv[2],
			strerror(-link));
		goto cleanup;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		pause();
	if (dp)
		print_stats(dp);
	err = 0;
cleanup:
	if (link > 0)
		close(link);
	xlb_dp_close(dp);
	baseline__destroy(base);
	return err;
}
