/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Numbers the kernel shows as "name: value" lines in /proc files. */
#ifndef XLB_PROCFS_H
#define XLB_PROCFS_H

/* The value of the first line of path that reads "name: <number>", 0 if
 * the file can't be read or has no such line. */
unsigned long long xlb_proc_value(const char *path, const char *name);

#endif
