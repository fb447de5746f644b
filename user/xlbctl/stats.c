// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlbctl stats -i SECONDS [-c COUNT]: rates, like ipvsadm --stats --rate.
 * Fetch "stats", sleep, fetch again, print per VIP and per backend what the
 * counters grew by per second, over the time that really went by between
 * the two replies; repeat COUNT times (default: until interrupted).
 *
 *   15:39:49  interval 1.000 s
 *   vip                 packets/s  bytes/s  bits/s  new_flows/s  no_backend_packets/s
 *   10.99.100.1:80/tcp  120.0      9600     76800   30.0         0.0
 *
 *   vip                 address     packets/s  bytes/s  bits/s
 *   10.99.100.1:80/tcp  10.99.0.11  40.0       3200     25600
 *
 * A row that appeared or went away between the two samples, or whose
 * counters went back, shows "-" for its rates and new, gone or reset in a
 * last column "note". With -j, one JSON object a sample, one a line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "xlbctl.h"

/* Columns of the text tables: a counter's rate, printed with this format. */
struct rate_col {
	int ctr;
	int bits; /* bytes/s as bits/s */
	const char *heading, *fmt;
};

// clang-format off
static const struct rate_col vip_cols[] = {
	{CTR_PACKETS,    0, "packets/s",            "%.1f"},
	{CTR_BYTES,      0, "bytes/s",              "%.0f"},
	{CTR_BYTES,      1, "bits/s",               "%.0f"},
	{CTR_NEW_FLOWS,  0, "new_flows/s",          "%.1f"},
	{CTR_NO_BACKEND, 0, "no_backend_packets/s", "%.1f"},
};
static const struct rate_col be_cols[] = {
	{CTR_PACKETS, 0, "packets/s", "%.1f"},
	{CTR_BYTES,   0, "bytes/s",   "%.0f"},
	{CTR_BYTES,   1, "bits/s",    "%.0f"},
};
// clang-format on

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static const struct ctr_row *row_of(const struct rate *r)
{
	return r->cur ? r->cur : r->prev;
}

/* The rows as objects of strings, for table(); *notes: some row has one. */
static json_object *text_rows(const struct rate *r, size_t n, const struct rate_col *cols,
			      size_t ncols, int backends, int *notes)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object();
		char num[48];

		json_object_object_add(o, "vip", json_object_new_string(row_of(&r[i])->vip));
		if (backends)
			json_object_object_add(o, "address",
					       json_object_new_string(row_of(&r[i])->addr));
		for (size_t c = 0; c < ncols; c++) {
			double v = r[i].v[cols[c].ctr] * (cols[c].bits ? 8 : 1);

			if (r[i].valid)
				snprintf(num, sizeof(num), cols[c].fmt, v);
			else
				snprintf(num, sizeof(num), "-");
			json_object_object_add(o, cols[c].heading, json_object_new_string(num));
		}
		json_object_object_add(o, "note", json_object_new_string(rate_note(&r[i])));
		if (*rate_note(&r[i]))
			*notes = 1;
		json_object_array_add(arr, o);
	}
	return arr;
}

static void print_table(const struct rate *r, size_t n, const struct rate_col *cols, size_t ncols,
			int backends)
{
	const char *heads[12];
	int notes = 0, nh = 0;
	json_object *rows = text_rows(r, n, cols, ncols, backends, &notes);

	heads[nh++] = "vip";
	if (backends)
		heads[nh++] = "address";
	for (size_t c = 0; c < ncols; c++)
		heads[nh++] = cols[c].heading;
	if (notes)
		heads[nh++] = "note";
	table(rows, heads, nh);
	json_object_put(rows);
}

