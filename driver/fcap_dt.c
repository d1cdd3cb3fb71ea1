// SPDX-License-Identifier: GPL-2.0
/*
 * fcap_dt.c - a bounds-checked reader for the card's device tree blob.
 *
 * Flattened device tree format (devicetree.org specification, chapter 5):
 * a header of big-endian 32-bit words, then a structure block of tokens
 * (BEGIN_NODE name, PROP len nameoff value, END_NODE, NOP, END) and a
 * strings block holding property names. We walk the tokens once, keep the
 * node path to depth 3 (/, /ring, /ports/port@N) and pick the properties
 * listed in struct fcap_dt_info. Every step advances by at least 4 bytes
 * inside the structure block, so the walk ends on any input.
 */
#include "fcap_dt.h"

#define FDT_MAGIC	0xd00dfeedu
#define FDT_HEADER_LEN	40u
#define FDT_BEGIN_NODE	1u
#define FDT_END_NODE	2u
#define FDT_PROP	3u
#define FDT_NOP		4u
#define FDT_END		9u
#define MAX_DEPTH	8

enum node_kind { NODE_OTHER, NODE_ROOT, NODE_RING, NODE_PORTS, NODE_PORT };

struct walk {
	const u8 *blob;
	u32 st_off, st_len;	/* structure block */
	u32 str_off, str_len;	/* strings block */
	enum node_kind kind[MAX_DEPTH + 1];
	int depth;
	bool compatible, have_format, have_clock, have_snaplen;
	bool have_max_blocks, have_min_size, have_max_size, have_ports;
	bool seen_ring, seen_ports;	/* a second one is refused, not merged */
	bool have_rings, have_align;
	u32 port_reg;		/* reg of the port node being walked */
	bool port_has_reg;
	struct fcap_dt_info *info;
	char *why;
};

