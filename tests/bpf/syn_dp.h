/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Retransmitted SYNs of table-mode VIPs (syn_dp.c, issue #16). */
#ifndef XLB_TEST_SYN_DP_H
#define XLB_TEST_SYN_DP_H

#include "harness.h"

extern const struct harness_case syn_dp_cases[];
extern const size_t syn_dp_ncases;

#endif
