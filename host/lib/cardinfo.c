/*
 * cardinfo.c - identity registers and the device tree ROM (fcap/cardinfo.h).
 *
 * The blob comes from the card, so it is untrusted input like any file:
 * its size is bounded by the ROM window, libfdt checks its structure, and
 * every property is length-checked before it is read.
 */
#include "fcap/cardinfo.h"
#include "../../driver/fcap_dt.h"   /* the driver's walker, shared */

#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcap/card.h"
#include "fcap/dev.h"

/* Reads a one-cell (u32) property; missing is an error unless def is given. */
static int prop_u32(const void *fdt, int node, const char *path, const char *name, uint32_t *out,
		    const uint32_t *def, char *errbuf)
{
	int len;
	const fdt32_t *v = fdt_getprop(fdt, node, name, &len);
	if (!v) {
		if (def) {
			*out = *def;
			return 0;
		}
		return fcap_err(errbuf, "device tree: %s: property \"%s\" is missing", path, name);
	}
	if (len != 4)
		return fcap_err(errbuf, "device tree: %s: property \"%s\" is %d bytes, expected one 32-bit cell",
				path, name, len);
	*out = fdt32_to_cpu(*v);
	return 0;
}

/* Copies a string property into out (size n); it must be NUL-terminated within its length. */
static int prop_str(const void *fdt, int node, const char *path, const char *name, char *out, size_t n,
		    char *errbuf)
{
	int len;
	const char *v = fdt_getprop(fdt, node, name, &len);
	if (!v)
		return fcap_err(errbuf, "device tree: %s: property \"%s\" is missing", path, name);
	if (len < 1 || memchr(v, '\0', (size_t)len) == NULL)
		return fcap_err(errbuf, "device tree: %s: property \"%s\" is not a string", path, name);
	snprintf(out, n, "%s", v);
	return 0;
}

/* A child of the root by path ("/ring"). libfdt answers with the first
 * node of that name; a second one would make the blob say two things (the
 * driver refuses it too), so it is an error. */
static int subnode(const void *fdt, const char *path, char *errbuf)
{
	int off = fdt_path_offset(fdt, path);
	if (off < 0)
		return fcap_err(errbuf, "device tree: node %s: %s", path, fdt_strerror(off));
	int node, same = 0;
	fdt_for_each_subnode(node, fdt, 0) {
		const char *name = fdt_get_name(fdt, node, NULL);
		if (name && !strcmp(name, path + 1) && ++same > 1)
			return fcap_err(errbuf, "device tree: a second %s node (byte offset %d)", path,
					fdt_off_dt_struct(fdt) + node);
	}
	return off;
}

static int parse_ports(const void *fdt, struct fcap_card_info *ci, char *errbuf)
{
	int ports = subnode(fdt, "/ports", errbuf);
	if (ports < 0)
		return -1;
	int node;
	ci->nports = 0;
	fdt_for_each_subnode(node, fdt, ports) {
		char path[96];
		const char *name = fdt_get_name(fdt, node, NULL);
		snprintf(path, sizeof(path), "/ports/%s", name ? name : "?");
		uint32_t reg;
		if (prop_u32(fdt, node, path, "reg", &reg, NULL, errbuf) < 0)
			return -1;
		if (reg >= FCAP_MAX_PORTS)
			return fcap_err(errbuf, "device tree: %s: port number %u, this host supports %d ports",
					path, reg, FCAP_MAX_PORTS);
		if (reg != ci->nports)
			return fcap_err(errbuf, "device tree: %s: port number %u, expected %u (ports are "
					"numbered from 0 in order)", path, reg, ci->nports);
		struct fcap_port_info *p = &ci->ports[reg];
		uint32_t none = 0;
		if (prop_str(fdt, node, path, "label", p->label, sizeof(p->label), errbuf) < 0 ||
		    prop_u32(fdt, node, path, "fcap,speed-mbps", &p->speed_mbps, NULL, errbuf) < 0 ||
		    prop_u32(fdt, node, path, "fcap,mac-clock-frequency", &p->mac_clock_hz, &none, errbuf) < 0 ||
		    prop_u32(fdt, node, path, "fcap,fifo-bytes", &p->fifo_bytes, &none, errbuf) < 0)
			return -1;
		ci->nports++;
	}
	if (node < 0 && node != -FDT_ERR_NOTFOUND)
		return fcap_err(errbuf, "device tree: /ports: %s", fdt_strerror(node));
	if (ci->nports == 0)
		return fcap_err(errbuf, "device tree: /ports: the card describes no ports");
	return 0;
}

