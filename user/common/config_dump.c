// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The configuration as YAML (xlb_cfg_dump), as text in memory, and checked
 * to load back to the same configuration: see config_dump.h.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_dump.h"
#include "text.h"
#include "xlb_dp.h"

/* A YAML double-quoted scalar, every non-printable character escaped. */
static void dump_str(FILE *f, const char *ind, const char *key, const char *s)
{
	if (!*s)
		return;
	fprintf(f, "%s%s: ", ind, key);
	xlb_yaml_quote(f, s);
	fputc('\n', f);
}

/* An address; quoted when it ends in ':' ("2001:db8::"), which YAML would
 * read as a key. */
static void dump_addr(FILE *f, const char *ind, const union xlb_addr *addr)
{
	char a[INET6_ADDRSTRLEN];
	size_t n = strlen(xlb_addr_str(addr, a, sizeof(a)));

	fprintf(f, n && a[n - 1] == ':' ? "%saddress: \"%s\"\n" : "%saddress: %s\n", ind, a);
}

static void dump_timing(FILE *f, const char *ind, const struct xlb_check_timing *t, __u8 set)
{
	if (set & XLB_CHK_SET_INTERVAL)
		fprintf(f, "%sinterval: %ums\n", ind, t->interval_ms);
	if (set & XLB_CHK_SET_FAST)
		fprintf(f, "%sfast_interval: %ums\n", ind, t->fast_interval_ms);
	if (set & XLB_CHK_SET_TIMEOUT)
		fprintf(f, "%stimeout: %ums\n", ind, t->timeout_ms);
	if (set & XLB_CHK_SET_RISE)
		fprintf(f, "%srise: %u\n", ind, t->rise);
	if (set & XLB_CHK_SET_FALL)
		fprintf(f, "%sfall: %u\n", ind, t->fall);
	if (set & XLB_CHK_SET_JITTER)
		fprintf(f, "%sjitter: %u%%\n", ind, t->jitter_pct);
	if ((set & XLB_CHK_SET_PORT) && t->port)
		fprintf(f, "%sport: %u\n", ind, t->port);
}

/* Only what was set: a default stays a default when read back. */
static void dump_outlier(FILE *f, const struct xlb_cfg_outlier *o)
{
	const struct {
		const char *key;
		__u32 v;
		int ms;
	} k[] = {{"window", o->window_ms, 1},
		 {"threshold", o->threshold_pct, 0},
		 {"min_samples", o->min_samples, 0},
		 {"base_ejection_time", o->base_ejection_ms, 1},
		 {"max_ejection_time", o->max_ejection_ms, 1},
		 {"max_ejection_percent", o->max_percent, 0}};
	int any = 0;

	if (o->state == XLB_OUTLIER_DEFAULT)
		return;
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		any |= k[i].v != 0;
	if (o->state == XLB_OUTLIER_OFF || !any) {
		fprintf(f, "    outlier: %s\n", o->state == XLB_OUTLIER_OFF ? "off" : "on");
		return;
	}
	fprintf(f, "    outlier:\n");
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (k[i].v)
			fprintf(f, "      %s: %u%s\n", k[i].key, k[i].v,
				k[i].ms						    ? "ms"
				: strstr(k[i].key, "percent") || k[i].key[0] == 't' ? "%"
										    : "");
}

static void dump_check(FILE *f, const struct xlb_cfg_check *c)
{
	const char *ind = "      ";

	fprintf(f, "    check:\n");
	fprintf(f, "%stype: %s\n", ind, xlb_check_type_name(c->type));
	dump_timing(f, ind, &c->t, 0xff & ~(c->t.fast_interval_ms ? 0 : XLB_CHK_SET_FAST));
	if (c->start_up)
		fprintf(f, "%sstart: up\n", ind);
	if (c->via != XLB_CHECK_VIA_BACKEND)
		fprintf(f, "%svia: %s\n", ind, xlb_check_via_name(c->via));
	if (!c->tls_verify)
		fprintf(f, "%stls_verify: false\n", ind);
	if (c->nranges) {
		fprintf(f, "%sstatus: \"", ind);
		for (unsigned int i = 0; i < c->nranges; i++)
			fprintf(f, i ? ",%u-%u" : "%u-%u", c->ranges[i].lo, c->ranges[i].hi);
		fprintf(f, "\"\n");
	}
	dump_str(f, ind, "path", c->path);
	dump_str(f, ind, "host", c->host);
	dump_str(f, ind, "body", c->body);
	dump_str(f, ind, "send", c->send);
	dump_str(f, ind, "expect", c->expect);
	dump_str(f, ind, "command", c->command);
	if (c->shell)
		fprintf(f, "%sshell: true\n", ind);
}

