/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xlbd's side of the heartbeat (user/common/beat.h): one beat a tick. */
#ifndef XLBD_HEARTBEAT_H
#define XLBD_HEARTBEAT_H

#include "config.h"

/* Store "alive now" with the running announce settings (table 0: not
 * announcing) under pin_dir. Failures are said once, not every tick. */
void agent_beat(const char *pin_dir, const struct xlb_cfg_announce *a);

/* `xlbd --detach` without a running agent: withdraw the routes the last
 * beat under pin_dir names (table and protocol) before the pins go, so no
 * BGP daemon keeps announcing VIPs that nothing forwards any more. The
 * number withdrawn, 0 when the agent did not announce or never beat, or
 * -errno. */
int agent_beat_withdraw(const char *pin_dir);

#endif