int fcap_card_parse_dt(const void *blob, size_t blob_len, struct fcap_card_info *ci, char *errbuf)
{
	const void *fdt = blob;
	if (blob_len < sizeof(struct fdt_header))
		return fcap_err(errbuf, "device tree: blob of %zu bytes is smaller than its header", blob_len);
	int rc = fdt_check_header(fdt);
	if (rc != 0)
		return fcap_err(errbuf, "device tree: bad header: %s", fdt_strerror(rc));
	if (fdt_totalsize(fdt) > blob_len)
		return fcap_err(errbuf, "device tree: header says %u bytes, the ROM holds %zu",
				fdt_totalsize(fdt), blob_len);
	/* The blob is untrusted. libfdt 1.6's fdt_check_full, meant for
	 * exactly this, itself dereferences NULL on some malformed blobs
	 * (found by fuzz_dt; tests/fuzz/regress/dt/), so it is not used: the
	 * driver's walker (driver/fcap_dt.c) checks every token, name and
	 * string offset against its block, refuses repeated nodes and
	 * properties, and host and kernel then accept the same blobs. */
	struct fcap_dt_info walked;
	char why[FCAP_DT_WHY_LEN];
	if (fcap_dt_parse(blob, blob_len, &walked, why) < 0)
		return fcap_err(errbuf, "device tree: %s", why);

	int root = 0;
	int len;
	if (!fdt_getprop(fdt, root, "compatible", &len) ||
	    fdt_node_check_compatible(fdt, root, "fcap,capture-card-v1") != 0)
		return fcap_err(errbuf, "device tree: / is not compatible with \"fcap,capture-card-v1\"");

	uint32_t clock, one = 1, align = 4096;
	if (prop_str(fdt, root, "/", "model", ci->model, sizeof(ci->model), errbuf) < 0 ||
	    prop_u32(fdt, root, "/", "fcap,format-version", &ci->format_version, NULL, errbuf) < 0 ||
	    prop_u32(fdt, root, "/", "clock-frequency", &clock, NULL, errbuf) < 0 ||
	    prop_u32(fdt, root, "/", "fcap,datapath-width", &ci->datapath_width, NULL, errbuf) < 0 ||
	    prop_u32(fdt, root, "/", "fcap,max-snaplen", &ci->max_snaplen, NULL, errbuf) < 0)
		return -1;
	ci->clock_hz = clock;
	if (clock == 0)
		return fcap_err(errbuf, "device tree: /: clock-frequency is 0");

	int ring = subnode(fdt, "/ring", errbuf);
	if (ring < 0)
		return -1;
	if (prop_u32(fdt, ring, "/ring", "fcap,max-blocks", &ci->max_blocks, NULL, errbuf) < 0 ||
	    prop_u32(fdt, ring, "/ring", "fcap,min-block-size", &ci->min_block_size, NULL, errbuf) < 0 ||
	    prop_u32(fdt, ring, "/ring", "fcap,max-block-size", &ci->max_block_size, NULL, errbuf) < 0 ||
	    prop_u32(fdt, ring, "/ring", "fcap,block-align", &ci->block_align, &align, errbuf) < 0 ||
	    prop_u32(fdt, ring, "/ring", "fcap,rings", &ci->rings, &one, errbuf) < 0)
		return -1;
	if (ci->max_blocks == 0 || ci->max_blocks > FCAP_RING_TABLE_ENTRIES ||
	    ci->min_block_size > ci->max_block_size || ci->block_align == 0 ||
	    (ci->block_align & (ci->block_align - 1)))
		return fcap_err(errbuf, "device tree: /ring: inconsistent limits (max-blocks %u, block size "
				"%u..%u, align %u)", ci->max_blocks, ci->min_block_size, ci->max_block_size,
				ci->block_align);
	return parse_ports(fdt, ci, errbuf);
}

static int check_identity(struct fcap_dev *dev, const struct fcap_card_info *ci, char *errbuf)
{
	if (ci->id != FCAP_ID_MAGIC)
		return fcap_err(errbuf, "%s: register ID reads 0x%08x, not an fcap card (0x%08x)",
				dev->ops->name, ci->id, FCAP_ID_MAGIC);
	if (ci->version >> 16 != FCAP_VERSION >> 16)
		return fcap_err(errbuf, "%s: card version %u.%u, this host drives version %u.x",
				dev->ops->name, ci->version >> 16, ci->version & 0xFFFF, FCAP_VERSION >> 16);
	return 0;
}

/* The blob through the register window (register-level backends). */
static int read_dt_regs(struct fcap_dev *dev, uint8_t **blob, size_t *len, char *errbuf)
{
	uint32_t base = fcap_reg_read(dev, FCAP_REG_DT_BASE);
	uint32_t size = fcap_reg_read(dev, FCAP_REG_DT_SIZE);
	if (base != FCAP_REG_DT_ROM || size == 0 || size > FCAP_DT_ROM_BYTES || size % 4)
		return fcap_err(errbuf, "%s: device tree ROM at 0x%x, %u bytes: expected 1..%u bytes "
				"(a multiple of 4) at 0x%x", dev->ops->name, base, size,
				FCAP_DT_ROM_BYTES, FCAP_REG_DT_ROM);
	*blob = malloc(size);
	if (!*blob)
		return fcap_err(errbuf, "out of memory reading the device tree");
	for (uint32_t i = 0; i < size; i += 4) {
		uint32_t w = fcap_reg_read(dev, base + i);
		memcpy(*blob + i, &w, 4); /* ROM words are little-endian byte order; so is the host */
	}
	*len = size;
	return 0;
}

int fcap_card_read_info(struct fcap_dev *dev, struct fcap_card_info *ci, char *errbuf)
{
	uint8_t *blob = NULL;
	size_t size = 0;
	memset(ci, 0, sizeof(*ci));
	if (dev->ops->info)
		return dev->ops->info(dev, ci, errbuf);
	if (dev->ops->read_dt) {
		if (dev->ops->read_dt(dev, &ci->id, &ci->version, &blob, &size, errbuf) < 0)
			return -1;
		if (check_identity(dev, ci, errbuf) < 0) {
			free(blob);
			return -1;
		}
	} else {
		ci->id = fcap_reg_read(dev, FCAP_REG_ID);
		ci->version = fcap_reg_read(dev, FCAP_REG_VERSION);
		if (check_identity(dev, ci, errbuf) < 0 || read_dt_regs(dev, &blob, &size, errbuf) < 0)
			return -1;
	}
	int rc = fcap_card_parse_dt(blob, size, ci, errbuf);
	free(blob);
	if (rc < 0)
		return -1;
	if (ci->format_version != FCAP_BLOCK_FORMAT_VERSION)
		return fcap_err(errbuf, "%s: card writes ring format %u, this host reads %u",
				dev->ops->name, ci->format_version, FCAP_BLOCK_FORMAT_VERSION);
	return 0;
}
