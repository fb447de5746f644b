// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Filled in by the decap fixtures' commit. */
#include <stddef.h>

#include "sl_dp.h"

struct decap *sl_decap;
const struct harness_case sl_decap_cases[] = {{"sl_decap_placeholder", NULL}};
const size_t sl_decap_ncases = 0;
