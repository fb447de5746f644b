// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* JSON written into a strbuf (jsonw.h): the same bytes as json-c's plain
 * serializer for the same object, and a raw member serializes as itself. */
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "test_unit.h"

static int t_jsonw_same_bytes_as_json_c(void)
{
	static const char *const strs[] = {
		"",
		"10.0.0.1:80/tcp",
		"quote \" back \\ slash /",
		"\b\f\n\r\t",
		"\x01\x1f ctl",
		"caf\xc3\xa9 utf-8",
		"tcp check timeout",
	};
	static const long long ints[] = {
		0, 1, -1, 65535, -9223372036854775807LL - 1, 9223372036854775807LL};
	static const double dbls[] = {0, 1, 0.5, 1.25, 0.001, 123.456, 1e21, -2.5, 1.0 / 3};
	json_object *o = json_object_new_object();
	struct strbuf b = {0};
	char key[16];
	const char *want;
	int n = 0;

	sb_char(&b, '{');
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		snprintf(key, sizeof(key), "s%zu/", i);
		json_object_object_add(o, key, json_object_new_string(strs[i]));
		jw_kstr(&b, &n, key, strs[i]);
	}
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		snprintf(key, sizeof(key), "i%zu", i);
		json_object_object_add(o, key, json_object_new_int64(ints[i]));
		jw_kint(&b, &n, key, ints[i]);
	}
	for (size_t i = 0; i < sizeof(dbls) / sizeof(dbls[0]); i++) {
		snprintf(key, sizeof(key), "d%zu", i);
		json_object_object_add(o, key, json_object_new_double(dbls[i]));
		jw_kdouble(&b, &n, key, dbls[i]);
	}
	json_object_object_add(o, "t", json_object_new_boolean(1));
	jw_kbool(&b, &n, "t", 1);
	json_object_object_add(o, "f", json_object_new_boolean(0));
	jw_kbool(&b, &n, "f", 0);
	sb_char(&b, '}');
	want = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	ASSERT_TRUE(!b.oom, "no oom");
	ASSERT_MEM(b.p, b.len, want, strlen(want), "as json-c writes it");
	json_object_put(o);
	sb_free(&b);
	return 0;
}

static int t_jsonw_raw_member_is_itself(void)
{
	json_object *o = json_object_new_object(), *raw, *back, *arr;
	struct strbuf b = {0};
	const char *text;
	int n = 0;

	sb_str(&b, "[{");
	jw_kstr(&b, &n, "address", "10.0.0.2");
	jw_kint(&b, &n, "weight", 3);
	sb_str(&b, "}]");
	raw = jw_raw(&b);
	ASSERT_TRUE(raw != NULL, "raw");
	ASSERT_TRUE(b.p == NULL && b.len == 0, "taken over");
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "backends", raw);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	ASSERT_MEM(text, strlen(text),
		   "{\"ok\":true,\"backends\":[{\"address\":\"10.0.0.2\",\"weight\":3}]}",
		   strlen("{\"ok\":true,\"backends\":[{\"address\":\"10.0.0.2\",\"weight\":3}]}"),
		   "inline");
	back = json_tokener_parse(text);
	ASSERT_TRUE(back && json_object_object_get_ex(back, "backends", &arr) &&
			    json_object_array_length(arr) == 1,
		    "a client reads one backend");
	json_object_put(back);
	json_object_put(o);
	return 0;
}

const struct harness_case jsonw_cases[] = {
	{"jsonw_same_bytes_as_json_c", t_jsonw_same_bytes_as_json_c},
	{"jsonw_raw_member_is_itself", t_jsonw_raw_member_is_itself},
};
const size_t jsonw_ncases = sizeof(jsonw_cases) / sizeof(jsonw_cases[0]);
