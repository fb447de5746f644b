// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What a change would do, with the live flows it would cut; see ctl_diff.h. */
#include <stdlib.h>
#include <string.h>

#include "cfgdiff.h"
#include "ctl_diff.h"
#include "log.h"
#include "strbuf.h"
#include "sync.h"
#include "xlb_dp.h"

struct diff_ctx {
	const struct ctl_view *view;
	const __u32 *flows; /* per backend id; NULL: unknown */
	json_object *out;
};

/* Live flows of one programmed backend record, or of every record of a VIP
 * (b NULL); -1 when unknown. */
static long long live_flows(const struct diff_ctx *d, const struct xlb_cfg_vip *v,
			    const struct xlb_cfg_backend *b)
{
	const struct xlb_sync_vip *sv;
	struct xlb_vip_key k;
	long long n = 0;

	if (!d->flows || !d->view->sync)
		return -1;
	xlb_sync_vip_key(v, &k);
	sv = xlb_sync_find(d->view->sync, &k);
	if (!sv)
		return 0;
	for (size_t i = 0; i < sv->nbackends; i++)
		if (!b || !memcmp(&sv->backends[i].cfg.addr, &b->addr, sizeof(b->addr)))
			n += d->flows[sv->backends[i].id];
	return n;
}

static void one(const struct xlb_cfg_change *ch, void *arg)
{
	struct diff_ctx *d = arg;
	json_object *o = json_object_new_object();
	char kind[2] = {ch->kind, 0}, vn[80], bn[64];

	if (!o)
		return;
	json_object_object_add(o, "change", json_object_new_string(kind));
	if (ch->vip)
		json_object_object_add(
			o, "vip",
			json_object_new_string(xlb_cfg_vip_name(ch->vip, vn, sizeof(vn))));
	if (ch->backend)
		json_object_object_add(
			o, "backend",
			json_object_new_string(xlb_addr_str(&ch->backend->addr, bn, sizeof(bn))));
	if (ch->what[0])
		json_object_object_add(o, "what", json_object_new_string(ch->what));
	if (ch->kind == '-' && ch->vip) {
		long long n = d->view ? live_flows(d, ch->vip, ch->backend) : -1;

		if (n >= 0)
			json_object_object_add(o, "live_flows", json_object_new_int64(n));
	}
	json_object_array_add(d->out, o);
}

static void count_removed(const struct xlb_cfg_change *ch, void *arg)
{
	*(int *)arg += ch->kind == '-';
}

json_object *ctl_diff_json(const struct ctl_view *view, const struct xlb_cfg *next)
{
	struct diff_ctx d = {.view = view, .out = json_object_new_array()};
	__u32 *flows;

	if (!d.out)
		return NULL;
	int removed = 0;

	/* the flow table (a pass over all of it) is read only when something
	 * goes away */
	xlb_cfg_diff(view->cfg, next, count_removed, &removed);
	flows = removed ? ctl_flow_counts(view) : NULL;
	d.flows = flows;
	xlb_cfg_diff(view->cfg, next, one, &d);
	free(flows);
	return d.out;
}

json_object *ctl_diff_json_plain(const struct xlb_cfg *cur, const struct xlb_cfg *next,
				 int *removed)
{
	struct diff_ctx d = {.out = json_object_new_array()};

	*removed = 0;
	if (!d.out)
		return NULL;
	xlb_cfg_diff(cur, next, count_removed, removed);
	if (!*removed)
		xlb_cfg_diff(cur, next, one, &d);
	return d.out;
}

void ctl_diff_log(json_object *changes, const char *verb)
{
	struct strbuf b = {0};

	if (xlb_log_level < XLB_LOG_INFO)
		return;
	ctl_diff_log_text(changes, verb, &b);
	if (b.len && !b.oom) {
		sb_char(&b, 0);
		if (!b.oom)
			pr_info("%s", b.p); /* one write, not one a line */
	}
	sb_free(&b);
}

void ctl_diff_log_text(json_object *changes, const char *verb, struct strbuf *out)
{
	size_t n = changes ? json_object_array_length(changes) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(changes, i), *f;
		const char *k = "", *vip = "-", *be = NULL, *what = NULL;

		if (json_object_object_get_ex(c, "change", &f))
			k = json_object_get_string(f);
		if (json_object_object_get_ex(c, "vip", &f))
			vip = json_object_get_string(f);
		if (json_object_object_get_ex(c, "backend", &f))
			be = json_object_get_string(f);
		if (json_object_object_get_ex(c, "what", &f))
			what = json_object_get_string(f);
		if (json_object_object_get_ex(c, "live_flows", &f))
			sb_printf(out, "%s: %s %s %s%s%s (%lld live flows)\n", verb, k,
				  be ? "backend" : "vip", vip, be ? " " : "", be ? be : "",
				  (long long)json_object_get_int64(f));
		else
			sb_printf(out, "%s: %s %s %s%s%s%s%s\n", verb, k, be ? "backend" : "vip",
				  vip, be ? " " : "", be ? be : "", what ? ": " : "",
				  what ? what : "");
	}
}
