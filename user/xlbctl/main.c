// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlbctl: the command line of xlbd. Each command is one JSON request on the
 * control socket (user/xlbd/ctl.c); the reply is printed as an aligned
 * table, or as JSON with -j.
 *
 * Exit codes: 0 done; 1 xlbd refused the request (the message says why,
 * nothing changed); 2 bad usage; 3 xlbd cannot be reached.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "xlbctl.h"

#define DEFAULT_SOCKET "/run/xlb/xlbd.sock"

static const struct opt vip_opts[] = {
	{"mode", "mode", OPT_STR},
	{"hash", "hash", OPT_STR},
	{"on-empty", "on_empty", OPT_STR},
	{"table-size", "table_size", OPT_INT},
	{"check", "check", OPT_STR},
	{"panic-threshold", "panic_threshold", OPT_INT},
	{"slow-start", "slow_start", OPT_STR},
	{"drain-timeout", "drain_timeout", OPT_STR},
	{"announce", "announce", OPT_STR},
	{"flow-state", "flow_state", OPT_STR},
	{"handover", "handover", OPT_STR},
	{"syn-retry", "syn_retry", OPT_STR},
	{"outlier", "outlier", OPT_STR},
	{},
};
static const struct opt backend_opts[] = {
	{"weight", "weight", OPT_INT},
	{"check-port", "check_port", OPT_INT},
	{"backup", "backup", OPT_BOOL},
	{"check", "check", OPT_STR},
	{},
};

static const struct flag stats_flags[] = {
	{'i', "SECONDS", FLAG_SECONDS, offsetof(struct ctx, interval),
	 "rates over every SECONDS (0.5, 1, 10), like ipvsadm --stats --rate"},
	{'c', "COUNT", FLAG_COUNT, offsetof(struct ctx, count),
	 "with -i: stop after COUNT intervals (default: until interrupted)"},
	{},
};
static const struct flag top_flags[] = {
	{'i', "SECONDS", FLAG_SECONDS, offsetof(struct ctx, interval),
	 "refresh every SECONDS (default 1)"},
	{},
};

static const struct flag wait_flags[] = {
	{'t', "SECONDS", FLAG_SECONDS, offsetof(struct ctx, timeout),
	 "give up after SECONDS (exit 4); default: wait until safe"},
	{},
};

