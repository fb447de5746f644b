/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The configuration as YAML text in memory, and the guarantee that text
 * written for a later start loads back to the same configuration.
 */
#ifndef XLB_CONFIG_DUMP_H
#define XLB_CONFIG_DUMP_H

#include <stddef.h>

#include "config.h"

/* xlb_cfg_dump() into a malloc'd, NUL-terminated buffer: 0, or -errno. */
int xlb_cfg_dump_text(const struct xlb_cfg *c, char **text, size_t *len);

/*
 * Dump c and load the text again: 0 with *text (free it) when it loads to
 * a configuration equal to c and dumps to the same bytes; -EINVAL with err
 * saying why when it does not (c is then not fit to be persisted).
 */
int xlb_cfg_dump_checked(const struct xlb_cfg *c, char **text, size_t *len, struct xlb_err *err);

#endif /* XLB_CONFIG_DUMP_H */
