/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * JSON written straight into a strbuf, byte for byte as json-c's plain
 * serializer writes it, for replies too large to build as json-c objects:
 * `status` at 10,000 backends was 250,000 allocated objects and took the
 * event loop over a second; written here it is one growing buffer.
 * jw_raw() hands the text to a json-c reply as a member that serializes as
 * itself.
 *
 *   int n = 0;
 *   sb_char(b, '{');
 *   jw_kstr(b, &n, "vip", "10.0.0.1:80/tcp");   -> {"vip":"10.0.0.1:80\/tcp"
 *   jw_kint(b, &n, "weight", 3);                -> ,"weight":3
 *   sb_char(b, '}');
 */
#ifndef XLB_JSONW_H
#define XLB_JSONW_H

#include <json-c/json.h>

#include "strbuf.h"

/* s as a JSON string, escaped as json-c escapes it (its '/' too). */
void jw_str(struct strbuf *b, const char *s);
/* A member "key":value of an object; *n counts the members written so far
 * (a comma goes before every one but the first). */
void jw_key(struct strbuf *b, int *n, const char *k);
void jw_kstr(struct strbuf *b, int *n, const char *k, const char *v);
void jw_kint(struct strbuf *b, int *n, const char *k, long long v);
void jw_kbool(struct strbuf *b, int *n, const char *k, int v);
/* As json-c writes a double: %.17g, with ".0" when that looks integral. */
void jw_kdouble(struct strbuf *b, int *n, const char *k, double v);
/* A json-c value that serializes as b's text (a JSON value, taken over:
 * b is left empty); NULL when out of memory or b->oom. Only for output: it
 * reads as an empty array to json-c itself. */
json_object *jw_raw(struct strbuf *b);

#endif /* XLB_JSONW_H */
