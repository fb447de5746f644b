/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The unit suites, run together by test_unit.c. */
#ifndef XLB_TEST_UNIT_H
#define XLB_TEST_UNIT_H

#include "harness.h"

extern const struct harness_case config_cases[];
extern const size_t config_ncases;
extern const struct harness_case strbuf_cases[];
extern const size_t strbuf_ncases;
extern const struct harness_case metrics_cases[];
extern const size_t metrics_ncases;
extern const struct harness_case vipname_cases[];
extern const size_t vipname_ncases;
extern const struct harness_case diff_cases[];
extern const size_t diff_ncases;
extern const struct harness_case sync_cases[];
extern const size_t sync_ncases;
extern const struct harness_case fleet_cases[];
extern const size_t fleet_ncases;
extern const struct harness_case handover_cases[];
extern const size_t handover_ncases;
extern const struct harness_case digest_cases[];
extern const size_t digest_ncases;
extern const struct harness_case health_cases[];
extern const size_t health_ncases;
extern const struct harness_case outlier_cases[];
extern const size_t outlier_ncases;
extern const struct harness_case ejection_cases[];
extern const size_t ejection_ncases;
extern const struct harness_case seed_cases[];
extern const size_t seed_ncases;
extern const struct harness_case probe_cases[];
extern const size_t probe_ncases;
extern const struct harness_case probe_tcp_cases[];
extern const size_t probe_tcp_ncases;
extern const struct harness_case prober_cases[];
extern const size_t prober_ncases;
extern const struct harness_case probe_ring_cases[];
extern const size_t probe_ring_ncases;
extern const struct harness_case probe_syn_cases[];
extern const size_t probe_syn_ncases;
extern const struct harness_case state_cases[];
extern const size_t state_ncases;
extern const struct harness_case procfs_cases[];
extern const size_t procfs_ncases;
extern const struct harness_case announce_cases[];
extern const size_t announce_ncases;
extern const struct harness_case routes_cases[];
extern const size_t routes_ncases;
extern const struct harness_case nexthop_cases[];
extern const size_t nexthop_ncases;
extern const struct harness_case beat_cases[];
extern const size_t beat_ncases;
extern const struct harness_case jsonw_cases[];
extern const size_t jsonw_ncases;
extern const struct harness_case ctlconn_cases[];
extern const size_t ctlconn_ncases;
extern const struct harness_case silence_cases[];
extern const size_t silence_ncases;
int sync_setup(void);
void sync_teardown(void);
int probe_setup(void);
void probe_teardown(void);
int probe_tcp_setup(void);
void probe_tcp_teardown(void);
int prober_setup(void);
void prober_teardown(void);
int probe_ring_setup(void);
void probe_ring_teardown(void);
int probe_syn_setup(void);
void probe_syn_teardown(void);
int state_setup(void);
void state_teardown(void);

#endif
