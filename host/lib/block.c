/*
 * block.c - ring block and record validation (fcap/block.h).
 *
 * The rule everywhere: read a length, compare it with the space that
 * encloses it, and only then use it. Comparisons are written so that no
 * addition can overflow (subtract from the known-larger side instead).
 */
#include "fcap/block.h"

#include "bytes.h"
#include "fcap/card.h"

static uint32_t pad4(uint32_t n)
{
	return (n + 3u) & ~3u;
}

int fcap_record_parse(const uint8_t *buf, size_t avail, size_t off, uint32_t nports,
		      struct fcap_record *r, char *errbuf)
{
	if (off > avail || avail - off < 12)
		return fcap_err(errbuf, "record at byte offset %zu: only %zu bytes left, a block needs 12",
				off, off > avail ? (size_t)0 : avail - off);
	const uint8_t *p = buf + off;
	size_t left = avail - off;
	uint32_t type = ld32(p);
	uint32_t len = ld32(p + 4);

	if (type != FCAP_PCAPNG_EPB)
		return fcap_err(errbuf, "record at byte offset %zu: block type 0x%08x, expected an "
				"Enhanced Packet Block (6)", off, type);
	if (len < FCAP_EPB_FIXED_LEN)
		return fcap_err(errbuf, "record at byte offset %zu: length %u is below the EPB minimum of %u",
				off, len, FCAP_EPB_FIXED_LEN);
	if (len % 8u)
		return fcap_err(errbuf, "record at byte offset %zu: length %u is not a multiple of 8 "
				"(the card aligns every record to 8 bytes)", off, len);
	if (len > left)
		return fcap_err(errbuf, "record at byte offset %zu: length %u runs past the end "
				"(%zu bytes left)", off, len, left);
	if (ld32(p + len - 4) != len)
		return fcap_err(errbuf, "record at byte offset %zu: trailing length %u differs from "
				"leading length %u", off, ld32(p + len - 4), len);

	r->offset = (uint32_t)off;
	r->len = len;
	r->port = ld32(p + 8);
	r->ts = (uint64_t)ld32(p + 12) << 32 | ld32(p + 16);
	r->caplen = ld32(p + 20);
	r->origlen = ld32(p + 24);
	r->has_flags = false;
	r->flags = 0;
	r->has_dropcount = false;
	r->dropcount = 0;
	r->has_hash = false;
	r->hash = 0;

	if (r->port >= nports)
		return fcap_err(errbuf, "record at byte offset %zu: interface id %u, but the card has %u port%s",
				off, r->port, nports, nports == 1 ? "" : "s");
	uint32_t room = len - FCAP_EPB_FIXED_LEN;
	if (r->caplen > room || pad4(r->caplen) > room)
		return fcap_err(errbuf, "record at byte offset %zu: captured length %u does not fit the "
				"record's %u bytes of data and options", off, r->caplen, room);
	if (r->origlen < r->caplen)
		return fcap_err(errbuf, "record at byte offset %zu: original length %u is below captured "
				"length %u", off, r->origlen, r->caplen);
	r->data = p + 28;