static const struct cmd cmds[] = {
	{"status", "status", "", 0, NULL,
	 "per VIP and backend: admin, health, weights, since, last check, flows", NULL, NULL},
	{"events", "events", "", 0, NULL,
	 "recent transitions: health, admin, data-plane state, VIP empty, panic", NULL, NULL},
	{"stats", "stats", "", 0, NULL,
	 "packets and bytes per VIP and backend, drops; with -i, rates per second", stats_flags,
	 stats_run},
	{"top", "stats", "", 0, NULL,
	 "live view: rates, flows, health per VIP and backend; q quit, s sort, r reverse, space "
	 "pause",
	 top_flags, top_run},
	{"vip list", "vip-list", "", 0, NULL, "the VIPs", NULL, NULL},
	{"vip add", "vip-add", "vip", 1, vip_opts,
	 "VIP [mode dsr|ipip] [hash 5-tuple|source] [on-empty reject|drop|pass] [table-size N]\n"
	 "                   [check '{type: http, path: /, interval: 2s}'] [panic-threshold PCT]\n"
	 "                   [slow-start DURATION] [drain-timeout DURATION]\n"
	 "                   [announce when-usable|always|never]\n"
	 "                   [flow-state table|stateless] [handover DURATION]\n"
	 "                   [syn-retry another-backend|same-backend]\n"
	 "                   [outlier off|on|'{window: 10s, threshold: 50%, ...}']\n"
	 "                   (a tcp check that talks: check '{send: PING\\r\\n, expect: +PONG}')",
	 NULL, NULL},
	{"vip set", "vip-set", "vip", 1, vip_opts, "VIP [the options of vip add]", NULL, NULL},
	{"vip del", "vip-del", "vip", 1, NULL, "VIP", NULL, NULL},
	{"backend list", "backend-list", "vip", 0, NULL, "[VIP]", NULL, NULL},
	{"backend add", "backend-add", "vip address", 2, backend_opts,
	 "VIP ADDRESS [weight 0-65535] [backup yes|no] [check '{port: 8080, interval: 1s}']", NULL,
	 NULL},
	{"backend set", "backend-set", "vip address", 2, backend_opts,
	 "VIP ADDRESS [the options of backend add]", NULL, NULL},
	{"backend del", "backend-del", "vip address", 2, NULL, "VIP ADDRESS", NULL, NULL},
	{"backend drain", "backend-drain", "vip address", 2, NULL,
	 "VIP ADDRESS: no new flows; established ones stay (rolling upgrade)", NULL, NULL},
	{"backend enable", "backend-enable", "vip address", 2, NULL, "VIP ADDRESS: back in service",
	 NULL, NULL},
	{"backend disable", "backend-disable", "vip address", 2, NULL,
	 "VIP ADDRESS: out of service; its flows move at once", NULL, NULL},
	{"config dump", "config-dump", "", 0, NULL, "print the running config as YAML", NULL, NULL},
	{"apply", "apply", "", 0, NULL,
	 "-f FILE [--dry-run]: make the running config FILE; prints what changed\n"
	 "                   (--dry-run: what would change, with the live flows of what goes)",
	 NULL, NULL},
	{"reload", "reload", "", 0, NULL,
	 "[--dry-run]: make the running config the file xlbd was started with (-c FILE)", NULL,
	 NULL},
	{"detach", "detach", "", 0, NULL,
	 "stop forwarding: remove the program, maps, then xlbd exits", NULL, NULL},
	{"maintenance on", "maintenance", "vip", 0, NULL,
	 "[VIP]: withdraw the host's (or VIP's) announcements; kept over restarts", NULL,
	 maint_run},
	{"maintenance off", "maintenance", "vip", 0, NULL,
	 "[VIP]: announce again (without VIP: end every maintenance)", NULL, maint_run},
	{"maintenance wait", "maintenance-status", "", 0, NULL,
	 "until safe to stop (exit 0), or -t SECONDS passed (exit 4)", wait_flags, maint_run},
	{"maintenance", "maintenance-status", "", 0, NULL,
	 "who is in maintenance, packets still arriving, whether safe to stop", NULL, maint_run},
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void flag_help(FILE *f, const struct cmd *c, const char *indent)
{
	for (const struct flag *fl = c->flags; fl && fl->letter; fl++)
		fprintf(f, "%s-%c %-9s %s\n", indent, fl->letter, fl->metavar, fl->help);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xlbctl [-j] [-s SOCKET] COMMAND [ARGS]\n\n");
	for (size_t i = 0; i < NCMDS; i++) {
		fprintf(f, "  %-16s %s\n", cmds[i].words, cmds[i].help);
		flag_help(f, &cmds[i], "                     ");
	}
	fprintf(f, "\nVIP is ADDRESS:PORT/PROTOCOL, e.g. 10.0.0.10:80/tcp or "
		   "[2001:db8::1]:443/udp (port 0 = every port).\n"
		   "  -j          print the reply as JSON\n"
		   "  -s SOCKET   control socket (default " DEFAULT_SOCKET ")\n"
		   "Exit codes: 0 done, 1 refused by xlbd, 2 bad usage, 3 xlbd not reachable,\n"
		   "4 maintenance wait: not safe before -t SECONDS.\n");
}

/* "xlbctl stats --help" */
static void cmd_usage(FILE *f, const struct cmd *c)
{
	if (!c->flags) {
		fprintf(f, "usage: xlbctl %s %s\n", c->words, c->help);
		return;
	}
	fprintf(f, "usage: xlbctl [-j] [-s SOCKET] %s", c->words);
	for (const struct flag *fl = c->flags; fl->letter; fl++)
		fprintf(f, " [-%c %s]", fl->letter, fl->metavar);
	fprintf(f, "\n%s\n", c->help);
	flag_help(f, c, "  ");
}

/* Take the command's flags out of argv, into x; the rest stays, in order. */
static int parse_flags(const struct cmd *c, struct ctx *x)
{
	int kept = 0;

	for (int i = 0; i < x->argc; i++) {
		const char *a = x->argv[i], *val;
		const struct flag *fl = c->flags;
		char *end;

		if (!c->flags || a[0] != '-' || !a[1] || !strcmp(a, "--help")) {
			x->argv[kept++] = x->argv[i];
			continue;
		}
		while (fl->letter && fl->letter != a[1])
			fl++;
		if (!fl->letter) {
			fprintf(stderr, "xlbctl: %s: unknown option '%s'\n", c->words, a);
			goto bad;
		}
		val = a[2] ? a + 2 : i + 1 < x->argc ? x->argv[++i] : NULL;
		if (!val) {
			fprintf(stderr, "xlbctl: %s: -%c needs %s\n", c->words, fl->letter,
				fl->metavar);
			goto bad;
		}
		errno = 0;
		if (fl->type == FLAG_SECONDS) {
			double v = strtod(val, &end);

			if (errno || end == val || *end || !isfinite(v) || v < 0.1 || v > 86400) {
				fprintf(stderr,
					"xlbctl: %s: -%c '%s': not a number of seconds from 0.1 "
					"to 86400\n",
					c->words, fl->letter, val);
				goto bad;
			}
			memcpy((char *)x + fl->offset, &v, sizeof(v));
		} else {
			long v = strtol(val, &end, 10);

			if (errno || end == val || *end || v < 1) {
				fprintf(stderr, "xlbctl: %s: -%c '%s': not a whole number from 1\n",
					c->words, fl->letter, val);
				goto bad;
			}
			memcpy((char *)x + fl->offset, &v, sizeof(v));
		}
	}
	x->argc = kept;
	return 0;
bad:
	cmd_usage(stderr, c);
	return -EINVAL;
}

/* Number of words of cmd->words that argv's words match or begin, or 0;
 * *exact: all of them were typed in full. */
static int match(const struct cmd *c, char **argv, int argc, int *exact)
{
	char words[64], *save = NULL;
	int n = 0;

	*exact = 1;
	snprintf(words, sizeof(words), "%s", c->words);
	for (char *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save), n++) {
		size_t len = n < argc ? strlen(argv[n]) : 0;

		if (!len || strncmp(argv[n], w, len))
			return 0;
		*exact &= len == strlen(w);
	}
	return n;
}

