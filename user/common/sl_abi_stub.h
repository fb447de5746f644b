/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * STUB (issue #14): the stateless-forwarding ABI as announced for
 * include/xlb_abi.h by the data-plane branch, until its "abi: stateless"
 * commit is cherry-picked; then this file goes.
 */
#ifndef XLB_SL_ABI_STUB_H
#define XLB_SL_ABI_STUB_H

#include "xlb_abi.h"

#ifndef XLB_FEAT_STATELESS
enum xlb_flow_state {
	XLB_FLOW_TABLE = 0,
	XLB_FLOW_STATELESS = 1,
};
struct xlb_sl_slot {
	__u16 cur;
	__u16 prev;
};
struct xlb_sl_slots {
	struct xlb_sl_slot s[2];
};
#define XLB_SL_SLOTS_PER_VALUE 2
#define XLB_SL_TABLE_VALUES(m) (((m) + XLB_SL_SLOTS_PER_VALUE - 1) / XLB_SL_SLOTS_PER_VALUE)
#define XLB_FEATURES_VAR "xlb_features"
#define XLB_FEAT_STATELESS (1u << 0)
#define XLB_VIP_FLOW_STATE(val) ((val)->pad)
#else
#define XLB_VIP_FLOW_STATE(val) ((val)->flow_state)
#endif

#endif
