// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The text of a scrape (metrics_text.h): every backend's series exactly
 * once a family, flows as the snapshot (the background sweep) has them,
 * and the label cache following removed, added and moved backends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_text.h"
#include "test_unit.h"

/* The per-backend families: name and series a backend. */
static const struct {
	const char *name;
	int series;
} be_fams[] = {
	{"xlb_backend_packets_total", 1},
	{"xlb_backend_bytes_total", 1},
	{"xlb_backend_syn_total", 1},
	{"xlb_backend_syn_retransmits_total", 1},
	{"xlb_backend_syn_rerouted_total", 1},
	{"xlb_backend_up", 1},
	{"xlb_backend_weight", 1},
	{"xlb_backend_effective_weight", 1},
	{"xlb_backend_flows", 1},
	{"xlb_backend_health_changes_total", 1},
	{"xlb_backend_ejected", 1},
	{"xlb_backend_ejections_total", 1},
	{"xlb_backend_admin_state", 3},
	{"xlb_backend_state", 3},
};
#define NFAMS (sizeof(be_fams) / sizeof(be_fams[0]))

struct world {
	struct snap s;
	struct snap_vip vips[2];
	struct snap_be bes[8];
	struct xlb_backend_stats st[8];
	struct mtext_dp dp;
	struct mtext_self self;
	struct strbuf out;
};

static void add_backend(struct world *w, __u32 vip, const char *addr, __u32 id, __u32 flows)
{
	struct snap_be *b = &w->bes[w->s.nbes];

	memset(b, 0, sizeof(*b));
	b->vip = vip;
	b->id = id;
	b->gen = 1;
	b->weight = 1;
	b->flows = flows;
	xlb_addr_parse(addr, &b->addr);
	w->st[w->s.nbes] = (struct xlb_backend_stats){.packets = 1000 + id, .bytes = 64000 + id};
	w->s.nbes++;
	w->vips[vip].nbackends++;
}

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->s.vips = w->vips;
	w->s.bes = w->bes;
	w->s.nvips = 2;
	w->s.flows_ok = 1;
	snprintf(w->vips[0].name, sizeof(w->vips[0].name), "10.0.0.1:80/tcp");
	snprintf(w->vips[1].name, sizeof(w->vips[1].name), "[2001:db8::1]:443/tcp");
	w->vips[0].id = 1;
	w->vips[1].id = 2;
	add_backend(w, 0, "10.1.0.1", 1, 7);
	add_backend(w, 0, "10.1.0.2", 2, 0);
	add_backend(w, 1, "2001:db8::11", 3, 123456);
	w->dp.bes = w->st;
}

static int render(struct world *w, struct mtext_cache *c)
{
	sb_reset(&w->out);
	mtext_render(&w->out, c, &w->s, &w->dp, &w->self);
	sb_char(&w->out, '\0');
	return w->out.oom ? -1 : 0;
}

/* Lines of text that start with prefix. */
static int lines_with(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	int count = 0;

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		count += !strncmp(p, prefix, n);
	return count;
}

/* The value of the series whose line starts with prefix; -1: none. */
static long long value_of(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, n))
			return strtoll(p + n, NULL, 10);
	return -1;
}

/* Every family has exactly its series for each backend of the snapshot,
 * and none for anyone else. */
static int each_backend_once(const struct world *w, const char *text)
{
	char prefix[256], addr[48];
	int total = 0;

	for (size_t f = 0; f < NFAMS; f++) {
		for (size_t i = 0; i < w->s.nbes; i++) {
			xlb_addr_str(&w->bes[i].addr, addr, sizeof(addr));
			snprintf(prefix, sizeof(prefix), "%s{vip=\"%s\",backend=\"%s\"",
				 be_fams[f].name, w->vips[w->bes[i].vip].name, addr);
			ASSERT_EQ(lines_with(text, prefix), be_fams[f].series, prefix);
		}
		snprintf(prefix, sizeof(prefix), "%s{", be_fams[f].name);
		ASSERT_EQ(lines_with(text, prefix), be_fams[f].series * (int)w->s.nbes,
			  be_fams[f].name);
		total += be_fams[f].series * (int)w->s.nbes;
	}
	return total > 0 ? 0 : -1;
}