static u32 be32_at(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static int fail(struct walk *w, const char *what, u32 off)
{
	snprintf(w->why, FCAP_DT_WHY_LEN, "device tree: %s (byte offset %u)", what, off);
	return -EINVAL;
}

/* True when [off, off + n) lies inside a block of len bytes. */
static bool inside(u32 off, u32 n, u32 len)
{
	return off <= len && n <= len - off;
}

static int check_header(struct walk *w, size_t len)
{
	const u8 *h = w->blob;
	u32 total;

	if (len < FDT_HEADER_LEN)
		return fail(w, "blob is shorter than its 40-byte header", 0);
	if (be32_at(h) != FDT_MAGIC)
		return fail(w, "bad magic", 0);
	total = be32_at(h + 4);
	if (total > len || total < FDT_HEADER_LEN)
		return fail(w, "header's totalsize is outside the ROM", 4);
	if (be32_at(h + 24) > 17)	/* last_comp_version */
		return fail(w, "format version is newer than 17", 24);
	w->st_off = be32_at(h + 8);
	w->str_off = be32_at(h + 12);
	w->str_len = be32_at(h + 32);
	w->st_len = be32_at(h + 36);
	if (w->st_off % 4 || !inside(w->st_off, w->st_len, total))
		return fail(w, "structure block lies outside the blob", 8);
	if (!inside(w->str_off, w->str_len, total))
		return fail(w, "strings block lies outside the blob", 12);
	return 0;
}

/* Length of a NUL-terminated string at off inside a block of len bytes, or -1. */
static long str_in(const u8 *base, u32 off, u32 len)
{
	const u8 *nul;

	if (off >= len)
		return -1;
	nul = memchr(base + off, '\0', len - off);
	return nul ? (long)(nul - (base + off)) : -1;
}

static bool has_string(const u8 *v, u32 len, const char *want)
{
	size_t n = strlen(want) + 1;
	u32 i = 0;

	while (i < len) {
		const u8 *nul = memchr(v + i, '\0', len - i);

		if (!nul)
			return false;
		if ((size_t)(nul - (v + i)) + 1 == n && !memcmp(v + i, want, n))
			return true;
		i = (u32)(nul - v) + 1;
	}
	return false;
}

static int u32_prop(struct walk *w, const char *name, const u8 *v, u32 len, u32 off, u32 *out,
		    bool *seen)
{
	if (len != 4) {
		snprintf(w->why, FCAP_DT_WHY_LEN,
			 "device tree: property %s is %u bytes, expected one 32-bit cell (byte offset %u)",
			 name, len, off);
		return -EINVAL;
	}
	/*
	 * A repeated property would make the blob say two things (libfdt
	 * reads the first, a walker the last): refused, as libfcap does.
	 */
	if (*seen) {
		snprintf(w->why, FCAP_DT_WHY_LEN,
			 "device tree: property %s given twice (byte offset %u)", name, off);
		return -EINVAL;
	}
	*out = be32_at(v);
	*seen = true;
	return 0;
}

static int root_prop(struct walk *w, const char *name, const u8 *v, u32 len, u32 off)
{
	struct fcap_dt_info *i = w->info;

	if (!strcmp(name, "compatible")) {
		w->compatible = has_string(v, len, FCAP_DT_COMPATIBLE);
		return 0;
	}
	if (!strcmp(name, "fcap,format-version"))
		return u32_prop(w, name, v, len, off, &i->format_version, &w->have_format);
	if (!strcmp(name, "clock-frequency"))
		return u32_prop(w, name, v, len, off, &i->clock_hz, &w->have_clock);
	if (!strcmp(name, "fcap,max-snaplen"))
		return u32_prop(w, name, v, len, off, &i->max_snaplen, &w->have_snaplen);
	return 0;
}

static int ring_prop(struct walk *w, const char *name, const u8 *v, u32 len, u32 off)
{
	struct fcap_dt_info *i = w->info;

	if (!strcmp(name, "fcap,rings"))
		return u32_prop(w, name, v, len, off, &i->rings, &w->have_rings);
	if (!strcmp(name, "fcap,max-blocks"))
		return u32_prop(w, name, v, len, off, &i->max_blocks, &w->have_max_blocks);
	if (!strcmp(name, "fcap,min-block-size"))
		return u32_prop(w, name, v, len, off, &i->min_block_size, &w->have_min_size);
	if (!strcmp(name, "fcap,max-block-size"))
		return u32_prop(w, name, v, len, off, &i->max_block_size, &w->have_max_size);
	if (!strcmp(name, "fcap,block-align"))
		return u32_prop(w, name, v, len, off, &i->block_align, &w->have_align);
	return 0;
}

static int prop(struct walk *w, u32 *pos)
{
	u32 p = *pos, len, nameoff, voff;
	const char *name;
	const u8 *v;

	if (!inside(p, 12, w->st_len))
		return fail(w, "property header runs past the structure block", w->st_off + p);
	len = be32_at(w->blob + w->st_off + p + 4);
	nameoff = be32_at(w->blob + w->st_off + p + 8);
	voff = p + 12;
	if (!inside(voff, len, w->st_len))
		return fail(w, "property value runs past the structure block", w->st_off + p);
	if (str_in(w->blob + w->str_off, nameoff, w->str_len) < 0)
		return fail(w, "property name lies outside the strings block", w->st_off + p + 8);
	name = (const char *)w->blob + w->str_off + nameoff;
	v = w->blob + w->st_off + voff;
	*pos = voff + ((len + 3) & ~3u);
	if (w->depth < 1)
		return fail(w, "property outside any node", w->st_off + p);
	switch (w->kind[w->depth]) {
	case NODE_ROOT:
		return root_prop(w, name, v, len, w->st_off + p);
	case NODE_RING:
		return ring_prop(w, name, v, len, w->st_off + p);
	case NODE_PORT:
		if (!strcmp(name, "reg"))
			return u32_prop(w, name, v, len, w->st_off + p, &w->port_reg,
					&w->port_has_reg);
		return 0;
	default:
		return 0;
	}
}

static enum node_kind child_kind(enum node_kind parent, const char *name, size_t n)
{
	switch (parent) {
	case NODE_ROOT:
		if (n == 4 && !memcmp(name, "ring", 4))
			return NODE_RING;
		if (n == 5 && !memcmp(name, "ports", 5))
			return NODE_PORTS;
		return NODE_OTHER;
	case NODE_PORTS:
		return NODE_PORT;
	default:
		return NODE_OTHER;
	}
}

static int begin_node(struct walk *w, u32 *pos)
{
	u32 p = *pos + 4;
	long n = str_in(w->blob + w->st_off, p, w->st_len);
	const char *name = (const char *)w->blob + w->st_off + p;

	if (n < 0)
		return fail(w, "node name runs past the structure block", w->st_off + p);
	if (w->depth == MAX_DEPTH)
		return fail(w, "nodes nested too deep", w->st_off + *pos);
	w->depth++;
	if (w->depth == 1)
		w->kind[1] = n == 0 ? NODE_ROOT : NODE_OTHER;
	else
		w->kind[w->depth] = child_kind(w->kind[w->depth - 1], name, (size_t)n);
	if (w->depth == 1 && n != 0)
		return fail(w, "the first node is not the root", w->st_off + *pos);
	if (w->kind[w->depth] == NODE_RING) {
		if (w->seen_ring)
			return fail(w, "a second /ring node", w->st_off + *pos);
		w->seen_ring = true;
	}
	if (w->kind[w->depth] == NODE_PORTS) {
		if (w->seen_ports)
			return fail(w, "a second /ports node", w->st_off + *pos);
		w->seen_ports = true;
	}
	if (w->kind[w->depth] == NODE_PORT)
		w->port_has_reg = false;
	*pos = (p + (u32)n + 1 + 3) & ~3u;
	return 0;
}

static int end_node(struct walk *w, u32 pos)
{
	if (w->depth < 1)
		return fail(w, "END_NODE without a node", w->st_off + pos);
	if (w->kind[w->depth] == NODE_PORT) {
		if (!w->port_has_reg)
			return fail(w, "a /ports child has no reg", w->st_off + pos);
		if (w->port_reg != w->info->nports)
			return fail(w, "/ports children are not numbered 0, 1, ... in order",
				    w->st_off + pos);
		w->info->nports++;
	}
	if (w->kind[w->depth] == NODE_PORTS)
		w->have_ports = true;
	w->depth--;
	return 0;
}

static int walk_tokens(struct walk *w)
{
	u32 pos = 0;
	int rc;

	while (inside(pos, 4, w->st_len)) {
		u32 tok = be32_at(w->blob + w->st_off + pos);

		switch (tok) {
		case FDT_BEGIN_NODE:
			rc = begin_node(w, &pos);
			break;
		case FDT_END_NODE:
			rc = end_node(w, pos);
			pos += 4;
			break;
		case FDT_PROP:
			rc = prop(w, &pos);
			break;
		case FDT_NOP:
			rc = 0;
			pos += 4;
			break;
		case FDT_END:
			if (w->depth != 0)
				return fail(w, "END inside a node", w->st_off + pos);
			return 0;
		default:
			return fail(w, "unknown token", w->st_off + pos);
		}
		if (rc)
			return rc;
	}
	return fail(w, "structure block has no END token", w->st_off + pos);
}

static int check_values(struct walk *w)
{
	const struct fcap_dt_info *i = w->info;
	const char *missing = !w->compatible ? "/ is not compatible with " FCAP_DT_COMPATIBLE :
			      !w->have_format ? "/ fcap,format-version is missing" :
			      !w->have_clock ? "/ clock-frequency is missing" :
			      !w->have_snaplen ? "/ fcap,max-snaplen is missing" :
			      !w->have_max_blocks ? "/ring fcap,max-blocks is missing" :
			      !w->have_min_size ? "/ring fcap,min-block-size is missing" :
			      !w->have_max_size ? "/ring fcap,max-block-size is missing" :
			      !w->have_ports || i->nports == 0 ? "/ports describes no port" : NULL;

	if (missing) {
		snprintf(w->why, FCAP_DT_WHY_LEN, "device tree: %s", missing);
		return -EINVAL;
	}
	if (i->clock_hz == 0 || i->rings == 0 || i->max_blocks == 0 ||
	    i->min_block_size > i->max_block_size || i->block_align == 0 ||
	    (i->block_align & (i->block_align - 1))) {
		snprintf(w->why, FCAP_DT_WHY_LEN,
			 "device tree: inconsistent values (clock %u Hz, %u rings, max-blocks %u, block size %u..%u, align %u)",
			 i->clock_hz, i->rings, i->max_blocks, i->min_block_size,
			 i->max_block_size, i->block_align);
		return -EINVAL;
	}
	return 0;
}

int fcap_dt_parse(const u8 *blob, size_t len, struct fcap_dt_info *info, char *why)
{
	struct walk w = { .blob = blob, .info = info, .why = why };
	int rc;

	memset(info, 0, sizeof(*info));
	info->rings = 1;
	info->block_align = 4096;
	why[0] = '\0';
	rc = check_header(&w, len);
	if (!rc)
		rc = walk_tokens(&w);
	if (!rc)
		rc = check_values(&w);
	return rc;
}
