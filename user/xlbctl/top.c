// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlbctl top: a live view. Every interval (1 s, -i SECONDS) a "stats" and a
 * "backend-list" request; packets/s and bits/s come from two consecutive
 * "stats" samples (rates.c), flows, health, admin, data-plane state and
 * effective weight from "backend-list". One line per VIP (bold), then its
 * backends, sorted within their VIP.
 *
 * Keys: q quit; s next sort column (packets/s, bits/s, flows, name);
 * r reverse; space or p pause; arrows, PgUp/PgDn, Home/End scroll.
 *
 * If xlbd goes away while top runs, the last figures stay up with the
 * error in the second line, and top keeps asking (xlbd restarts drop no
 * flow; top need not drop its view either).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curses.h>

#include "xlbctl.h"

#define TOP_TIMEOUT_MS 3000 /* a hung xlbd must not freeze the keys for long */

/* One line of the view: a VIP or one of its backends. */
struct line {
	int is_vip;
	size_t vi; /* a backend's VIP, an index into top.vl; SIZE_MAX: none */
	char vip[XLBCTL_NAME], addr[64];
	int valid; /* has rates */
	double pps, bitps, newps;
	int64_t flows, weight; /* -1: unknown */
	char health[16], admin[16], state[16];
};

enum {
	SORT_PPS,
	SORT_BITS,
	SORT_FLOWS,
	SORT_NAME,
	NSORT
};

static const char *const sort_names[NSORT] = {"packets/s", "bits/s", "flows", "name"};

struct top {
	const struct ctx *x;
	char iface[64];
	struct sample last;
	int have_last;
	struct line *vl, *bl; /* VIP and backend lines */
	size_t nvl, nbl;
	const struct line **view; /* in display order */
	size_t nview;
	size_t scroll;
	time_t shown; /* when the figures on screen were sampled */
	int sort, reverse, paused;
	char err[512];
};

/* ---- the figures ------------------------------------------------------- */

static void copy_info(struct line *l, json_object *o)
{
	l->flows = get_int(o, "flows");
	l->weight = get_int(o, "effective_weight");
	snprintf(l->health, sizeof(l->health), "%s", get_str(o, "health"));
	snprintf(l->admin, sizeof(l->admin), "%s", get_str(o, "admin"));
	snprintf(l->state, sizeof(l->state), "%s", get_str(o, "state"));
}

static int line_key_cmp(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	return ctr_key_cmp(x->vip, x->addr, y->vip, y->addr);
}

