/*
 * seg_index_read.c - opening, checking and querying a segment's index
 * (fcap/seg_index.h).
 *
 * The file is mapped read-only. Opening checks the header, its CRC (which
 * covers the page CRC array) and that every section lies inside the body;
 * a body page is checked against its CRC the first time anything in it is
 * read. Every count from the file is bounded by the body length before it
 * is multiplied.
 */
#include "fcap/seg_index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "fcap/crc32c.h"
#include "seg_index_format.h"

void fcap_index_close(struct fcap_index *ix)
{
	if (ix->map && ix->map != MAP_FAILED)
		munmap((void *)ix->map, ix->len);
	free(ix->verified);
	free(ix->path);
	memset(ix, 0, sizeof(*ix));
}

/* Section [off, off + count * elem) inside a body of body_len bytes, 8-aligned. */
static int check_section(const struct fcap_index *ix, const char *name, uint64_t off, uint64_t count,
			 uint64_t elem, char *errbuf)
{
	if (off % 8 || off > ix->body_len || count > (ix->body_len - off) / elem)
		return fcap_err(errbuf, "%s: header: %s section (offset %llu, %llu entries of %llu bytes) lies "
				"outside the %llu-byte body", ix->path, name, (unsigned long long)off,
				(unsigned long long)count, (unsigned long long)elem, (unsigned long long)ix->body_len);
	return 0;
}

