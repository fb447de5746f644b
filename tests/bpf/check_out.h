/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Fixtures of the probe path of checks through the VIP (check_out.c). */
#ifndef XLB_TEST_CHECK_OUT_H
#define XLB_TEST_CHECK_OUT_H

#include <stddef.h>

#include "harness.h"

extern const struct harness_case check_out_cases[];
extern const size_t check_out_ncases;

#endif