/* The whole file; NULL with errno set (EFBIG: over the control socket's
 * request limit, which the reply would only call truncated). */
static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	buf = malloc(CTL_MAX_YAML + 2);
	if (buf) {
		len = fread(buf, 1, CTL_MAX_YAML + 1, f);
		buf[len] = 0;
		if (len > CTL_MAX_YAML) {
			free(buf);
			buf = NULL;
			errno = EFBIG;
		}
	}
	fclose(f);
	return buf;
}

/* Take "--dry-run" (or "-n") out of the arguments: 1 when it was there. */
static int take_dry_run(char **argv, int *argc)
{
	int found = 0, n = 0;

	for (int i = 0; i < *argc; i++) {
		if (!strcmp(argv[i], "--dry-run") || !strcmp(argv[i], "-n"))
			found = 1;
		else
			argv[n++] = argv[i];
	}
	*argc = n;
	return found;
}

/* Build the request from the arguments after the command words. */
static json_object *build(const struct cmd *c, char **argv, int argc)
{
	json_object *req = json_object_new_object();
	char fields[32], *save = NULL;
	int i = 0;

	json_object_object_add(req, "verb", json_object_new_string(c->verb));
	if ((!strcmp(c->verb, "apply") || !strcmp(c->verb, "reload")) && take_dry_run(argv, &argc))
		json_object_object_add(req, "dry_run", json_object_new_boolean(1));
	if (!strcmp(c->verb, "apply")) {
		char *yaml;

		if (argc != 2 || strcmp(argv[0], "-f")) {
			fprintf(stderr, "xlbctl: apply needs -f FILE\n");
			goto bad;
		}
		yaml = read_file(argv[1]);
		if (!yaml) {
			if (errno == EFBIG)
				fprintf(stderr,
					"xlbctl: couldn't send '%s': larger than the control "
					"socket's %d KiB request limit; put it in xlbd's -c FILE "
					"and use 'xlbctl reload'\n",
					argv[1], CTL_MAX_YAML / 1024);
			else
				fprintf(stderr, "xlbctl: couldn't read '%s': %s\n", argv[1],
					strerror(errno));
			goto bad;
		}
		json_object_object_add(req, "yaml", json_object_new_string(yaml));
		free(yaml);
		return req;
	}
	snprintf(fields, sizeof(fields), "%s", c->args);
	for (char *f = strtok_r(fields, " ", &save); f; f = strtok_r(NULL, " ", &save)) {
		if (i >= argc) {
			if (i < c->min_args) {
				fprintf(stderr, "xlbctl: %s: missing %s; usage: xlbctl %s %s\n",
					c->words, f, c->words, c->help);
				goto bad;
			}
			break;
		}
		json_object_object_add(req, f, json_object_new_string(argv[i++]));
	}
	for (; i < argc; i += 2) {
		const struct opt *o = c->opts;
		char *end;

		while (o && o->arg && strcmp(o->arg, argv[i]))
			o++;
		if (!o || !o->arg || i + 1 >= argc) {
			fprintf(stderr, "xlbctl: %s: unexpected '%s'; usage: xlbctl %s %s\n",
				c->words, argv[i], c->words, c->help);
			goto bad;
		}
		if (o->type == OPT_BOOL) {
			const char *b = argv[i + 1];
			int yes = !strcmp(b, "yes") || !strcmp(b, "true") || !strcmp(b, "on");

			if (!yes && strcmp(b, "no") && strcmp(b, "false") && strcmp(b, "off")) {
				fprintf(stderr, "xlbctl: %s '%s': use yes or no\n", o->arg, b);
				goto bad;
			}
			json_object_object_add(req, o->field, json_object_new_boolean(yes));
		} else if (o->type == OPT_INT) {
			long long v = strtoll(argv[i + 1], &end, 10);

			if (!*argv[i + 1] || *end) {
				fprintf(stderr, "xlbctl: %s '%s': not a whole number\n", o->arg,
					argv[i + 1]);
				goto bad;
			}
			json_object_object_add(req, o->field, json_object_new_int64(v));
		} else {
			json_object_object_add(req, o->field, json_object_new_string(argv[i + 1]));
		}
	}
	return req;
bad:
	json_object_put(req);
	return NULL;
}

