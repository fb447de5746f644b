/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Helpers shared by the configuration's own files (config.c,
 * config_parse.c, config_validate.c, config_dump.c): not for use outside
 * config*.c. Everyone else includes config.h.
 */
#ifndef XLB_CONFIG_INT_H
#define XLB_CONFIG_INT_H

#include <stddef.h>

#include "config.h"
#include "text.h"

/* Write the message into err and return -EINVAL (return xlb_cfg_fail(...)). */
int xlb_cfg_fail(struct xlb_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 1 when a and b are the same VIP: address, port and protocol. */
int xlb_cfg_same_vip(const struct xlb_cfg_vip *a, const struct xlb_cfg_vip *b);

/* A check's text setting: its key, where it is in struct xlb_cfg_check and
 * its size, what it may hold and the hint when it holds something else. */
struct xlb_cfg_check_text {
	const char *key;
	size_t off, len;
	enum xlb_text_rule rule;
	const char *hint;
};

/* Every text setting of a check, in the order validation looks at them. */
extern const struct xlb_cfg_check_text xlb_cfg_check_texts[];
extern const size_t xlb_cfg_ncheck_texts;

#endif /* XLB_CONFIG_INT_H */