/* backend-list's rows onto the backend lines, matched by (vip, address). */
static void add_info(struct top *t, json_object *list)
{
	json_object *arr;
	size_t n;

	if (!list || !json_object_object_get_ex(list, "backends", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return;
	n = json_object_array_length(arr);
	qsort(t->bl, t->nbl, sizeof(*t->bl), line_key_cmp);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		struct line key = {0}, *l;

		snprintf(key.vip, sizeof(key.vip), "%s", get_str(o, "vip"));
		snprintf(key.addr, sizeof(key.addr), "%s", get_str(o, "address"));
		l = bsearch(&key, t->bl, t->nbl, sizeof(*t->bl), line_key_cmp);
		if (l)
			copy_info(l, o);
	}
}

/* The lines from the rates between two samples (or, with no earlier
 * sample, from one: no rates) and a backend-list reply. */
static int build_lines(struct top *t, const struct rates *r, json_object *list)
{
	struct line *vl = calloc(r->nvips + 1, sizeof(*vl)), *bl = calloc(r->nbes + 1, sizeof(*bl));
	size_t nv = 0, nb = 0;

	if (!vl || !bl) {
		free(vl);
		free(bl);
		return -ENOMEM;
	}
	for (size_t i = 0; i < r->nvips + r->nbes; i++) {
		const struct rate *x = i < r->nvips ? &r->vips[i] : &r->bes[i - r->nvips];
		struct line *l = i < r->nvips ? &vl[nv] : &bl[nb];

		if (!x->cur)
			continue; /* gone: nothing to show */
		l->is_vip = i < r->nvips;
		snprintf(l->vip, sizeof(l->vip), "%s", x->cur->vip);
		snprintf(l->addr, sizeof(l->addr), "%s", x->cur->addr);
		l->valid = x->valid;
		l->pps = x->v[CTR_PACKETS];
		l->bitps = x->v[CTR_BYTES] * 8;
		l->newps = x->v[CTR_NEW_FLOWS];
		l->flows = l->weight = -1;
		l->vi = SIZE_MAX;
		if (l->is_vip)
			nv++;
		else
			nb++;
	}
	free(t->vl);
	free(t->bl);
	t->vl = vl;
	t->bl = bl;
	t->nvl = nv;
	t->nbl = nb;
	add_info(t, list);
	/* Each backend to its VIP, whose flows are the sum of its backends'. */
	qsort(t->vl, t->nvl, sizeof(*t->vl), line_key_cmp);
	for (size_t i = 0; i < t->nbl; i++) {
		struct line key = {0}, *v;

		snprintf(key.vip, sizeof(key.vip), "%s", t->bl[i].vip);
		v = bsearch(&key, t->vl, t->nvl, sizeof(*t->vl), line_key_cmp);
		if (!v)
			continue;
		t->bl[i].vi = (size_t)(v - t->vl);
		if (t->bl[i].flows >= 0)
			v->flows = (v->flows < 0 ? 0 : v->flows) + t->bl[i].flows;
	}
	return 0;
}

/* -1, 0, 1 as a comes before b in the view: numbers high first, names A-Z. */
static int line_cmp(const struct line *a, const struct line *b, int sort)
{
	double x = 0, y = 0;
	int r = 0;

	switch (sort) {
	case SORT_PPS:
		x = a->valid ? a->pps : -1;
		y = b->valid ? b->pps : -1;
		break;
	case SORT_BITS:
		x = a->valid ? a->bitps : -1;
		y = b->valid ? b->bitps : -1;
		break;
	case SORT_FLOWS:
		x = (double)a->flows;
		y = (double)b->flows;
		break;
	default:
		break;
	}
	if (x != y)
		r = x > y ? -1 : 1;
	return r ? r : ctr_key_cmp(a->vip, a->addr, b->vip, b->addr);
}

static int view_cmp(const void *pa, const void *pb, void *arg)
{
	const struct line *a = *(const struct line *const *)pa;
	const struct line *b = *(const struct line *const *)pb;
	const struct top *t = arg;
	int r;

	/* Backends by their VIP's place first: vi is its rank once VIPs are sorted. */
	if (!a->is_vip && a->vi != b->vi)
		return a->vi < b->vi ? -1 : 1;
	r = line_cmp(a, b, t->sort);
	return t->reverse ? -r : r;
}

/* The display order: VIPs sorted, each followed by its backends, sorted. */
static int sort_view(struct top *t)
{
	const struct line **v = calloc(t->nvl + t->nbl + 1, sizeof(*v));
	const struct line **vips = calloc(t->nvl + 1, sizeof(*vips));
	size_t *rank = calloc(t->nvl + 1, sizeof(*rank)), n = 0;
	struct line **bes = calloc(t->nbl + 1, sizeof(*bes));
	size_t *saved = calloc(t->nbl + 1, sizeof(*saved)), b = 0;

	if (!v || !vips || !rank || !bes || !saved) {
		free(v);
		free(vips);
		free(rank);
		free(bes);
		free(saved);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->nvl; i++)
		vips[i] = &t->vl[i];
	qsort_r(vips, t->nvl, sizeof(*vips), view_cmp, t);
	for (size_t i = 0; i < t->nvl; i++)
		rank[vips[i] - t->vl] = i;
	/* Sort backends by (their VIP's rank, the column), orphans last. */
	for (size_t i = 0; i < t->nbl; i++) {
		saved[i] = t->bl[i].vi;
		t->bl[i].vi = t->bl[i].vi == SIZE_MAX ? t->nvl : rank[t->bl[i].vi];
		bes[i] = &t->bl[i];
	}
	qsort_r(bes, t->nbl, sizeof(*bes), view_cmp, t);
	for (size_t i = 0; i <= t->nvl; i++) {
		if (i < t->nvl)
			v[n++] = vips[i];
		while (b < t->nbl && bes[b]->vi == i)
			v[n++] = bes[b++];
	}
	for (size_t i = 0; i < t->nbl; i++)
		t->bl[i].vi = saved[i];
	free(t->view);
	t->view = v;
	t->nview = n;
	free(vips);
	free(rank);
	free(bes);
	free(saved);
	return 0;
}

/*
 * One refresh: a "stats" and a "backend-list" reply. With prime, only the
 * sample is kept (after a pause: the next rates are over one interval, not
 * over the pause). 0, or an exit code with t->err set.
 */
static int tick(struct top *t, int prime)
{
	json_object *stats, *list;
	struct sample s;
	struct timespec wall;
	struct rates r;
	int code = 0;

	stats = xlb_fetch(t->x->sock, "stats", TOP_TIMEOUT_MS, t->err, sizeof(t->err), &code);
	if (!stats)
		return code;
	clock_gettime(CLOCK_REALTIME, &wall);
	if (sample_parse(stats, now_mono(), &wall, &s)) {
		json_object_put(stats);
		snprintf(t->err, sizeof(t->err), "stats: xlbd's reply has no counters");
		return EXIT_UNREACHABLE;
	}
	json_object_put(stats);
	t->err[0] = 0;
	list = prime ? NULL
		     : xlb_fetch(t->x->sock, "backend-list", TOP_TIMEOUT_MS, t->err, sizeof(t->err),
				 &code);
	/* No earlier sample: rates against itself, over 0 s, are none. */
	if (!prime && !rates_compute(t->have_last ? &t->last : &s, &s, &r)) {
		if (build_lines(t, &r, list) || sort_view(t))
			snprintf(t->err, sizeof(t->err), "out of memory");
		t->shown = s.wall.tv_sec;
		rates_free(&r);
	}
	json_object_put(list);
	if (t->have_last)
		sample_free(&t->last);
	t->last = s;
	t->have_last = 1;
	return 0;
}

/* ---- the screen -------------------------------------------------------- */

static void fmt_rate(char *buf, size_t len, int valid, double v)
{
	static const char units[] = " kMGTP";
	int u = 0;

	if (!valid) {
		snprintf(buf, len, "-");
		return;
	}
	if (v < 0.05) {
		snprintf(buf, len, "0");
		return;
	}
	if (v < 10) {
		snprintf(buf, len, "%.1f", v);
		return;
	}
	while (v >= (u ? 999.95 : 999.5) && u < 5) { /* what %.0f, %.1f would round up */
		v /= 1000;
		u++;
	}
	if (!u)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.1f%c", v, units[u]);
}

static void fmt_int(char *buf, size_t len, int64_t v)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%lld", (long long)v);
}