	uint32_t opt = 28 + pad4(r->caplen);
	uint32_t end = len - 4;
	while (opt < end) {
		if (end - opt < 4)
			return fcap_err(errbuf, "record at byte offset %zu: option at +%u: %u bytes left, an "
					"option header needs 4", off, opt, end - opt);
		uint16_t code = ld16(p + opt);
		uint16_t olen = ld16(p + opt + 2);
		uint32_t body = opt + 4;
		if (pad4(olen) > end - body)
			return fcap_err(errbuf, "record at byte offset %zu: option %u at +%u: length %u runs "
					"past the record", off, code, opt, olen);
		switch (code) {
		case FCAP_OPT_ENDOFOPT:
			if (olen != 0 || body != end)
				return fcap_err(errbuf, "record at byte offset %zu: opt_endofopt at +%u is not the "
						"empty last option", off, opt);
			break;
		case FCAP_OPT_EPB_FLAGS:
			if (olen != 4 || r->has_flags)
				return fcap_err(errbuf, "record at byte offset %zu: epb_flags at +%u: length %u%s",
						off, opt, olen, r->has_flags ? ", repeated" : ", expected 4");
			r->has_flags = true;
			r->flags = ld32(p + body);
			break;
		case FCAP_OPT_EPB_DROPCOUNT:
			if (olen != 8 || r->has_dropcount)
				return fcap_err(errbuf, "record at byte offset %zu: epb_dropcount at +%u: length %u%s",
						off, opt, olen, r->has_dropcount ? ", repeated" : ", expected 8");
			r->has_dropcount = true;
			r->dropcount = ld64(p + body);
			break;
		case FCAP_OPT_EPB_HASH:
			if (olen != 5 || r->has_hash || p[body] != FCAP_EPB_HASH_TOEPLITZ)
				return fcap_err(errbuf, "record at byte offset %zu: epb_hash at +%u: length %u, "
						"algorithm %u%s (expected 5 bytes, Toeplitz)", off, opt, olen,
						olen ? p[body] : 0u, r->has_hash ? ", repeated" : "");
			r->has_hash = true;
			r->hash = (uint32_t)p[body + 1] << 24 | (uint32_t)p[body + 2] << 16 |
				  (uint32_t)p[body + 3] << 8 | p[body + 4];
			break;
		default:
			return fcap_err(errbuf, "record at byte offset %zu: option code %u at +%u is not one "
					"the card writes", off, code, opt);
		}
		opt = body + pad4(olen);
	}
	return 0;
}

int fcap_block_header(const uint8_t *blk, size_t size, struct fcap_block_info *bi, char *errbuf)
{
	if (size < FCAP_BLOCK_HEADER_LEN)
		return fcap_err(errbuf, "block of %zu bytes is smaller than its %u-byte header",
				size, FCAP_BLOCK_HEADER_LEN);
	uint32_t type = ld32(blk);
	uint32_t len = ld32(blk + 4);
	if (type != FCAP_BT_BLOCK_HEADER)
		return fcap_err(errbuf, "block header at byte offset 0: type 0x%08x, expected 0x%08x",
				type, FCAP_BT_BLOCK_HEADER);
	if (len != FCAP_BLOCK_HEADER_LEN || ld32(blk + 60) != FCAP_BLOCK_HEADER_LEN)
		return fcap_err(errbuf, "block header at byte offset 0: length %u/%u, expected %u",
				len, ld32(blk + 60), FCAP_BLOCK_HEADER_LEN);
	bi->version = ld16(blk + 8);
	bi->ring = ld16(blk + 10);
	bi->seq = ld32(blk + 12);
	bi->used = ld32(blk + 16);
	bi->records = ld32(blk + 20);
	bi->first_ts = ld64(blk + 24);
	bi->last_ts = ld64(blk + 32);
	bi->drops = ld32(blk + 40);
	bi->close_flags = ld32(blk + 44);
	bi->block_size = ld32(blk + 48);

	if (bi->version != FCAP_BLOCK_FORMAT_VERSION)
		return fcap_err(errbuf, "block header: format version %u, this host reads version %u",
				bi->version, FCAP_BLOCK_FORMAT_VERSION);
	if (bi->block_size != size)
		return fcap_err(errbuf, "block header: block size %u, but the ring's blocks are %zu bytes",
				bi->block_size, size);
	if (bi->used < FCAP_BLOCK_HEADER_LEN || bi->used > size || bi->used % 8u)
		return fcap_err(errbuf, "block header: bytes used %u is not an 8-byte multiple in %u..%zu",
				bi->used, FCAP_BLOCK_HEADER_LEN, size);
	if (bi->used < size && size - bi->used < FCAP_MIN_PAD_LEN)
		return fcap_err(errbuf, "block header: bytes used %u leaves %zu bytes, too few for a "
				"padding block", bi->used, size - bi->used);
	return 0;
}

static int check_padding(const uint8_t *blk, size_t size, uint32_t used, char *errbuf)
{
	if (used == size)
		return 0;
	uint32_t type = ld32(blk + used);
	uint32_t len = ld32(blk + used + 4);
	if (type != FCAP_BT_PADDING)
		return fcap_err(errbuf, "padding at byte offset %u: type 0x%08x, expected 0x%08x",
				used, type, FCAP_BT_PADDING);
	if (len != size - used || ld32(blk + size - 4) != len)
		return fcap_err(errbuf, "padding at byte offset %u: length %u (trailer %u), expected %zu",
				used, len, ld32(blk + size - 4), size - used);
	return 0;
}