static int parse_header(struct fcap_index *ix, uint64_t seg_size, char *errbuf)
{
	const uint8_t *h = ix->map;
	if (ix->len < FCAP_INDEX_HEADER_LEN)
		return fcap_err(errbuf, "%s: %zu bytes, shorter than the %u-byte header", ix->path, ix->len,
				FCAP_INDEX_HEADER_LEN);
	if (memcmp(h + IX_MAGIC, FCAP_INDEX_MAGIC, 8))
		return fcap_err(errbuf, "%s: offset 0: not an fcap index (bad magic)", ix->path);
	if (ld32(h + IX_VERSION) != FCAP_INDEX_VERSION)
		return fcap_err(errbuf, "%s: offset %u: index version %u, this fcap reads %u", ix->path, IX_VERSION,
				ld32(h + IX_VERSION), FCAP_INDEX_VERSION);
	if (ld32(h + IX_HEADER_LEN) != FCAP_INDEX_HEADER_LEN || ld32(h + IX_PAGE) != FCAP_INDEX_PAGE)
		return fcap_err(errbuf, "%s: offset %u: header length %u / page size %u, expected %u / %u",
				ix->path, IX_HEADER_LEN, ld32(h + IX_HEADER_LEN), ld32(h + IX_PAGE),
				FCAP_INDEX_HEADER_LEN, FCAP_INDEX_PAGE);
	ix->body_off = ld64(h + IX_BODY_OFF);
	ix->body_len = ld64(h + IX_BODY_LEN);
	if (ix->body_off > ix->len || ix->body_len != ix->len - ix->body_off || ix->body_off % FCAP_INDEX_PAGE)
		return fcap_err(errbuf, "%s: offset %u: body at %llu of %llu bytes does not match the %zu-byte file",
				ix->path, IX_BODY_OFF, (unsigned long long)ix->body_off,
				(unsigned long long)ix->body_len, ix->len);
	uint64_t npages = (ix->body_len + FCAP_INDEX_PAGE - 1) / FCAP_INDEX_PAGE;
	if (FCAP_INDEX_HEADER_LEN + npages * 4 > ix->body_off)
		return fcap_err(errbuf, "%s: offset %u: %llu page checksums do not fit before the body at %llu",
				ix->path, FCAP_INDEX_HEADER_LEN, (unsigned long long)npages,
				(unsigned long long)ix->body_off);
	uint32_t want = ld32(h + IX_HEADER_CRC), got = fcap_index_header_crc(h, npages);
	if (want != got)
		return fcap_err(errbuf, "%s: offset %u: header checksum 0x%08x does not match its contents "
				"(0x%08x): corrupt", ix->path, IX_HEADER_CRC, want, got);
	ix->ring = ld32(h + IX_RING);
	ix->nports = ld32(h + IX_NPORTS);
	ix->has_keys = ld32(h + IX_FLAGS) & IX_FLAG_KEYS;
	ix->blocks_end = ld64(h + IX_BLOCKS_END);
	ix->file_size = ld64(h + IX_FILE_SIZE);
	ix->nblocks = ld64(h + IX_NBLOCKS);
	ix->nrecords = ld64(h + IX_NRECORDS);
	ix->nkeys = ld64(h + IX_NKEYS);
	ix->npostings = ld64(h + IX_NPOSTINGS);
	ix->off_blocks = ld64(h + IX_OFF_BLOCKS);
	ix->off_offsets = ld64(h + IX_OFF_OFFSETS);
	ix->off_keys = ld64(h + IX_OFF_KEYS);
	ix->off_postings = ld64(h + IX_OFF_POSTINGS);
	if (ix->nports == 0 || ix->nports > FCAP_MAX_PORTS)
		return fcap_err(errbuf, "%s: offset %u: %u ports", ix->path, IX_NPORTS, ix->nports);
	if (ix->nrecords > FCAP_SEG_MAX_RECORDS || ix->npostings > UINT32_MAX || ix->blocks_end > FCAP_SEG_MAX_BYTES)
		return fcap_err(errbuf, "%s: header: %llu records, %llu postings: more than a segment holds",
				ix->path, (unsigned long long)ix->nrecords, (unsigned long long)ix->npostings);
	if (check_section(ix, "block", ix->off_blocks, ix->nblocks, sizeof(struct fcap_index_block), errbuf) < 0 ||
	    check_section(ix, "record offset", ix->off_offsets, ix->nrecords, 4, errbuf) < 0 ||
	    check_section(ix, "key", ix->off_keys, ix->nkeys, sizeof(struct fcap_index_key), errbuf) < 0 ||
	    check_section(ix, "posting", ix->off_postings, ix->npostings, 4, errbuf) < 0)
		return -1;
	/* In order and not overlapping. */
	if (ix->off_blocks + ix->nblocks * sizeof(struct fcap_index_block) > ix->off_offsets ||
	    ix->off_offsets + ix->nrecords * 4 > ix->off_keys ||
	    ix->off_keys + ix->nkeys * sizeof(struct fcap_index_key) > ix->off_postings)
		return fcap_err(errbuf, "%s: header: sections overlap", ix->path);
	if (ix->blocks_end > ix->file_size)
		return fcap_err(errbuf, "%s: header: blocks end at %llu, past the segment's %llu bytes", ix->path,
				(unsigned long long)ix->blocks_end, (unsigned long long)ix->file_size);
	if (seg_size && ix->file_size != seg_size)
		return fcap_err(errbuf, "%s: describes a segment of %llu bytes, but the segment has %llu: stale",
				ix->path, (unsigned long long)ix->file_size, (unsigned long long)seg_size);
	struct fcap_seg_stats *st = &ix->stats;
	memset(st, 0, sizeof(*st));
	st->records = ix->nrecords;
	st->first_ts = ld64(h + IX_FIRST_TS);
	st->last_ts = ld64(h + IX_LAST_TS);
	st->card_drops = ld64(h + IX_CARD_DROPS);
	st->backlog_drops = ld64(h + IX_BACKLOG_DROPS);
	st->corrupt_lost = ld64(h + IX_CORRUPT_LOST);
	st->disk_lost = ld64(h + IX_DISK_LOST);
	for (unsigned p = 0; p < FCAP_MAX_PORTS; p++) {
		st->port_records[p] = ld64(h + IX_PORT_RECORDS + 8 * p);
		st->port_drops[p] = ld64(h + IX_PORT_DROPS + 8 * p);
	}
	return 0;
}