static void col_pps(const struct line *l, char *b, size_t n)
{
	fmt_rate(b, n, l->valid, l->pps);
}

static void col_bits(const struct line *l, char *b, size_t n)
{
	fmt_rate(b, n, l->valid, l->bitps);
}

static void col_new(const struct line *l, char *b, size_t n)
{
	if (l->is_vip)
		fmt_rate(b, n, l->valid, l->newps);
	else
		snprintf(b, n, "%s", ""); /* counted per VIP only */
}

static void col_flows(const struct line *l, char *b, size_t n)
{
	fmt_int(b, n, l->flows);
}

static void col_health(const struct line *l, char *b, size_t n)
{
	snprintf(b, n, "%s", l->health);
}

static void col_admin(const struct line *l, char *b, size_t n)
{
	snprintf(b, n, "%s", l->admin);
}

static void col_state(const struct line *l, char *b, size_t n)
{
	snprintf(b, n, "%s", l->state);
}

static void col_weight(const struct line *l, char *b, size_t n)
{
	if (l->is_vip)
		snprintf(b, n, "%s", "");
	else
		fmt_int(b, n, l->weight);
}

/* The columns after the name. */
struct col {
	const char *heading;
	int width, right, sort; /* sort: the key it shows, or -1 */
	void (*fmt)(const struct line *l, char *buf, size_t len);
};

// clang-format off
static const struct col cols[] = {
	{"PKTS/S", 8, 1, SORT_PPS,   col_pps},
	{"BITS/S", 8, 1, SORT_BITS,  col_bits},
	{"NEW/S",  7, 1, -1,         col_new},
	{"FLOWS",  8, 1, SORT_FLOWS, col_flows},
	{"HEALTH", 8, 0, -1,         col_health},
	{"ADMIN",  8, 0, -1,         col_admin},
	{"STATE",  8, 0, -1,         col_state},
	{"WEIGHT", 6, 1, -1,         col_weight},
};
// clang-format on