/* "changes" of apply and reload: one line each, like a diff. */
static void print_changes(json_object *reply)
{
	json_object *v, *dry, *f;
	size_t n;

	if (!json_object_object_get_ex(reply, "changes", &v))
		return;
	n = json_object_array_length(v);
	for (size_t i = 0; i < n; i++) {
		json_object *ch = json_object_array_get_idx(v, i);
		const char *be = json_object_object_get_ex(ch, "backend", &f)
					 ? json_object_get_string(f)
					 : NULL;
		const char *what = get_str(ch, "what");

		printf("%s %-7s %s%s%s", get_str(ch, "change"), be ? "backend" : "vip",
		       get_str(ch, "vip"), be ? " " : "", be ? be : "");
		if (*what)
			printf(": %s", what);
		if (json_object_object_get_ex(ch, "live_flows", &f))
			printf(" (%lld live flows)", (long long)json_object_get_int64(f));
		printf("\n");
	}
	if (json_object_object_get_ex(reply, "dry_run", &dry) && json_object_get_boolean(dry))
		printf("dry run: %zu change%s, nothing applied\n", n, n == 1 ? "" : "s");
	else
		printf("%zu change%s applied\n", n, n == 1 ? "" : "s");
}

static long long get_ll(json_object *o, const char *k)
{
	json_object *f;

	return json_object_object_get_ex(o, k, &f) ? (long long)json_object_get_int64(f) : 0;
}

/* stats: the flow table's size, fill and lookups since its maps were made. */
static void print_flow_table(json_object *ft)
{
	long long size = get_ll(ft, "entries"), used = get_ll(ft, "used"),
		  hits = get_ll(ft, "hits"), misses = get_ll(ft, "misses");

	printf("\nflow table  %lld entries, %lld used (%.1f%%)\n", size, used,
	       size ? 100.0 * (double)used / (double)size : 0.0);
	printf("lookups     %lld hits, %lld misses (%.1f%% hit); %lld SYNs, %lld evictions\n", hits,
	       misses, hits + misses ? 100.0 * (double)hits / (double)(hits + misses) : 0.0,
	       get_ll(ft, "syns"), get_ll(ft, "evictions"));
}

