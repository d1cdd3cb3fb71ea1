/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fcap_dt.h - the few facts the driver needs from the card's device tree
 * blob (docs/REGISTERS.md, "Device tree ROM").
 *
 * The kernel exports no flattened device tree parser to modules on x86, so
 * fcap_dt.c walks the blob itself. The blob comes from the card: every
 * offset and length in it is checked against its enclosing length first.
 * User space (libfcap) parses the same blob with libfdt for everything else.
 */
#ifndef FCAP_DT_H
#define FCAP_DT_H

#include "fcap_portable.h"

#define FCAP_DT_COMPATIBLE "fcap,capture-card-v1"
#define FCAP_DT_WHY_LEN 160

struct fcap_dt_info {
	u32 format_version;	/* / fcap,format-version */
	u32 clock_hz;		/* / clock-frequency */
	u32 max_snaplen;	/* / fcap,max-snaplen */
	u32 rings;		/* /ring fcap,rings (default 1) */
	u32 max_blocks;		/* /ring fcap,max-blocks */
	u32 min_block_size;	/* /ring fcap,min-block-size */
	u32 max_block_size;	/* /ring fcap,max-block-size */
	u32 block_align;	/* /ring fcap,block-align (default 4096) */
	u32 nports;		/* children of /ports, numbered 0.. by reg */
};

/*
 * Parses blob (len bytes). Returns 0, or -EINVAL with a one-line reason in
 * why (FCAP_DT_WHY_LEN bytes) naming the node, property or byte offset.
 */
int fcap_dt_parse(const u8 *blob, size_t len, struct fcap_dt_info *info, char *why);

#endif /* FCAP_DT_H */
