/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The ABI version of a pin directory: a pinned one-entry array "abi"
 * (struct xlb_abi_info) says which XLB_ABI_VERSION pinned the maps there,
 * and the pinned maps' types, key and value sizes and flags must be the
 * ones this build expects. An xlbd adopts only pins it reads correctly.
 */
#ifndef XLB_ABI_PIN_H
#define XLB_ABI_PIN_H

struct bpf_object;

/*
 * Before the maps of obj are pinned or reused under pin_dir: 0 when they
 * may be (nothing pinned yet, or pins of this version and layout; the
 * "abi" record is written then), or -EPROTO after a message saying what
 * differs and how to upgrade. Nothing pinned is changed on refusal: the
 * program attached keeps forwarding with its maps.
 */
int xlb_abi_check_pins(const char *pin_dir, struct bpf_object *obj);

#endif /* XLB_ABI_PIN_H */
