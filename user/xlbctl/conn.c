// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xlbctl's side of the control socket (user/xlbd/ctl_conn.h): one JSON
 * request a connection, ended by a newline; one JSON reply, ended by a
 * newline. And the print helpers the commands share.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "xlbctl.h"

json_object *xlb_call(const char *path, json_object *req, int timeout_ms, char *err, size_t errlen,
		      int *code)
{
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	json_object *reply = NULL;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	*code = EXIT_UNREACHABLE;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || !buf || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		if (e == ENOENT || e == ECONNREFUSED)
			snprintf(err, errlen,
				 "xlbd is not running (nothing listens on '%s'); start it "
				 "with 'xlbd -c FILE'",
				 path);
		else if (e == EACCES)
			snprintf(err, errlen, "no permission to use '%s'; run as root", path);
		else
			snprintf(err, errlen, "couldn't connect to '%s': %s", path, strerror(e));
		goto out;
	}
	if (timeout_ms)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* send(): xlbd going away mid-request is an error, not a SIGPIPE. */
	if (send(fd, text, strlen(text), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		snprintf(err, errlen, "couldn't send the request: %s", strerror(errno));
		goto out;
	}
	/* One reply a line: done at its newline (xlbd closes after it too,
	 * unless a request asks to keep the connection open). */
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		int whole = memchr(buf + len, '\n', (size_t)n) != NULL;

		len += (size_t)n;
		if (whole)
			break;
		if (len + 1 == cap) {
			char *bigger = realloc(buf, cap * 2);

			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		}
	}
	buf[len] = 0;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		snprintf(err, errlen, "xlbd did not answer within %d ms", timeout_ms);
		goto out;
	}
	if (!len) {
		snprintf(err, errlen,
			 "xlbd closed the connection without a reply; try again, and if it "
			 "keeps happening see xlbd's log (journalctl -u xlbd): it may be "
			 "restarting or overloaded");
		goto out;
	}
	if (!memchr(buf, '\n', len)) {
		snprintf(err, errlen,
			 "xlbd closed the connection %zu bytes into its reply; try again, and if "
			 "it keeps happening see xlbd's log (journalctl -u xlbd)",
			 len);
		goto out;
	}
	reply = json_tokener_parse(buf);
	if (!reply)
		snprintf(err, errlen, "xlbd's reply is not JSON");
	else
		*code = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return reply;
}

json_object *call(const char *path, json_object *req, int *exit_code)
{
	char err[512];
	json_object *reply = xlb_call(path, req, 0, err, sizeof(err), exit_code);

	if (!reply)
		fprintf(stderr, "xlbctl: %s\n", err);
	return reply;
}

json_object *xlb_fetch(const char *path, const char *verb, int timeout_ms, char *err, size_t errlen,
		       int *code)
{
	json_object *req = json_object_new_object(), *reply, *ok;

	json_object_object_add(req, "verb", json_object_new_string(verb));
	reply = xlb_call(path, req, timeout_ms, err, errlen, code);
	json_object_put(req);
	if (reply &&
	    !(json_object_object_get_ex(reply, "ok", &ok) && json_object_get_boolean(ok))) {
		snprintf(err, errlen, "%s: %s", verb, get_str(reply, "error"));
		json_object_put(reply);
		reply = NULL;
		*code = EXIT_REFUSED;
	}
	return reply;
}

const char *get_str(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

int64_t get_int(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	return json_object_get_int64(v);
}

void table(json_object *arr, const char *const *cols, int ncols)
{
	size_t n = arr ? json_object_array_length(arr) : 0;
	int width[16] = {0};

	if (ncols > 16)
		ncols = 16;
	for (int c = 0; c < ncols; c++) {
		width[c] = (int)strlen(cols[c]);
		for (size_t i = 0; i < n; i++) {
			int w = (int)strlen(get_str(json_object_array_get_idx(arr, i), cols[c]));

			if (w > width[c])
				width[c] = w;
		}
	}
	for (int c = 0; c < ncols; c++)
		printf("%-*s%s", width[c], cols[c], c + 1 < ncols ? "  " : "\n");
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < ncols; c++)
			printf("%-*s%s", width[c],
			       get_str(json_object_array_get_idx(arr, i), cols[c]),
			       c + 1 < ncols ? "  " : "\n");
}

json_object *json_rate(double v)
{
	char s[48], *p;

	snprintf(s, sizeof(s), "%.3f", v);
	p = s + strlen(s) - 1;
	while (*p == '0')
		*p-- = 0;
	if (*p == '.')
		*p = 0;
	if (!strcmp(s, "-0"))
		strcpy(s, "0");
	return json_object_new_double_s(v, s);
}