int fcap_block_next(const uint8_t *blk, const struct fcap_block_info *bi, uint32_t nports,
		    size_t *off, struct fcap_record *r, char *errbuf)
{
	if (*off < FCAP_BLOCK_HEADER_LEN)
		*off = FCAP_BLOCK_HEADER_LEN;
	if (*off >= bi->used)
		return 0;
	if (fcap_record_parse(blk, bi->used, *off, nports, r, errbuf) < 0)
		return -1;
	*off += r->len;
	return 1;
}

/* Every record in blk[64..used): count and timestamps against the header. */
static int check_records(const uint8_t *blk, uint32_t nports, const struct fcap_block_info *bi, char *errbuf)
{
	size_t off = 0;
	uint32_t n = 0;
	struct fcap_record r;
	int rc;
	uint64_t min_ts = UINT64_MAX, max_ts = 0;
	while ((rc = fcap_block_next(blk, bi, nports, &off, &r, errbuf)) > 0) {
		if (r.ts < min_ts)
			min_ts = r.ts;
		if (r.ts > max_ts)
			max_ts = r.ts;
		n++;
	}
	if (rc < 0) {
		fcap_err_prefix(errbuf, "record #%u", n);
		return -1;
	}
	if (n == 0)
		return fcap_err(errbuf, "block holds no records (the card only publishes non-empty blocks)");
	if (n != bi->records)
		return fcap_err(errbuf, "block header: record count %u, but the block holds %u records",
				bi->records, n);
	if (min_ts != bi->first_ts || max_ts != bi->last_ts)
		return fcap_err(errbuf, "block header: earliest/latest timestamps %llu/%llu differ from the "
				"records' %llu/%llu", (unsigned long long)bi->first_ts,
				(unsigned long long)bi->last_ts, (unsigned long long)min_ts,
				(unsigned long long)max_ts);
	return 0;
}

int fcap_block_check(const uint8_t *blk, size_t size, uint32_t expected_seq, uint32_t nports,
		     struct fcap_block_info *bi, char *errbuf)
{
	if (fcap_block_header(blk, size, bi, errbuf) < 0)
		return -1;
	if (bi->seq != expected_seq)
		return fcap_err(errbuf, "block header: sequence number %u, expected %u", bi->seq, expected_seq);
	if (check_padding(blk, size, bi->used, errbuf) < 0)
		return -1;
	return check_records(blk, nports, bi, errbuf);
}

uint32_t fcap_block_stored_len(uint32_t used, uint32_t block_size)
{
	if (used >= block_size)
		return block_size;
	uint32_t end = (used + 4095u) & ~4095u;
	if (end != used && end - used < FCAP_MIN_PAD_LEN)
		end += 4096u;
	return end < block_size ? end : block_size;
}

int fcap_block_stored_header(const uint8_t *blk, size_t avail, struct fcap_block_info *bi, uint32_t *stored_len,
			     char *errbuf)
{
	if (avail < FCAP_BLOCK_HEADER_LEN)
		return fcap_err(errbuf, "block header: %zu bytes left, the header needs %u", avail,
				FCAP_BLOCK_HEADER_LEN);
	/* The header is self-contained: check it against the block size it names. */
	uint32_t block_size = ld32(blk + 48);
	if (block_size < FCAP_BLOCK_HEADER_LEN || block_size % 4096u)
		return fcap_err(errbuf, "block header: block size %u is not a multiple of 4096", block_size);
	if (fcap_block_header(blk, block_size, bi, errbuf) < 0)
		return -1;
	*stored_len = fcap_block_stored_len(bi->used, bi->block_size);
	return 0;
}

int fcap_block_check_stored(const uint8_t *blk, size_t len, uint32_t nports, struct fcap_block_info *bi,
			    char *errbuf)
{
	uint32_t want;
	if (fcap_block_stored_header(blk, len, bi, &want, errbuf) < 0)
		return -1;
	if (len != want)
		return fcap_err(errbuf, "block of %zu bytes, but its header (used %u of %u) makes a stored block "
				"of %u", len, bi->used, bi->block_size, want);
	if (check_padding(blk, len, bi->used, errbuf) < 0)
		return -1;
	return check_records(blk, nports, bi, errbuf);
}
