/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Logging for xlb's user space: pr_warn/pr_info/pr_debug, printf-checked. */
#ifndef XLB_LOG_H
#define XLB_LOG_H

enum xlb_log_level {
	XLB_LOG_WARN = 0,
	XLB_LOG_INFO = 1,
	XLB_LOG_DEBUG = 2,
};

extern enum xlb_log_level xlb_log_level;

void xlb_log(enum xlb_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Route libbpf's messages through xlb_log, one level quieter than ours. */
void xlb_log_libbpf(void);

#define pr_warn(...)                                                                               \
	do {                                                                                       \
		xlb_log(XLB_LOG_WARN, __VA_ARGS__);                                                \
	} while (0)
#define pr_info(...)                                                                               \
	do {                                                                                       \
		xlb_log(XLB_LOG_INFO, __VA_ARGS__);                                                \
	} while (0)
#define pr_debug(...)                                                                              \
	do {                                                                                       \
		xlb_log(XLB_LOG_DEBUG, __VA_ARGS__);                                               \
	} while (0)

#endif /* XLB_LOG_H */