int xlb_cfg_dump(const struct xlb_cfg *c, FILE *f)
{
	dump_str(f, "", "interface", c->iface);
	if (c->deleted_vip_grace_ms != XLB_CFG_DEFAULT_DELETED_VIP_GRACE_MS)
		fprintf(f, "deleted_vip_grace: %ums\n", c->deleted_vip_grace_ms);
	if (c->mtu)
		fprintf(f, "mtu: %u\n", c->mtu);
	if (c->flow_table_size)
		fprintf(f, "flow_table_size: %u\n", c->flow_table_size);
	if (c->announce.table)
		fprintf(f, "announce:\n  table: %u\n  protocol: %u\n  hold: %ums\n",
			c->announce.table, c->announce.protocol, c->announce.hold_ms);
	fprintf(f, "vips:%s\n", c->nvips ? "" : " []");
	for (size_t i = 0; i < c->nvips; i++) {
		const struct xlb_cfg_vip *v = &c->vips[i];

		dump_addr(f, "  - ", &v->addr);
		fprintf(f, "    port: %u\n", v->port);
		fprintf(f, "    protocol: %s\n", v->proto == IPPROTO_UDP ? "udp" : "tcp");
		fprintf(f, "    mode: %s\n", xlb_mode_name(v->mode));
		fprintf(f, "    hash: %s\n", xlb_hash_name(v->hash));
		fprintf(f, "    on_empty: %s\n", xlb_on_empty_name(v->on_empty));
		fprintf(f, "    table_size: %u\n", v->table_size);
		if (v->panic_percent)
			fprintf(f, "    panic_threshold: %u%%\n", v->panic_percent);
		if (v->slow_start_ms)
			fprintf(f, "    slow_start: %ums\n", v->slow_start_ms);
		if (v->drain_timeout_ms)
			fprintf(f, "    drain_timeout: %ums\n", v->drain_timeout_ms);
		if (v->reject_rate == XLB_REJECT_RATE_UNLIMITED)
			fprintf(f, "    reject_rate: unlimited\n");
		else if (v->reject_rate)
			fprintf(f, "    reject_rate: %u\n", v->reject_rate);
		if (v->announce)
			fprintf(f, "    announce: %s\n", xlb_announce_name(v->announce));
		if (v->flow_state)
			fprintf(f, "    flow_state: %s\n", xlb_flow_state_name(v->flow_state));
		if (v->handover_ms)
			fprintf(f, "    handover: %ums\n", v->handover_ms);
		if (v->syn_retry)
			fprintf(f, "    syn_retry: %s\n", xlb_syn_retry_name(v->syn_retry));
		dump_outlier(f, &v->outlier);
		dump_check(f, &v->check);
		fprintf(f, "    backends:%s\n", v->nbackends ? "" : " []");
		for (size_t j = 0; j < v->nbackends; j++) {
			const struct xlb_cfg_backend *b = &v->backends[j];

			dump_addr(f, "      - ", &b->addr);
			fprintf(f, "        weight: %u\n", b->weight);
			if (b->admin)
				fprintf(f, "        admin: %s\n", xlb_admin_name(b->admin));
			if (b->backup)
				fprintf(f, "        backup: true\n");
			if (b->check_set) {
				fprintf(f, "        check:\n");
				dump_timing(f, "          ", &b->check, b->check_set);
			}
		}
	}
	return ferror(f) ? -EIO : 0;
}

int xlb_cfg_dump_text(const struct xlb_cfg *c, char **text, size_t *len)
{
	FILE *f;
	int ret;

	*text = NULL;
	*len = 0;
	f = open_memstream(text, len);
	if (!f)
		return -errno;
	ret = xlb_cfg_dump(c, f);
	if (fclose(f) && !ret)
		ret = -ENOMEM;
	if (ret) {
		free(*text);
		*text = NULL;
	}
	return ret;
}

int xlb_cfg_dump_checked(const struct xlb_cfg *c, char **text, size_t *len, struct xlb_err *err)
{
	struct xlb_cfg back = {};
	struct xlb_err lerr = {};
	char *again = NULL;
	size_t alen = 0;
	int ret = xlb_cfg_dump_text(c, text, len);

	if (ret) {
		snprintf(err->msg, sizeof(err->msg), "couldn't dump the configuration: %s",
			 strerror(-ret));
		return ret;
	}
	if (xlb_cfg_load_string("dump", *text, &back, &lerr)) {
		snprintf(
			err->msg, sizeof(err->msg),
			"couldn't check the configuration's dump: it does not load again (%.400s); "
			"nothing was written",
			lerr.msg);
		ret = -EINVAL;
	} else if (!xlb_cfg_equal(c, &back)) {
		snprintf(err->msg, sizeof(err->msg),
			 "couldn't check the configuration's dump: it loads again as a different "
			 "configuration; nothing was written");
		ret = -EINVAL;
	} else {
		ret = xlb_cfg_dump_text(&back, &again, &alen);
		if (ret)
			snprintf(err->msg, sizeof(err->msg),
				 "couldn't check the configuration's dump: %s", strerror(-ret));
		else if (alen != *len || memcmp(again, *text, alen)) {
			snprintf(err->msg, sizeof(err->msg),
				 "couldn't check the configuration's dump: dumping it again gives "
				 "other text; nothing was written");
			ret = -EINVAL;
		}
	}
	free(again);
	xlb_cfg_free(&back);
	if (ret) {
		free(*text);
		*text = NULL;
	}
	return ret;
}
