// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlbctl maintenance on|off [VIP], maintenance, maintenance wait [-t SECONDS]
 * (issue #13): take this host (or one VIP) out of the routers' ECMP sets
 * and see when it is safe to stop.
 *
 * xlbd samples the packets still arriving on each VIP in maintenance once
 * a second (announce.h), so the status is one request and "quiet since
 * the withdraw" does not depend on a client watching.
 *
 * Exit codes: 0 done (wait: safe to stop), 1 refused by xlbd (wait: not
 * in maintenance), 2 bad usage, 3 xlbd not reachable, 4 wait timed out
 * before it was safe.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "xlbctl.h"

#define EXIT_NOT_YET 4

static void print_status(json_object *st)
{
	json_object *v, *arr = json_object_new_array();
	size_t n;

	if (json_object_object_get_ex(st, "host", &v) && json_object_get_boolean(v)) {
		time_t since = (time_t)get_int(st, "host_since");
		struct tm tm;
		char ts[32] = "?";

		if (since > 0 && gmtime_r(&since, &tm))
			strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		printf("maintenance: the host, since %s\n", ts);
	}
	if (json_object_object_get_ex(st, "maintenance_vips", &v) &&
	    (n = json_object_array_length(v)) > 0) {
		printf("maintenance of VIPs:");
		for (size_t i = 0; i < n; i++)
			printf(" %s", json_object_get_string(json_object_array_get_idx(v, i)));
		printf("\n");
	}
	if (json_object_object_get_ex(st, "announcing", &v) && !json_object_get_boolean(v))
		printf("(the configuration has no 'announce:' block: this host announces "
		       "nothing)\n");
	if (json_object_object_get_ex(st, "vips", &v) && json_object_array_length(v)) {
		static const char *const cols[] = {"vip", "announced", "pkt/s", "quiet"};

		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *in = json_object_array_get_idx(v, i), *row, *b;
			char buf[48];

			row = json_object_new_object();
			json_object_object_add(row, "vip",
					       json_object_new_string(get_str(in, "vip")));
			json_object_object_get_ex(in, "announced", &b);
			json_object_object_add(
				row, "announced",
				json_object_new_string(json_object_get_boolean(b) ? "yes" : "no"));
			json_object_object_get_ex(in, "measured", &b);
			if (json_object_get_boolean(b)) {
				json_object_object_get_ex(in, "packets_per_second", &b);
				snprintf(buf, sizeof(buf), "%.0f", json_object_get_double(b));
				json_object_object_add(row, "pkt/s", json_object_new_string(buf));
				snprintf(buf, sizeof(buf), "%llds",
					 (long long)get_int(in, "quiet_ms") / 1000);
				json_object_object_add(row, "quiet", json_object_new_string(buf));
			} else {
				json_object_object_add(row, "pkt/s", json_object_new_string("-"));
				json_object_object_add(row, "quiet", json_object_new_string("-"));
			}
			json_object_array_add(arr, row);
		}
		table(arr, cols, 4);
	}
	json_object_put(arr);
	printf("%s\n", get_str(st, "verdict"));
}

static json_object *status(const struct ctx *x, int *code)
{
	char err[512];
	json_object *st = xlb_fetch(x->sock, "maintenance-status", 5000, err, sizeof(err), code);

	if (!st)
		fprintf(stderr, "xlbctl: %s\n", err);
	return st;
}

static int show(const struct ctx *x, json_object *st)
{
	if (x->json)
		printf("%s\n", json_object_to_json_string_ext(st, JSON_C_TO_STRING_PRETTY));
	else
		print_status(st);
	return 0;
}

static int is_true(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

static int wait_safe(const struct ctx *x)
{
	double deadline = x->timeout > 0 ? now_mono() + x->timeout : 0;
	char last[256] = "";
	int code;

	for (;;) {
		json_object *st = status(x, &code);
		const char *verdict;
		json_object *v;
		int safe, in_maint;

		if (!st)
			return code;
		verdict = get_str(st, "verdict");
		safe = is_true(st, "safe");
		in_maint = is_true(st, "host") ||
			   (json_object_object_get_ex(st, "maintenance_vips", &v) &&
			    json_object_array_length(v) > 0);
		if (!in_maint) {
			fprintf(stderr, "xlbctl: maintenance wait: not in maintenance, nothing to "
					"wait for; 'xlbctl maintenance on' first\n");
			json_object_put(st);
			return EXIT_REFUSED;
		}
		if (safe || (deadline && now_mono() >= deadline)) {
			show(x, st);
			json_object_put(st);
			if (!safe)
				fprintf(stderr, "xlbctl: maintenance wait: not safe after %gs\n",
					x->timeout);
			return safe ? 0 : EXIT_NOT_YET;
		}
		if (!x->json && strcmp(last, verdict)) {
			printf("%s\n", verdict);
			fflush(stdout);
			snprintf(last, sizeof(last), "%s", verdict);
		}
		json_object_put(st);
		usleep(500 * 1000);
	}
}

int maint_run(const struct cmd *c, const struct ctx *x)
{
	json_object *req, *reply, *ok, *st;
	int code, on = !strcmp(c->words, "maintenance on");

	if (!strcmp(c->words, "maintenance wait"))
		return x->argc ? EXIT_USAGE : wait_safe(x);
	if (!strcmp(c->words, "maintenance")) {
		if (x->argc) {
			fprintf(stderr, "xlbctl: maintenance: unexpected '%s'; use on, off, wait\n",
				x->argv[0]);
			return EXIT_USAGE;
		}
		st = status(x, &code);
		if (!st)
			return code;
		show(x, st);
		json_object_put(st);
		return 0;
	}
	if (x->argc > 1) {
		fprintf(stderr, "xlbctl: %s: unexpected '%s'; usage: xlbctl %s %s\n", c->words,
			x->argv[1], c->words, c->help);
		return EXIT_USAGE;
	}
	req = json_object_new_object();
	json_object_object_add(req, "verb", json_object_new_string("maintenance"));
	json_object_object_add(req, "state", json_object_new_string(on ? "on" : "off"));
	if (x->argc)
		json_object_object_add(req, "vip", json_object_new_string(x->argv[0]));
	reply = call(x->sock, req, &code);
	json_object_put(req);
	if (!reply)
		return code;
	if (!(json_object_object_get_ex(reply, "ok", &ok) && json_object_get_boolean(ok))) {
		fprintf(stderr, "xlbctl: %s: %s\n", c->words, get_str(reply, "error"));
		json_object_put(reply);
		return EXIT_REFUSED;
	}
	json_object_put(reply);
	st = status(x, &code);
	if (!st)
		return code;
	show(x, st);
	json_object_put(st);
	return 0;
}
