/* The agent's heartbeat ("beat"): a one-record BPF array pinned as
 * <pin-dir>/beat. xlbd rewrites it every tick of its event loop; xlb-guard,
 * a separate tiny process, reads it and withdraws this host's announcements
 * (flushes xlbd's routes from the announce table) once the agent has been
 * silent for longer than hold_ms. The record names the table and the route
 * protocol, so the guard needs no configuration of its own but the pin dir.
 * Issue #13; the design is in README "Running a fleet". */
#ifndef XLB_BEAT_H
#define XLB_BEAT_H

#include <linux/types.h>

struct xlb_beat {
	__u64 at_ns;   /* CLOCK_BOOTTIME of the agent's last tick */
	__u32 pid;     /* the agent's pid (for messages) */
	__u32 hold_ms; /* silence tolerated before the guard withdraws */
	__u32 table;   /* announce table; 0 = not announcing */
	__u8 protocol; /* rtm_protocol of the agent's routes */
	__u8 pad[3];
};

/* Create (once) and pin <pin_dir>/beat, then store b. 0 or -errno. */
int xlb_beat_write(const char *pin_dir, const struct xlb_beat *b);
/* Read the record; -ENOENT when no agent ever beat under pin_dir. */
int xlb_beat_read(const char *pin_dir, struct xlb_beat *b);

#endif
