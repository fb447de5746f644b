// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>

#include <bpf/libbpf.h>

#include "log.h"

enum xlb_log_level xlb_log_level = XLB_LOG_WARN;

static void xlb_vlog(enum xlb_log_level level, const char *fmt, va_list ap)
{
	if (level > xlb_log_level)
		return;
	vfprintf(stderr, fmt, ap);
}

void xlb_log(enum xlb_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xlb_vlog(level, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf WARN -> our INFO, INFO -> DEBUG, DEBUG -> never. */
	if (level == LIBBPF_DEBUG)
		return 0;
	xlb_vlog(level == LIBBPF_WARN ? XLB_LOG_INFO : XLB_LOG_DEBUG, fmt, ap);
	return 0;
}

void xlb_log_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
