/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Stateless VIPs: the LB program (sl_dp.c) and the decap's handover
 * (sl_decap.c). */
#ifndef XLB_TEST_SL_DP_H
#define XLB_TEST_SL_DP_H

#include "harness.h"

struct decap;

extern const struct harness_case sl_dp_cases[];
extern const size_t sl_dp_ncases;
extern const struct harness_case sl_decap_cases[];
extern const size_t sl_decap_ncases;

/* The loaded decap program with the fixtures' trust (test_bpf.c). */
extern struct decap *sl_decap;

#endif