int fcap_index_open(struct fcap_index *ix, const char *path, uint64_t seg_size, char *errbuf)
{
	memset(ix, 0, sizeof(*ix));
	ix->path = strdup(path);
	if (!ix->path)
		return fcap_err(errbuf, "%s: out of memory", path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fcap_err(errbuf, "%s: %s", path, strerror(errno));
		fcap_index_close(ix);
		return -1;
	}
	struct stat sb;
	if (fstat(fd, &sb) < 0 || sb.st_size < FCAP_INDEX_HEADER_LEN) {
		fcap_err(errbuf, "%s: %lld bytes, shorter than the %u-byte header", path,
			 (long long)sb.st_size, FCAP_INDEX_HEADER_LEN);
		close(fd);
		fcap_index_close(ix);
		return -1;
	}
	ix->len = (size_t)sb.st_size;
	ix->map = mmap(NULL, ix->len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (ix->map == MAP_FAILED) {
		ix->map = NULL;
		fcap_err(errbuf, "%s: mmap: %s", path, strerror(errno));
		fcap_index_close(ix);
		return -1;
	}
	if (parse_header(ix, seg_size, errbuf) < 0) {
		fcap_index_close(ix);
		return -1;
	}
	uint64_t npages = (ix->body_len + FCAP_INDEX_PAGE - 1) / FCAP_INDEX_PAGE;
	ix->verified = calloc((npages + 7) / 8 + 1, 1);
	if (!ix->verified) {
		fcap_err(errbuf, "%s: out of memory", path);
		fcap_index_close(ix);
		return -1;
	}
	return 0;
}

/* body[off, off + len) with every page it covers checked; NULL on a bad page. */
static const uint8_t *body(struct fcap_index *ix, uint64_t off, uint64_t len, char *errbuf)
{
	if (off > ix->body_len || len > ix->body_len - off) {
		fcap_err(errbuf, "%s: read of %llu bytes at body offset %llu is outside the body", ix->path,
			 (unsigned long long)len, (unsigned long long)off);
		return NULL;
	}
	const uint8_t *crcs = ix->map + FCAP_INDEX_HEADER_LEN;
	uint64_t first = off / FCAP_INDEX_PAGE, last = len ? (off + len - 1) / FCAP_INDEX_PAGE : first;
	for (uint64_t pg = first; pg <= last && len; pg++) {
		if (ix->verified[pg / 8] & (1u << (pg % 8)))
			continue;
		uint64_t start = pg * FCAP_INDEX_PAGE;
		uint64_t n = ix->body_len - start < FCAP_INDEX_PAGE ? ix->body_len - start : FCAP_INDEX_PAGE;
		uint32_t want = ld32(crcs + 4 * pg), got = fcap_crc32c(0, ix->map + ix->body_off + start, n);
		if (want != got) {
			fcap_err(errbuf, "%s: offset %llu: page %llu checksum 0x%08x does not match its contents "
				 "(0x%08x): corrupt", ix->path, (unsigned long long)(ix->body_off + start),
				 (unsigned long long)pg, want, got);
			return NULL;
		}
		ix->verified[pg / 8] |= (uint8_t)(1u << (pg % 8));
	}
	return ix->map + ix->body_off + off;
}

int fcap_index_block(struct fcap_index *ix, uint64_t i, struct fcap_index_block *b, char *errbuf)
{
	if (i >= ix->nblocks)
		return fcap_err(errbuf, "%s: block %llu of %llu", ix->path, (unsigned long long)i,
				(unsigned long long)ix->nblocks);
	const uint8_t *p = body(ix, ix->off_blocks + i * sizeof(*b), sizeof(*b), errbuf);
	if (!p)
		return -1;
	memcpy(b, p, sizeof(*b));
	return 0;
}

int fcap_index_record_offset(struct fcap_index *ix, uint64_t ordinal, uint64_t *offset, char *errbuf)
{
	if (ordinal >= ix->nrecords)
		return fcap_err(errbuf, "%s: record %llu of %llu", ix->path, (unsigned long long)ordinal,
				(unsigned long long)ix->nrecords);
	const uint8_t *p = body(ix, ix->off_offsets + ordinal * 4, 4, errbuf);
	if (!p)
		return -1;
	*offset = (uint64_t)ld32(p) * 8;
	return 0;
}

/* Key i, read in place (its page checked). */
static const uint8_t *key_at(struct fcap_index *ix, uint64_t i, struct fcap_index_key *k, char *errbuf)
{
	const uint8_t *p = body(ix, ix->off_keys + i * sizeof(*k), sizeof(*k), errbuf);
	if (p)
		memcpy(k, p, sizeof(*k));
	return p;
}

int fcap_index_lookup(struct fcap_index *ix, uint64_t key, const uint32_t **postings, uint32_t *n, char *errbuf)
{
	*n = 0;
	*postings = NULL;
	if (!ix->has_keys)
		return fcap_err(errbuf, "%s: this index has no keys", ix->path);
	uint64_t lo = 0, hi = ix->nkeys;
	struct fcap_index_key k;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (!key_at(ix, mid, &k, errbuf))
			return -1;
		if (k.key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ix->nkeys)
		return 0;
	const uint8_t *at = key_at(ix, lo, &k, errbuf);
	if (!at)
		return -1;
	if (k.key != key)
		return 0;
	if (k.count == 1) {
		/* A single record: its ordinal is in the key entry. */
		if (k.start >= ix->nrecords)
			return fcap_err(errbuf, "%s: key %llu: record %u of %llu", ix->path, (unsigned long long)lo,
					k.start, (unsigned long long)ix->nrecords);
		*postings = (const uint32_t *)(const void *)(at + 8);
		*n = 1;
		return 0;
	}
	if (k.start > ix->npostings || k.count > ix->npostings - k.start)
		return fcap_err(errbuf, "%s: key %llu: postings %u+%u past the %llu postings", ix->path,
				(unsigned long long)lo, k.start, k.count, (unsigned long long)ix->npostings);
	const uint8_t *p = body(ix, ix->off_postings + (uint64_t)k.start * 4, (uint64_t)k.count * 4, errbuf);
	if (!p)
		return -1;
	/* Postings are ordinals, sorted; each must name a record. */
	const uint32_t *post = (const uint32_t *)(const void *)p;
	for (uint32_t i = 0; i < k.count; i++) {
		if (post[i] >= ix->nrecords || (i && post[i] <= post[i - 1]))
			return fcap_err(errbuf, "%s: key %llu: posting %u (%u) is not a record in order", ix->path,
					(unsigned long long)lo, i, post[i]);
	}
	*postings = post;
	*n = k.count;
	return 0;
}

int fcap_index_verify(struct fcap_index *ix, char *errbuf)
{
	if (ix->body_len && !body(ix, 0, ix->body_len, errbuf))
		return -1;
	uint64_t next_record = 0, prev_end = 0;
	for (uint64_t i = 0; i < ix->nblocks; i++) {
		struct fcap_index_block b;
		if (fcap_index_block(ix, i, &b, errbuf) < 0)
			return -1;
		if (b.first_record != next_record || b.records > ix->nrecords - next_record || b.offset < prev_end ||
		    b.len > ix->blocks_end || b.offset > ix->blocks_end - b.len)
			return fcap_err(errbuf, "%s: block %llu (offset %llu, %u records from %u) is inconsistent",
					ix->path, (unsigned long long)i, (unsigned long long)b.offset, b.records,
					b.first_record);
		for (uint32_t r = 0; r < b.records; r++) {
			uint64_t off;
			if (fcap_index_record_offset(ix, b.first_record + r, &off, errbuf) < 0)
				return -1;
			if (off < b.offset + 64 || off >= b.offset + b.len)
				return fcap_err(errbuf, "%s: record %u at offset %llu lies outside its block %llu",
						ix->path, b.first_record + r, (unsigned long long)off,
						(unsigned long long)i);
		}
		next_record += b.records;
		prev_end = b.offset + b.len;
	}
	if (next_record != ix->nrecords)
		return fcap_err(errbuf, "%s: blocks hold %llu records, the header says %llu", ix->path,
				(unsigned long long)next_record, (unsigned long long)ix->nrecords);
	uint64_t total = 0;
	struct fcap_index_key k, prev = { 0 };
	for (uint64_t i = 0; i < ix->nkeys; i++) {
		if (!key_at(ix, i, &k, errbuf))
			return -1;
		bool single = k.count == 1;
		if ((i && k.key <= prev.key) || k.count == 0 || (!single && (k.start != total || k.count > ix->npostings - total)))
			return fcap_err(errbuf, "%s: key %llu is out of order or its postings do not follow", ix->path,
					(unsigned long long)i);
		const uint32_t *post;
		uint32_t n;
		if (fcap_index_lookup(ix, k.key, &post, &n, errbuf) < 0)
			return -1;
		if (!single)
			total += k.count;
		prev = k;
	}
	if (total != ix->npostings)
		return fcap_err(errbuf, "%s: keys cover %llu postings of %llu", ix->path, (unsigned long long)total,
				(unsigned long long)ix->npostings);
	return 0;
}