static void print_reply(const struct cmd *c, json_object *reply)
{
	json_object *v;

	if (!strcmp(c->verb, "apply") || !strcmp(c->verb, "reload")) {
		print_changes(reply);
		return;
	}

	if (!strcmp(c->verb, "vip-list") && json_object_object_get_ex(reply, "vips", &v)) {
		static const char *const cols[] = {"vip",      "mode",	      "flow_state", "hash",
						   "on_empty", "table_size",  "backends",   "check",
						   "state",    "announcement"};
		table(v, cols, 10);
	} else if (!strcmp(c->verb, "backend-list") &&
		   json_object_object_get_ex(reply, "backends", &v)) {
		static const char *const cols[] = {"vip",   "address", "weight",
						   "admin", "health",  "state",
						   "flows", "mac",     "next_hop"};
		table(v, cols, 9);
	} else if (!strcmp(c->verb, "stats")) {
		static const char *const vcols[] = {"vip", "packets", "bytes", "no_backend_packets",
						    "new_flows"};
		static const char *const bcols[] = {"vip", "address", "packets", "bytes"};

		if (json_object_object_get_ex(reply, "vips", &v))
			table(v, vcols, 5);
		printf("\n");
		if (json_object_object_get_ex(reply, "backends", &v))
			table(v, bcols, 4);
		if (json_object_object_get_ex(reply, "reasons", &v)) {
			printf("\n");
			json_object_object_foreach(v, name, count)
			{
				if (json_object_get_int64(count))
					printf("%-26s %lld\n", name,
					       (long long)json_object_get_int64(count));
			}
		}
		if (json_object_object_get_ex(reply, "flow_table", &v))
			print_flow_table(v);
	} else if (!strcmp(c->verb, "config-dump")) {
		fputs(get_str(reply, "yaml"), stdout);
	} else if (!strcmp(c->verb, "status")) {
		static const char *const vcols[] = {
			"vip",	   "flow_state", "on_empty", "backends",	"in_table",
			"serving", "panic",	 "flows",    "slots_with_prev", "announcement"};
		static const char *const bcols[] = {
			"vip",	 "address", "admin", "health", "weight",      "effective_weight",
			"state", "outlier", "for",   "flows",  "last_result", "last_reason"};

		json_object_object_foreach(reply, key, val)
		{
			if (strcmp(key, "ok") && !json_object_is_type(val, json_type_array))
				printf("%-22s %s\n", key, json_object_get_string(val));
		}
		printf("\n");
		if (json_object_object_get_ex(reply, "vip_status", &v))
			table(v, vcols, 10);
		printf("\n");
		if (json_object_object_get_ex(reply, "backend_status", &v))
			table(v, bcols, 12);
	} else if (!strcmp(c->verb, "events")) {
		static const char *const cols[] = {"time", "kind", "vip",    "backend",
						   "from", "to",   "reason", "check_ms"};

		if (json_object_object_get_ex(reply, "events", &v))
			table(v, cols, 8);
	}
}

int run_request(const struct cmd *c, const struct ctx *x)
{
	json_object *req = build(c, x->argv, x->argc), *reply, *ok;
	int code;

	if (!req)
		return EXIT_USAGE;
	reply = call(x->sock, req, &code);
	json_object_put(req);
	if (!reply)
		return code;
	if (json_object_object_get_ex(reply, "ok", &ok) && json_object_get_boolean(ok)) {
		if (x->json)
			printf("%s\n",
			       json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PRETTY));
		else
			print_reply(c, reply);
		code = 0;
	} else {
		fprintf(stderr, "xlbctl: %s: %s\n", c->words, get_str(reply, "error"));
		if (x->json)
			printf("%s\n",
			       json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PRETTY));
		code = EXIT_REFUSED;
	}
	json_object_put(reply);
	return code;
}

int main(int argc, char **argv)
{
	struct ctx x = {.sock = DEFAULT_SOCKET};
	const struct cmd *c = NULL;
	int opt, words = 0;

	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("xlbctl " XLB_VERSION "\n");
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	while ((opt = getopt(argc, argv, "+js:h")) != -1) {
		switch (opt) {
		case 'j':
			x.json = 1;
			break;
		case 's':
			x.sock = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	/* A command by its words or unique prefixes of them ("b dr" = backend
	 * drain); an exact match wins over prefixes; ambiguity is an error. */
	const struct cmd *cand[NCMDS];
	int ncand = 0, cwords[NCMDS];

	for (size_t i = 0; i < NCMDS && !c; i++) {
		int exact, n = match(&cmds[i], argv + optind, argc - optind, &exact);

		if (n && exact) {
			c = &cmds[i];
			words = n;
		} else if (n) {
			cwords[ncand] = n;
			cand[ncand++] = &cmds[i];
		}
	}
	if (!c && ncand == 1) {
		c = cand[0];
		words = cwords[0];
	}
	if (!c && ncand > 1) {
		fprintf(stderr, "xlbctl: '");
		for (int i = 0; i < cwords[0]; i++)
			fprintf(stderr, "%s%s", i ? " " : "", argv[optind + i]);
		fprintf(stderr, "' is ambiguous:");
		for (int i = 0; i < ncand; i++)
			fprintf(stderr, "%s %s", i ? "," : "", cand[i]->words);
		fprintf(stderr, "; type more of it\n");
		return EXIT_USAGE;
	}
	if (!c) {
		if (optind < argc)
			fprintf(stderr, "xlbctl: unknown command '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (optind + words < argc && !strcmp(argv[optind + words], "--help")) {
		cmd_usage(stdout, c);
		return 0;
	}
	x.argv = argv + optind + words;
	x.argc = argc - optind - words;
	if (parse_flags(c, &x))
		return EXIT_USAGE;
	return c->run ? c->run(c, &x) : run_request(c, &x);
}
