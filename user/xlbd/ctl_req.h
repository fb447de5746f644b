/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A control request: who sent it, the JSON object it is, and its fields,
 * read with the messages the operator sees when one is missing or wrong.
 * Each sets err and returns -EINVAL (or NULL) on a bad field; nothing else
 * is touched.
 */
#ifndef XLBD_CTL_REQ_H
#define XLBD_CTL_REQ_H

#include <sys/types.h>
#include <linux/types.h>
#include <json-c/json.h>

#include "config.h"

/* Who sent a request (SO_PEERCRED of its connection). */
struct ctl_peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	/* Names the connection for a reply given later (ctl_server_reply);
	 * 0 when there is none to give it to. */
	unsigned long long ticket;
};

/* Parse one request (len bytes, no newline): the object (put it with
 * json_object_put) and its "verb" in *verb; NULL with err set when it is
 * not JSON, not an object or has no string verb. */
json_object *ctl_parse(const char *text, size_t len, const char **verb, struct xlb_err *err);

/* Format err, return -EINVAL. */
int ctl_bad(struct xlb_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A string field; NULL when absent (err set only if required) or not a
 * string (err set). */
const char *ctl_str(json_object *req, const char *name, int required, struct xlb_err *err);
/* Unsigned field up to max: 1 = present (*out set), 0 = absent, -EINVAL. */
int ctl_uint(json_object *req, const char *name, unsigned long max, unsigned long *out,
	     struct xlb_err *err);
/* A name from a list (from() gives -1 for unknown): 1, 0 absent, -EINVAL. */
int ctl_enum(json_object *req, const char *name, int (*from)(const char *), const char *choices,
	     __u8 *out, struct xlb_err *err);
/* "500ms", "2s", "1m": 1, 0 absent, -EINVAL. */
int ctl_duration(json_object *req, const char *name, __u32 *ms, struct xlb_err *err);

/* "10.0.0.10:80/tcp" or "[2001:db8::1]:443/udp" into v's address, family,
 * port and protocol (the rest of v zeroed). */
int ctl_parse_vip_name(const char *s, struct xlb_cfg_vip *v, struct xlb_err *err);
/* The request's "vip" in c; NULL with err set if absent, malformed or not
 * there. */
struct xlb_cfg_vip *ctl_req_vip(json_object *req, struct xlb_cfg *c, struct xlb_err *err);
/*
 * A maintenance request, {"state": "on"|"off", "vip": NAME (optional)}:
 * *on, and the VIP's name as xlbd writes it into vip (len bytes; "" for
 * the host). Any peer may ask: an operator action, not code. The VIP need
 * not be configured here (ending the maintenance of a deleted one). 0 or
 * -EINVAL with err set.
 */
int ctl_req_maintenance(json_object *req, int *on, char *vip, size_t len, struct xlb_err *err);
/* The request's "address". */
int ctl_req_addr(json_object *req, union xlb_addr *a, __u8 *family, struct xlb_err *err);

#endif /* XLBD_CTL_REQ_H */
