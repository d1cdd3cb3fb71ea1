/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fcap_portable.h - what fcap_dt.c and fcap_check.c need from their
 * environment. Those two files hold the driver's checks of untrusted input
 * (the card's device tree blob, ioctl arguments, mmap ranges, indices) and
 * touch no kernel API, so that tests/unit/test_driver.c runs the very same
 * code under AddressSanitizer in user space.
 */
#ifndef FCAP_PORTABLE_H
#define FCAP_PORTABLE_H

#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/types.h>
#else
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
typedef __u8 u8;
typedef __u32 u32;
typedef __u64 u64;
#endif

#endif /* FCAP_PORTABLE_H */
