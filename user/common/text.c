// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* UTF-8, the characters a field may hold, YAML quoting: see text.h. */
#include <errno.h>
#include <string.h>

#include "text.h"

int xlb_utf8_next(const char *str, unsigned int *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned int c = s[0], min;
	int n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, c &= 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3, c &= 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, c &= 0x07, min = 0x10000;
	} else {
		return -1; /* a continuation byte, an overlong lead, or above U+10FFFF */
	}
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return -1;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	return n;
}

int xlb_yaml_printable(unsigned int cp)
{
	if (cp >= 0x20 && cp <= 0x7e)
		return 1;
	if (cp == 0x2028 || cp == 0x2029) /* line breaks in YAML 1.1 */
		return 0;
	return (cp >= 0xa0 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd && cp != 0xfeff) ||
	       (cp >= 0x10000 && cp <= 0x10ffff);
}

/*
 * The spelling of the character at s inside double quotes, into out (at
 * least 11 bytes): its length in s.
 */
static int spell(const char *s, char *out)
{
	static const char short_esc[] = {
		['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r', ['"'] = '"', ['\\'] = '\\'};
	unsigned int cp;
	int n = xlb_utf8_next(s, &cp);

	if (n < 0) {
		snprintf(out, 11, "\\x%02x", (unsigned char)*s);
		return 1;
	}
	if (cp < sizeof(short_esc) && short_esc[cp])
		snprintf(out, 11, "\\%c", short_esc[cp]);
	else if (xlb_yaml_printable(cp))
		snprintf(out, 11, "%.*s", n, s);
	else if (cp <= 0xff)
		snprintf(out, 11, "\\x%02x", cp);
	else if (cp <= 0xffff)
		snprintf(out, 11, "\\u%04x", cp);
	else
		snprintf(out, 11, "\\U%08x", cp);
	return n;
}

void xlb_yaml_quote(FILE *f, const char *s)
{
	char buf[11];

	fputc('"', f);
	while (*s) {
		s += spell(s, buf);
		fputs(buf, f);
	}
	fputc('"', f);
}

const char *xlb_text_escape(const char *s, char *buf, size_t len)
{
	size_t used = 0;
	char one[11];

	if (!len)
		return buf;
	buf[0] = 0;
	while (*s) {
		int n = spell(s, one);
		size_t k = strlen(one);

		if (used + k >= len)
			break;
		memcpy(buf + used, one, k + 1);
		used += k;
		s += n;
	}
	return buf;
}

static int allowed(unsigned int cp, enum xlb_text_rule rule)
{
	if (rule == XLB_TEXT_VISIBLE)
		return cp > 0x20 && cp < 0x7f;
	if (rule == XLB_TEXT_NO_CONTROL)
		return cp == '\t' || (cp >= 0x20 && cp != 0x7f && (cp < 0x80 || cp > 0x9f) &&
				      cp != 0x2028 && cp != 0x2029);
	return 1;
}

int xlb_text_check(const char *s, enum xlb_text_rule rule, size_t *bad)
{
	for (const char *p = s; *p;) {
		unsigned int cp;
		int n = xlb_utf8_next(p, &cp);

		if (n < 0 || !allowed(cp, rule)) {
			*bad = (size_t)(p - s);
			return -EINVAL;
		}
		p += n;
	}
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int xlb_text_unescape(const char *s, char *out, size_t len, size_t *bad)
{
	size_t o = 0;

	for (const char *c = s; *c; c++) {
		char ch = *c;

		if (ch == '\\') {
			*bad = (size_t)(c - s);
			switch (c[1]) {
			case 'r':
				ch = '\r';
				break;
			case 'n':
				ch = '\n';
				break;
			case 't':
				ch = '\t';
				break;
			case '\\':
				ch = '\\';
				break;
			case 'x': {
				int hi = hex_digit(c[2]), lo = hi < 0 ? -1 : hex_digit(c[3]);

				/* 00 would end the C string; 80-ff is half a character */
				if (lo < 0 || hi * 16 + lo == 0 || hi * 16 + lo > 0x7f)
					return -EINVAL;
				ch = (char)(hi * 16 + lo);
				c += 2;
				break;
			}
			default:
				return -EINVAL;
			}
			c++;
		}
		if (o + 1 >= len)
			return -E2BIG;
		out[o++] = ch;
	}
	if (!len)
		return -E2BIG;
	out[o] = 0;
	return 0;
}
