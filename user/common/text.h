/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Text that the configuration carries: UTF-8 decoding, the characters a
 * field may hold, and quoting for YAML so a dump always loads again.
 *
 * YAML (and libyaml's reader) refuses raw C0 and C1 controls, DEL,
 * U+FFFE/U+FFFF and malformed UTF-8, and treats U+0085, U+2028 and U+2029
 * as line breaks. A double-quoted scalar can carry any code point as an
 * escape (\t, \x7f, \u2028, ...), so the dump escapes every code point that
 * is not printable; bytes that are not UTF-8 have no YAML spelling at all,
 * so the configuration refuses them (xlb_text_check).
 */
#ifndef XLB_TEXT_H
#define XLB_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* The code point at s (not at its NUL): its length in bytes (1-4) with
 * *cp, or -1 for a malformed, overlong, surrogate or out-of-range sequence. */
int xlb_utf8_next(const char *s, unsigned int *cp);

/* May cp appear unescaped inside a YAML double-quoted scalar? */
int xlb_yaml_printable(unsigned int cp);

/* s as a YAML double-quoted scalar, quotes included. Malformed bytes come
 * out as \xNN, which reads back as a different string: never dump text
 * that xlb_text_check() refuses. */
void xlb_yaml_quote(FILE *f, const char *s);

/* What a text field may hold; each rule includes the ones above it. */
enum xlb_text_rule {
	XLB_TEXT_UTF8 = 0,	 /* any valid UTF-8 (escaped in dumps) */
	XLB_TEXT_NO_CONTROL = 1, /* and no control character other than tab */
	XLB_TEXT_VISIBLE = 2,	 /* and only visible ASCII (0x21-0x7e) */
};

/* 0 when s follows rule; else -EINVAL and *bad = offset of the first
 * character that does not. */
int xlb_text_check(const char *s, enum xlb_text_rule rule, size_t *bad);

/* s with its non-printable characters escaped as the dump writes them,
 * for messages; cut to fit len (always NUL-terminated). */
const char *xlb_text_escape(const char *s, char *buf, size_t len);

/*
 * C escapes in s decoded into out (len bytes, its NUL included): \r \n \t
 * \\ and \xHH for 01-7f (00 would end the string, 80-ff is not a character
 * by itself). 0; -EINVAL with *bad = offset of the escape it does not know;
 * -E2BIG when the result does not fit.
 */
int xlb_text_unescape(const char *s, char *out, size_t len, size_t *bad);

#endif /* XLB_TEXT_H */
