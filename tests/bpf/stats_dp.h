/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Counters read many at once on the loaded data plane (stats_dp.c). */
#ifndef XLB_TEST_STATS_DP_H
#define XLB_TEST_STATS_DP_H

#include "harness.h"

extern const struct harness_case stats_dp_cases[];
extern const size_t stats_dp_ncases;

#endif
