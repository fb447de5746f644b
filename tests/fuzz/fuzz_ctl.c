// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer harness for the control socket's request handler, the part
 * that changes the configuration (user/xlbd/ctl_change.c through
 * ctl_req.c): no socket, no data plane.
 *
 * Input: the first byte picks the peer (even: root, odd: uid 1000, a
 * --socket-group member); the rest is requests, one a line, applied in
 * order to a small starting configuration, each to the result of the last
 * accepted one. After each request:
 *   - the configuration it was made on is unchanged (accepted or not);
 *   - a refused one leaves *next empty and says why;
 *   - an accepted one validates, and dumping it and loading the dump gives
 *     the same configuration;
 *   - a non-root peer never brought in an exec command that was not there;
 *   - a maintenance request (either peer: it is an operator action) is
 *     refused with a reason, or names the host or a VIP in the canonical
 *     spelling, which parses again to itself.
 * Any of these failing aborts (a crash for libFuzzer), as do ASan/UBSan.
 */
// fuzz-link: user/xlbd/ctl_change.c user/xlbd/ctl_req.c
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl_change.h"
#include "ctl_req.h"

#define MAX_REQUESTS 16

static const char start_yaml[] = "interface: eth0\n"
				 "vips:\n"
				 "  - address: 10.0.0.10\n"
				 "    port: 80\n"
				 "    protocol: tcp\n"
				 "    check: {type: http, path: /healthz}\n"
				 "    backends:\n"
				 "      - address: 10.1.0.11\n"
				 "      - address: 10.1.0.12\n"
				 "        weight: 3\n"
				 "  - address: 2001:db8::1\n"
				 "    port: 443\n"
				 "    protocol: tcp\n"
				 "    mode: ipip\n"
				 "    backends:\n"
				 "      - address: 2001:db8:1::11\n"
				 "  - address: 10.0.0.11\n"
				 "    port: 0\n"
				 "    protocol: udp\n"
				 "    check: {type: exec, command: /bin/true}\n"
				 "    backends:\n"
				 "      - address: 10.1.0.13\n";

static void fail(const char *what, const char *req, size_t len)
{
	fprintf(stderr, "fuzz_ctl: %s; request: '%.*s'\n", what, (int)len, req);
	abort();
}

/* Does cfg run the exec command cmd anywhere? */
static int runs(const struct xlb_cfg *cfg, const char *cmd)
{
	for (size_t i = 0; i < cfg->nvips; i++)
		if (cfg->vips[i].check.type == XLB_CHECK_EXEC &&
		    !strcmp(cfg->vips[i].check.command, cmd))
			return 1;
	return 0;
}

static void check_round_trip(const struct xlb_cfg *cfg, const char *req, size_t len)
{
	struct xlb_cfg again = {};
	struct xlb_err err = {};
	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);

	if (!f || xlb_cfg_dump(cfg, f))
		fail("couldn't dump an accepted configuration", req, len);
	fclose(f);
	if (xlb_cfg_load_string("dump", text, &again, &err)) {
		fprintf(stderr, "fuzz_ctl: %s\n--- dump:\n%s\n", err.msg, text);
		fail("the dump of an accepted configuration does not load", req, len);
	}
	if (!xlb_cfg_equal(cfg, &again)) {
		f = stderr;
		fprintf(f, "--- dump:\n%s\n--- loaded again:\n", text);
		xlb_cfg_dump(&again, f);
		fail("dump then load gives another configuration", req, len);
	}
	xlb_cfg_free(&again);
	free(text);
}

static void maintenance_one(json_object *o, const char *req, size_t len)
{
	struct xlb_err err = {};
	struct xlb_cfg_vip key;
	char vip[80], again[80];
	int on = -1;

	if (ctl_req_maintenance(o, &on, vip, sizeof(vip), &err)) {
		if (!err.msg[0])
			fail("a maintenance request refused without a reason", req, len);
		return;
	}
	if (on != 0 && on != 1)
		fail("maintenance neither on nor off", req, len);
	if (!vip[0])
		return;
	if (ctl_parse_vip_name(vip, &key, &err) ||
	    strcmp(xlb_cfg_vip_name(&key, again, sizeof(again)), vip))
		fail("a maintenance VIP's name does not parse back to itself", req, len);
}

/* One request against *work: on acceptance *work becomes the result. */
static void one(const struct ctl_peer *peer, struct xlb_cfg *work, const char *req, size_t len)
{
	struct xlb_cfg before = {}, next;
	struct xlb_err err = {};
	const struct ctl_change *verb;
	const char *name;
	json_object *o;
	int ret;

	o = ctl_parse(req, len, &name, &err);
	if (!o) {
		if (!err.msg[0])
			fail("a request refused without a reason", req, len);
		return;
	}
	if (!strcmp(name, "maintenance")) {
		maintenance_one(o, req, len);
		json_object_put(o);
		return;
	}
	verb = ctl_change_find(name);
	if (!verb) {
		json_object_put(o);
		return;
	}
	if (xlb_cfg_copy(&before, work))
		abort();
	memset(&next, 0x5a, sizeof(next)); /* must be set either way */
	ret = ctl_change_make(verb, o, peer, work, &next, &err);
	if (!xlb_cfg_equal(&before, work) || strcmp(before.iface, work->iface))
		fail("the running configuration changed under a request", req, len);
	if (ret) {
		if (next.vips || next.nvips)
			fail("a refused request left a configuration behind", req, len);
		if (!err.msg[0])
			fail("a request refused without a reason", req, len);
	} else {
		struct xlb_err verr = {};

		if (xlb_cfg_validate(&next, "fuzz", &verr))
			fail("an accepted configuration does not validate", req, len);
		check_round_trip(&next, req, len);
		for (size_t i = 0; peer->uid && i < next.nvips; i++)
			if (next.vips[i].check.type == XLB_CHECK_EXEC &&
			    !runs(work, next.vips[i].check.command))
				fail("a non-root peer brought in an exec command", req, len);
		xlb_cfg_free(work);
		*work = next;
	}
	xlb_cfg_free(&before);
	json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xlb_cfg start;
	static int loaded;
	struct ctl_peer peer = {.pid = 4242};
	struct xlb_cfg work;
	const char *p, *end;
	int n = 0;

	if (!loaded) {
		struct xlb_err err = {};

		if (xlb_cfg_load_string("start", start_yaml, &start, &err)) {
			fprintf(stderr, "fuzz_ctl: starting config: %s\n", err.msg);
			abort();
		}
		loaded = 1;
	}
	if (!size)
		return 0;
	peer.uid = peer.gid = (data[0] & 1) ? 1000 : 0;
	if (xlb_cfg_copy(&work, &start))
		abort();
	p = (const char *)data + 1;
	end = (const char *)data + size;
	while (p < end && n++ < MAX_REQUESTS) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *req = malloc(len + 1);

		if (!req)
			abort();
		memcpy(req, p, len);
		req[len] = 0; /* as ctl_conn.c hands it over */
		one(&peer, &work, req, len);
		free(req);
		p += len + 1;
	}
	xlb_cfg_free(&work);
	return 0;
}
