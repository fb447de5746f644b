/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The state file: the running configuration, kept for the next start. */
#ifndef XLBD_STATE_H
#define XLBD_STATE_H

#include "config.h"

/*
 * Replace the file at path with cfg's dump, atomically, mode 0600. Refused
 * (-EINVAL, nothing written) when the dump would not load back to cfg.
 * Creates path's directory (0700) when missing. 0, or -errno with err set.
 */
int state_write(const char *path, const struct xlb_cfg *cfg, struct xlb_err *err);

/* The same for any text (len bytes): atomically, 0600, the directory made. */
int state_write_text(const char *path, const char *text, size_t len, struct xlb_err *err);

#endif /* XLBD_STATE_H */