#define NCOL (sizeof(cols) / sizeof(cols[0]))

/* The longest name; on a narrow screen the columns on the right go first,
 * down to packets/s and bits/s. */
static int name_width(const struct top *t)
{
	int w = 4, rest = 2 + cols[0].width + cols[1].width;
	for (size_t i = 0; i < t->nview; i++) {
		const struct line *l = t->view[i];
		int n = l->is_vip ? (int)strlen(l->vip) : 2 + (int)strlen(l->addr);

		if (n > w)
			w = n;
	}
	if (w > COLS - rest)
		w = COLS - rest;
	return w < 10 ? 10 : w;
}

static int rows(void)
{
	return LINES > 3 ? LINES - 3 : 0;
}

static void draw(struct top *t)
{
	char buf[1024], cell[64], ts[16];
	int nw = name_width(t), len;
	size_t nbe = 0;
	struct tm tm;

	for (size_t i = 0; i < t->nview; i++)
		nbe += !t->view[i]->is_vip;
	localtime_r(&t->shown, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	erase();
	snprintf(buf, sizeof(buf),
		 "xlb top%s  %s  VIPs %zu  backends %zu  %s  every %gs  sort %s%s",
		 t->paused ? "  PAUSED" : "", t->iface, t->nvl, nbe, ts, t->x->interval,
		 sort_names[t->sort], t->reverse ? " (reversed)" : "");
	attron(A_BOLD);
	mvaddnstr(0, 0, buf, COLS);
	attroff(A_BOLD);
	if (t->err[0]) {
		snprintf(buf, sizeof(buf), "no update: %s", t->err);
		attron(A_BOLD);
		mvaddnstr(1, 0, buf, COLS);
		attroff(A_BOLD);
	} else {
		mvaddnstr(1, 0, "q quit  s sort  r reverse  space pause  arrows/PgUp/PgDn scroll",
			  COLS);
	}
	attron(A_REVERSE);
	mvhline(2, 0, ' ', COLS);
	len = snprintf(buf, sizeof(buf), "%-*s", nw, "NAME");
	for (size_t c = 0; c < NCOL; c++)
		len += snprintf(buf + len, sizeof(buf) - (size_t)len, " %*s",
				cols[c].right ? cols[c].width : -cols[c].width,
				cols[c].sort == t->sort ? "" : cols[c].heading);
	mvaddnstr(2, 0, buf, COLS);
	/* The sort column's heading underlined as well. */
	if (t->sort == SORT_NAME) {
		attron(A_UNDERLINE | A_BOLD);
		mvaddnstr(2, 0, "NAME", COLS);
		attroff(A_UNDERLINE | A_BOLD);
	}
	for (size_t c = 0, x = (size_t)nw; c < NCOL; x += 1 + (size_t)cols[c].width, c++) {
		int pad = cols[c].right ? cols[c].width - (int)strlen(cols[c].heading) : 0;

		if (cols[c].sort != t->sort || (int)x + 1 + pad >= COLS)
			continue;
		attron(A_UNDERLINE | A_BOLD);
		mvaddnstr(2, (int)x + 1 + pad, cols[c].heading, COLS - (int)x - 1 - pad);
		attroff(A_UNDERLINE | A_BOLD);
	}
	attroff(A_REVERSE);
	for (int y = 0; y < rows() && t->scroll + (size_t)y < t->nview; y++) {
		const struct line *l = t->view[t->scroll + (size_t)y];

		if (l->is_vip)
			len = snprintf(buf, sizeof(buf), "%-*.*s", nw, nw, l->vip);
		else
			len = snprintf(buf, sizeof(buf), "  %-*.*s", nw - 2, nw - 2, l->addr);
		for (size_t c = 0; c < NCOL && len < (int)sizeof(buf); c++) {
			cols[c].fmt(l, cell, sizeof(cell));
			len += snprintf(buf + len, sizeof(buf) - (size_t)len, " %*.*s",
					cols[c].right ? cols[c].width : -cols[c].width,
					cols[c].width, cell);
		}
		if (l->is_vip)
			attron(A_BOLD);
		mvaddnstr(3 + y, 0, buf, COLS);
		if (l->is_vip)
			attroff(A_BOLD);
	}
	refresh();
}

static void scroll_by(struct top *t, long d)
{
	long max = (long)t->nview - rows(), s = (long)t->scroll + d;

	if (s > max)
		s = max;
	if (s < 0)
		s = 0;
	t->scroll = (size_t)s;
}

/* 1 when the key quits. */
static int key(struct top *t, int ch)
{
	switch (ch) {
	case 'q':
	case 'Q':
		return 1;
	case 's':
	case 'S':
		t->sort = (t->sort + 1) % NSORT;
		t->reverse = 0;
		sort_view(t);
		break;
	case 'r':
	case 'R':
		t->reverse = !t->reverse;
		sort_view(t);
		break;
	case ' ':
	case 'p':
	case 'P':
		t->paused = !t->paused;
		if (!t->paused)
			tick(t, 1);
		break;
	case KEY_UP:
	case 'k':
		scroll_by(t, -1);
		break;
	case KEY_DOWN:
	case 'j':
		scroll_by(t, 1);
		break;
	case KEY_PPAGE:
		scroll_by(t, -rows());
		break;
	case KEY_NPAGE:
		scroll_by(t, rows());
		break;
	case KEY_HOME:
	case 'g':
		scroll_by(t, -(long)t->nview);
		break;
	case KEY_END:
	case 'G':
		scroll_by(t, (long)t->nview);
		break;
	case 12: /* ^L */
		clearok(curscr, TRUE);
		break;
	case KEY_RESIZE: /* ncurses turned SIGWINCH into this; LINES, COLS are new */
		scroll_by(t, 0);
		break;
	default:
		break;
	}
	return 0;
}

static void top_free(struct top *t)
{
	if (t->have_last)
		sample_free(&t->last);
	free(t->vl);
	free(t->bl);
	free(t->view);
}

int top_run(const struct cmd *c, const struct ctx *x)
{
	struct top t = {.x = x};
	struct ctx cx = *x;
	json_object *status;
	SCREEN *scr;
	double next;
	int code;

	if (x->argc) {
		fprintf(stderr, "xlbctl: %s: unexpected '%s'; usage: xlbctl %s [-i SECONDS]\n",
			c->words, x->argv[0], c->words);
		return EXIT_USAGE;
	}
	if (x->json) {
		fprintf(stderr, "xlbctl: top: no JSON view; for rates as JSON use 'xlbctl -j stats "
				"-i 1'\n");
		return EXIT_USAGE;
	}
	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
		fprintf(stderr,
			"xlbctl: top: needs a terminal (%s is not one); for rates in a pipe or "
			"a log use 'xlbctl stats -i 1'\n",
			isatty(STDOUT_FILENO) ? "stdin" : "stdout");
		return EXIT_USAGE;
	}
	if (!cx.interval)
		cx.interval = 1;
	t.x = &cx;
	/* Before the screen is taken: an unreachable xlbd is a plain message. */
	status = xlb_fetch(x->sock, "status", TOP_TIMEOUT_MS, t.err, sizeof(t.err), &code);
	if (!status) {
		fprintf(stderr, "xlbctl: %s\n", t.err);
		return code;
	}
	snprintf(t.iface, sizeof(t.iface), "%s (%s)", get_str(status, "interface"),
		 get_str(status, "xdp_mode"));
	json_object_put(status);
	code = tick(&t, 0);
	if (code) {
		fprintf(stderr, "xlbctl: %s\n", t.err);
		top_free(&t);
		return code;
	}
	scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		fprintf(stderr,
			"xlbctl: top: couldn't use the terminal '%s'; set TERM, e.g. "
			"TERM=xterm\n",
			getenv("TERM") ? getenv("TERM") : "");
		top_free(&t);
		return EXIT_USAGE;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	next = now_mono() + cx.interval;
	for (;;) {
		double left = next - now_mono();
		int ch;

		draw(&t);
		timeout(left > 0 ? (int)(left * 1000) + 1 : 0);
		ch = getch();
		if (ch != ERR && key(&t, ch))
			break;
		if (now_mono() < next)
			continue;
		if (!t.paused)
			tick(&t, 0);
		next += cx.interval;
		if (next < now_mono())
			next = now_mono() + cx.interval;
	}
	endwin();
	delscreen(scr);
	top_free(&t);
	return 0;
}
