/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the files of xlbctl share: the command table's types, the control
 * socket client (conn.c), counter samples and their rates (rates.c), and
 * the commands that run on the client side: stats -i (stats.c), top (top.c).
 */
#ifndef XLBCTL_H
#define XLBCTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <json-c/json.h>

enum {
	EXIT_REFUSED = 1,
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3
};

/* ---- the command table (main.c) ---------------------------------------- */

/* Optional "name value" arguments and the request field each one sets. */
enum {
	OPT_STR,
	OPT_INT,
	OPT_BOOL
};

struct opt {
	const char *arg, *field;
	int type;
};

/* Client-side "-x VALUE" flags and the member of struct ctx each one sets. */
enum {
	FLAG_SECONDS, /* a positive number of seconds, decimals allowed */
	FLAG_COUNT    /* a positive whole number */
};

struct flag {
	char letter;
	const char *metavar;
	int type;
	size_t offset; /* in struct ctx */
	const char *help;
};

struct ctx;

struct cmd {
	const char *words; /* "backend add" */
	const char *verb;  /* control-socket verb */
	const char *args;  /* positional fields, space separated: "vip address" */
	int min_args;	   /* how many of them are required */
	const struct opt *opts;
	const char *help;
	const struct flag *flags; /* "-i SECONDS" before or after the arguments */
	/* Runs the command on the client side; NULL: one request, one reply. */
	int (*run)(const struct cmd *c, const struct ctx *x);
};

/* A command line, parsed. */
struct ctx {
	const char *sock;
	int json;
	char **argv; /* after the command words and flags */
	int argc;
	double interval; /* -i, seconds; 0 = not given */
	long count;	 /* -c; 0 = not given */
	double timeout;	 /* -t, seconds; 0 = not given */
};

/* One request, one reply, printed: the commands without a run function. */
int run_request(const struct cmd *c, const struct ctx *x);

/* ---- the control socket (conn.c) --------------------------------------- */

/*
 * Send req, return the reply. NULL when xlbd cannot be reached, answers
 * garbage or (timeout_ms > 0) not in time: *code is EXIT_UNREACHABLE and err
 * says why, in the CLI's words.
 */
json_object *xlb_call(const char *path, json_object *req, int timeout_ms, char *err, size_t errlen,
		      int *code);
/* The same, the message printed on stderr. */
json_object *call(const char *path, json_object *req, int *exit_code);
/* {"verb": verb} sent; NULL also when xlbd refuses (EXIT_REFUSED). */
json_object *xlb_fetch(const char *path, const char *verb, int timeout_ms, char *err, size_t errlen,
		       int *code);

const char *get_str(json_object *o, const char *k);
/* A whole-number field; -1 when absent or not a number. */
int64_t get_int(json_object *o, const char *k);
/* Print an array of objects as an aligned table of the given columns. */
void table(json_object *arr, const char *const *cols, int ncols);
/* A double that serializes as "12.5", not "12.500000000000002". */
json_object *json_rate(double v);

/* ---- counter samples and rates (rates.c: no socket, no terminal) ------- */

/* The counters of a "stats" reply, in the order of ctr_fields. */
enum {
	CTR_PACKETS,
	CTR_BYTES,
	CTR_NEW_FLOWS,
	CTR_NO_BACKEND,
	NCTR
};

struct ctr_field {
	const char *field;	/* in the "stats" reply */
	const char *rate_field; /* in stats -i -j */
	const char *heading;	/* in stats -i */
	int on_backends;	/* backends have it (VIPs have them all) */
};

extern const struct ctr_field ctr_fields[NCTR];

/* Largest YAML `apply -f` sends: xlbd takes requests of up to 64 KiB, and
 * JSON escaping (newlines, quotes) grows the text a little. */
#define CTL_MAX_YAML (60 * 1024)

#define XLBCTL_NAME 96 /* "[ffff:...:ffff]:65535/tcp" and then some */

/* One row of a "stats" reply: a VIP (addr ""), a backend, or a reason
 * (its name in vip, its count in v[CTR_PACKETS]). */
struct ctr_row {
	char vip[XLBCTL_NAME];
	char addr[64];
	uint64_t v[NCTR];
};

struct sample {
	double mono; /* CLOCK_MONOTONIC seconds when the reply came */
	struct timespec wall;
	struct ctr_row *vips, *bes, *reasons;
	size_t nvips, nbes, nreasons;
};

/* One row's rates between two samples. A row only in the later sample
 * (appeared) has no prev, one only in the earlier (gone) no cur; either way,
 * or when a counter went back (reset), valid is 0 and there is no rate. */
struct rate {
	const struct ctr_row *cur, *prev;
	int valid;
	double v[NCTR]; /* per second */
};

struct rates {
	double interval; /* seconds between the samples */
	struct rate *vips, *bes, *reasons;
	size_t nvips, nbes, nreasons;
};

/* 0, or -EINVAL when reply is not shaped like a "stats" reply, -ENOMEM. */
int sample_parse(json_object *reply, double mono, const struct timespec *wall, struct sample *s);
void sample_free(struct sample *s);
/* Rows in cur's order, then the ones gone since prev. 0 or -ENOMEM. */
int rates_compute(const struct sample *prev, const struct sample *cur, struct rates *r);
void rates_free(struct rates *r);
/* "new", "gone", "reset" or "" for a rate. */
const char *rate_note(const struct rate *r);
/* Row order by (vip, address); addresses compare as numbers. */
int ctr_key_cmp(const char *vip_a, const char *addr_a, const char *vip_b, const char *addr_b);

double now_mono(void);

/* ---- client-side commands ---------------------------------------------- */

int stats_run(const struct cmd *c, const struct ctx *x); /* stats.c */
int top_run(const struct cmd *c, const struct ctx *x);	 /* top.c */
int maint_run(const struct cmd *c, const struct ctx *x); /* maint.c */

#endif
