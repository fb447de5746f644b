/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The reconciliation engine on the loaded data plane (sync_dp.c). */
#ifndef XLB_TEST_SYNC_DP_H
#define XLB_TEST_SYNC_DP_H

#include "harness.h"

extern const struct harness_case sync_dp_cases[];
extern const size_t sync_dp_ncases;

#endif