static int t_metrics_each_series_once_flows_from_the_sweep(void)
{
	struct mtext_cache *c = mtext_cache_new();
	struct world *w = calloc(1, sizeof(*w));
	int rc = -1;

	if (!c || !w)
		goto out;
	world_init(w);
	if (render(w, c) || each_backend_once(w, w->out.p))
		goto out;
	/* flows: the snapshot's, i.e. the sweep's pass, and their sum */
	if (value_of(w->out.p,
		     "xlb_backend_flows{vip=\"10.0.0.1:80/tcp\",backend=\"10.1.0.1\"} ") != 7 ||
	    value_of(w->out.p, "xlb_backend_flows{vip=\"[2001:db8::1]:443/tcp\","
			       "backend=\"2001:db8::11\"} ") != 123456 ||
	    value_of(w->out.p, "xlb_flows ") != 123463) {
		harness_fail(__FILE__, __LINE__, "flows are not the snapshot's");
		goto out;
	}
	if (!strstr(w->out.p, "# HELP xlb_backend_flows ") ||
	    !strstr(strstr(w->out.p, "# HELP xlb_backend_flows "), "sweep")) {
		harness_fail(__FILE__, __LINE__, "xlb_backend_flows's HELP does not say 'sweep'");
		goto out;
	}
	if (value_of(w->out.p, "xlb_backend_packets_total{vip=\"10.0.0.1:80/tcp\","
			       "backend=\"10.1.0.2\"} ") != 1002) {
		harness_fail(__FILE__, __LINE__, "packets of 10.1.0.2");
		goto out;
	}
	/* no recent pass: the scrape's own count is shown instead */
	{
		static const __u32 counted[] = {1, 2, 3};

		w->dp.flows = counted;
		if (render(w, c) || value_of(w->out.p, "xlb_flows ") != 6) {
			harness_fail(__FILE__, __LINE__, "the scrape's own count not used");
			goto out;
		}
	}
	rc = 0;
out:
	if (w)
		sb_free(&w->out);
	free(w);
	mtext_cache_free(c);
	return rc;
}

static int t_metrics_labels_follow_removed_added_moved(void)
{
	struct mtext_cache *c = mtext_cache_new();
	struct world *w = calloc(1, sizeof(*w));
	char *first = NULL;
	int rc = -1;

	if (!c || !w)
		goto out;
	world_init(w);
	if (render(w, c) || mtext_cache_made(c) != 1)
		goto out;
	first = strdup(w->out.p);
	/* the same backends again: labels kept, the same text */
	if (!first || render(w, c) || mtext_cache_made(c) != 1 || strcmp(first, w->out.p)) {
		harness_fail(__FILE__, __LINE__, "an unchanged snapshot changed the text");
		goto out;
	}
	/* 10.1.0.2 removed, 10.1.0.9 added (the same count of backends) */
	xlb_addr_parse("10.1.0.9", &w->bes[1].addr);
	w->bes[1].id = 9;
	if (render(w, c) || each_backend_once(w, w->out.p))
		goto out;
	if (strstr(w->out.p, "backend=\"10.1.0.2\"") || mtext_cache_made(c) != 2) {
		harness_fail(__FILE__, __LINE__, "a removed backend's series are still there");
		goto out;
	}
	/* 10.1.0.1 moves to the other VIP: its labels say so */
	w->bes[0].vip = 1;
	if (render(w, c) || each_backend_once(w, w->out.p))
		goto out;
	if (lines_with(w->out.p, "xlb_backend_up{vip=\"10.0.0.1:80/tcp\",backend=\"10.1.0.1\"")) {
		harness_fail(__FILE__, __LINE__, "a moved backend's old labels are still there");
		goto out;
	}
	/* one more backend: its series come; one less: they go */
	add_backend(w, 1, "10.1.0.4", 4, 1);
	if (render(w, c) || each_backend_once(w, w->out.p))
		goto out;
	w->s.nbes--;
	if (render(w, c) || each_backend_once(w, w->out.p) ||
	    strstr(w->out.p, "backend=\"10.1.0.4\"")) {
		harness_fail(__FILE__, __LINE__, "a backend removed from the end is still there");
		goto out;
	}
	/* a VIP renamed (same index, other address): its backends' labels too */
	snprintf(w->vips[0].name, sizeof(w->vips[0].name), "10.0.0.5:80/tcp");
	if (render(w, c) || each_backend_once(w, w->out.p) ||
	    strstr(w->out.p, "vip=\"10.0.0.1:80/tcp\",backend")) {
		harness_fail(__FILE__, __LINE__, "the old VIP name is still there");
		goto out;
	}
	rc = 0;
out:
	free(first);
	if (w)
		sb_free(&w->out);
	free(w);
	mtext_cache_free(c);
	return rc;
}

const struct harness_case metrics_cases[] = {
	{"metrics_each_series_once_flows_from_the_sweep",
	 t_metrics_each_series_once_flows_from_the_sweep},
	{"metrics_labels_follow_removed_added_moved", t_metrics_labels_follow_removed_added_moved},
};
const size_t metrics_ncases = sizeof(metrics_cases) / sizeof(metrics_cases[0]);
