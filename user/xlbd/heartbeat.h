/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xlbd's side of the heartbeat (user/common/beat.h): one beat a tick. */
#ifndef XLBD_HEARTBEAT_H
#define XLBD_HEARTBEAT_H

#include "config.h"

/* Store "alive now" with the running announce settings (table 0: not
 * announcing) under pin_dir. Failures are said once, not every tick. */
void agent_beat(const char *pin_dir, const struct xlb_cfg_announce *a);

#endif
