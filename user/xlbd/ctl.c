// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xlbd's control requests: dispatch, changes recorded with who made them;
 * see ctl.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_conn.h"
#include "ctl_change.h"
#include "ctl_diff.h"
#include "events.h"
#include "log.h"

/* A change went through: one event naming the verb, its object and who. */
static void record_change(struct ctl_agent *a, const struct ctl_peer *peer, const char *verb,
			  json_object *req)
{
	struct event e = {.by_peer = 1, .uid = peer->uid, .pid = peer->pid};
	struct xlb_err ignore = {};
	const char *vip = req ? ctl_str(req, "vip", 0, &ignore) : NULL;
	const char *addr = req ? ctl_str(req, "address", 0, &ignore) : NULL;

	snprintf(e.kind, sizeof(e.kind), "change");
	snprintf(e.vip, sizeof(e.vip), "%s", vip ? vip : "");
	snprintf(e.backend, sizeof(e.backend), "%s", addr ? addr : "");
	snprintf(e.to, sizeof(e.to), "%s", verb);
	snprintf(e.reason, sizeof(e.reason), "%s by uid %u pid %d", verb, (unsigned int)peer->uid,
		 (int)peer->pid);
	event_add(a->events, &e);
}

/*
 * A change verb (c), or reload (c NULL): the next configuration, what it
 * changes into the reply, then (unless a dry run) applied. *applied: the
 * running configuration was changed. *later: the agent answers it later
 * (a reload read off the loop).
 */
static int change(struct ctl_agent *a, const struct ctl_change *c, json_object *req,
		  const struct ctl_peer *peer, json_object *reply, int *applied, int *later,
		  struct xlb_err *err)
{
	struct xlb_cfg next = {};
	json_object *changes, *o;
	int dry = json_object_object_get_ex(req, "dry_run", &o), ret;

	if (dry && !json_object_is_type(o, json_type_boolean))
		return ctl_bad(err, "field 'dry_run' must be true or false");
	dry = dry && json_object_get_boolean(o);
	if (!c && a->reload_start && peer->ticket) {
		ret = a->reload_start(a->ctx, peer, dry, err);
		*later = !ret;
		return ret;
	}
	ret = c ? ctl_change_make(c, req, peer, a->view.cfg, &next, err)
		: a->load_file(a->ctx, &next, err);
	if (ret)
		return ret;
	changes = ctl_diff_json(&a->view, &next);
	if (!dry) {
		ret = c ? a->apply(a->ctx, &next, err) : a->reload(a->ctx, &next, err);
		*applied = !ret;
		if (!ret)
			ctl_diff_log(changes, c ? "change" : "reload");
	}
	if (!ret && changes) {
		json_object_object_add(reply, "dry_run", json_object_new_boolean(dry));
		json_object_object_add(reply, "changes", changes);
		changes = NULL;
	}
	json_object_put(changes);
	xlb_cfg_free(&next); /* empty when apply took it over */
	return ret;
}

/* {"verb": "maintenance", "state": "on"|"off", "vip": "..." (optional)}:
 * an operator action, not code, so a --socket-group member may take it. */
static int maintenance(struct ctl_agent *a, json_object *req, struct xlb_err *err)
{
	char vip[80];
	int on, ret = ctl_req_maintenance(req, &on, vip, sizeof(vip), err);

	if (ret)
		return ret;
	if (!a->maintenance)
		return ctl_bad(err, "maintenance is not available here");
	return a->maintenance(a->ctx, vip[0] ? vip : NULL, on, err);
}

char *ctl_handle(struct ctl_agent *a, const struct ctl_peer *peer, const char *text, size_t len,
		 int *keep_open)
{
	json_object *reply = json_object_new_object(), *req, *o;
	const struct ctl_change *c = NULL;
	const struct ctl_query *q;
	struct xlb_err err = {};
	const char *verb;
	char *out;
	int ret = -EINVAL, applied = 0, later = 0;

	*keep_open = 0;
	if (!reply)
		return NULL;
	req = ctl_parse(text, len, &verb, &err);
	if (!req)
		goto out;
	if (json_object_object_get_ex(req, "keep_open", &o) &&
	    json_object_is_type(o, json_type_boolean))
		*keep_open = json_object_get_boolean(o);
	q = ctl_query_find(verb);
	c = q ? NULL : ctl_change_find(verb);
	if (q)
		ret = ctl_query_run(q, &a->view, req, reply, &err);
	else if (c || !strcmp(verb, "reload"))
		ret = change(a, c, req, peer, reply, &applied, &later, &err);
	else if (!strcmp(verb, "detach")) {
		ret = 0;
		applied = 1;
	} else if (!strcmp(verb, "maintenance")) {
		ret = maintenance(a, req, &err);
		applied = !ret;
	} else
		ctl_bad(&err, "unknown verb '%s'", verb);
	if (later) {
		json_object_put(req);
		json_object_put(reply);
		return CTL_REPLY_LATER;
	}
	if (!ret && applied) {
		record_change(a, peer, verb, req);
		if (!strcmp(verb, "detach"))
			a->detach(a->ctx);
	} else if (ret && (c || !strcmp(verb, "reload") || !strcmp(verb, "maintenance"))) {
		pr_info("control: %s from uid %u pid %d refused: %s\n", verb,
			(unsigned int)peer->uid, (int)peer->pid,
			err.msg[0] ? err.msg : strerror(-ret));
	}
out:
	if (ret && !err.msg[0])
		ctl_bad(&err, "%s", strerror(-ret));
	json_object_object_add(reply, "ok", json_object_new_boolean(!ret));
	if (ret)
		json_object_object_add(reply, "error", json_object_new_string(err.msg));
	json_object_put(req);
	out = strdup(json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN));
	json_object_put(reply);
	return out;
}

char *ctl_reload_reply(struct ctl_agent *a, const struct ctl_peer *peer, int dry, int applied,
		       json_object *changes, int ret, const struct xlb_err *err)
{
	json_object *reply = json_object_new_object();
	char *out;

	if (!reply) {
		json_object_put(changes);
		return NULL;
	}
	if (!ret && applied) {
		record_change(a, peer, "reload", NULL);
	} else if (ret) {
		pr_info("control: reload from uid %u pid %d refused: %s\n", (unsigned int)peer->uid,
			(int)peer->pid, err->msg[0] ? err->msg : strerror(-ret));
	}
	if (!ret && changes) {
		json_object_object_add(reply, "dry_run", json_object_new_boolean(dry));
		json_object_object_add(reply, "changes", changes);
		changes = NULL;
	}
	json_object_put(changes);
	json_object_object_add(reply, "ok", json_object_new_boolean(!ret));
	if (ret)
		json_object_object_add(
			reply, "error",
			json_object_new_string(err->msg[0] ? err->msg : strerror(-ret)));
	out = strdup(json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN));
	json_object_put(reply);
	return out;
}