static void print_text(const struct rates *r, const struct sample *cur)
{
	struct tm tm;
	char ts[16];
	int any = 0;

	localtime_r(&cur->wall.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	printf("%s  interval %.3f s\n", ts, r->interval);
	print_table(r->vips, r->nvips, vip_cols, NCOLS(vip_cols), 0);
	printf("\n");
	print_table(r->bes, r->nbes, be_cols, NCOLS(be_cols), 1);
	for (size_t i = 0; i < r->nreasons; i++) {
		const struct rate *x = &r->reasons[i];

		if (!x->valid || x->v[CTR_PACKETS] <= 0)
			continue;
		if (!any++)
			printf("\nreasons/s\n");
		printf("%-26s %.1f\n", x->cur->vip, x->v[CTR_PACKETS]);
	}
	printf("\n");
}

static json_object *json_rows(const struct rate *r, size_t n, int backends)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		const struct ctr_row *row = row_of(&r[i]);
		json_object *o = json_object_new_object();

		json_object_object_add(o, "vip", json_object_new_string(row->vip));
		if (backends)
			json_object_object_add(o, "address", json_object_new_string(row->addr));
		for (int c = 0; c < NCTR; c++)
			if (!backends || ctr_fields[c].on_backends)
				json_object_object_add(o, ctr_fields[c].field,
						       json_object_new_int64((int64_t)row->v[c]));
		for (int c = 0; c < NCTR; c++) {
			if (backends && !ctr_fields[c].on_backends)
				continue;
			json_object_object_add(o, ctr_fields[c].rate_field,
					       r[i].valid ? json_rate(r[i].v[c]) : NULL);
			if (c == CTR_BYTES)
				json_object_object_add(o, "bits_per_s",
						       r[i].valid ? json_rate(r[i].v[c] * 8)
								  : NULL);
		}
		if (*rate_note(&r[i]))
			json_object_object_add(o, "note", json_object_new_string(rate_note(&r[i])));
		json_object_array_add(arr, o);
	}
	return arr;
}

static void print_json(const struct rates *r, const struct sample *cur)
{
	json_object *o = json_object_new_object(), *reasons = json_object_new_object();
	char ts[40];
	struct tm tm;

	localtime_r(&cur->wall.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03ld", cur->wall.tv_nsec / 1000000);
	json_object_object_add(o, "time", json_object_new_string(ts));
	json_object_object_add(o, "time_ms",
			       json_object_new_int64((int64_t)cur->wall.tv_sec * 1000 +
						     cur->wall.tv_nsec / 1000000));
	json_object_object_add(o, "interval_s", json_rate(r->interval));
	json_object_object_add(o, "vips", json_rows(r->vips, r->nvips, 0));
	json_object_object_add(o, "backends", json_rows(r->bes, r->nbes, 1));
	for (size_t i = 0; i < r->nreasons; i++)
		if (r->reasons[i].cur)
			json_object_object_add(reasons, r->reasons[i].cur->vip,
					       r->reasons[i].valid
						       ? json_rate(r->reasons[i].v[CTR_PACKETS])
						       : NULL);
	json_object_object_add(o, "reasons_per_s", reasons);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* One "stats" sample; 0 or an exit code, the message printed. */
static int take(const char *sock, struct sample *s)
{
	struct timespec wall;
	char err[512];
	int code = EXIT_UNREACHABLE, ret;
	json_object *reply;

	memset(s, 0, sizeof(*s));
	reply = xlb_fetch(sock, "stats", 0, err, sizeof(err), &code);
	if (!reply) {
		fprintf(stderr, "xlbctl: %s\n", err);
		return code;
	}
	clock_gettime(CLOCK_REALTIME, &wall);
	ret = sample_parse(reply, now_mono(), &wall, s);
	json_object_put(reply);
	if (ret) {
		fprintf(stderr, "xlbctl: stats: xlbd's reply has no counters: %s\n",
			strerror(-ret));
		return EXIT_UNREACHABLE;
	}
	return 0;
}

/* Sleep until the monotonic time t. */
static void sleep_until(double t)
{
	struct timespec ts = {.tv_sec = (time_t)t};

	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

int stats_run(const struct cmd *c, const struct ctx *x)
{
	struct sample prev = {0}, cur = {0};
	double next;
	int code;

	if (!x->interval && x->count) {
		fprintf(stderr, "xlbctl: stats: -c COUNT needs -i SECONDS\n");
		return EXIT_USAGE;
	}
	if (!x->interval)
		return run_request(c, x);
	code = take(x->sock, &prev);
	if (code)
		return code;
	next = prev.mono;
	for (long n = 0; !x->count || n < x->count; n++) {
		struct rates r;

		/* On the grid of the first sample: a slow reply delays no later one. */
		next += x->interval;
		if (next < now_mono())
			next = now_mono(); /* xlbd was slow: no burst to catch up */
		sleep_until(next);
		code = take(x->sock, &cur);
		if (code)
			break;
		if (rates_compute(&prev, &cur, &r)) {
			fprintf(stderr, "xlbctl: stats: out of memory\n");
			sample_free(&cur);
			code = EXIT_UNREACHABLE;
			break;
		}
		if (x->json)
			print_json(&r, &cur);
		else
			print_text(&r, &cur);
		fflush(stdout);
		rates_free(&r);
		sample_free(&prev);
		prev = cur;
	}
	sample_free(&prev);
	return code;
}
