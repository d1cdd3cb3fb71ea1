/*
 * seg_index.c - building and writing a segment's index (fcap/seg_index.h).
 *
 * While a segment is recorded, every record is decoded once (pktkeys.c)
 * and each of its keys is looked up in an open-addressing hash table that
 * gives the key a slot; the record's ordinal is appended to a flat list of
 * (slot, ordinal) entries. Closing the index sorts only the distinct keys
 * (radix sort), then one counting pass turns the entries into contiguous
 * posting lists per key, already in record order because entries were
 * appended in record order. No per-entry sort, no per-key allocation.
 */
#include "fcap/seg_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "fcap/card.h"
#include "fcap/crc32c.h"
#include "fcap/pktkeys.h"
#include "seg_index_format.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "index sections are written in host order");
_Static_assert(sizeof(struct fcap_index_block) == 40, "block table entry is 40 bytes in the file");
_Static_assert(sizeof(struct fcap_index_key) == 16, "key entry is 16 bytes in the file");

/* Ordinals and posting starts are 32-bit. */
#define MAX_RECORDS (FCAP_SEG_MAX_RECORDS)
#define MAX_POSTINGS 0xFFFFFFF0u

struct entry {
	uint32_t slot;
	uint32_t ordinal;
};

struct fcap_index_builder {
	uint32_t ring, nports;
	bool keys;
	bool oom;
	struct fcap_index_block *blocks;
	size_t nblocks, cap_blocks;
	uint64_t *offsets;
	size_t nrec, cap_rec;
	/* key -> slot: open addressing, linear probing; ht_slot 0 = empty, else slot + 1 */
	uint64_t *ht_key;
	uint32_t *ht_slot;
	size_t ht_cap;
	uint64_t *slot_key;
	uint32_t *slot_count;
	size_t nslots, cap_slots;
	struct entry *ent;
	size_t nent, cap_ent;
	struct fcap_seg_stats st;
};

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	size_t c = *cap ? *cap : 1024;
	while (c < need)
		c *= 2;
	void *q = realloc(*p, c * elem);
	if (!q)
		return false;
	*p = q;
	*cap = c;
	return true;
}

struct fcap_index_builder *fcap_ib_new(uint32_t ring, uint32_t nports, bool keys)
{
	struct fcap_index_builder *ib = calloc(1, sizeof(*ib));
	if (!ib)
		return NULL;
	ib->ring = ring;
	ib->nports = nports;
	ib->keys = keys;
	if (keys) {
		ib->ht_cap = 4096;
		ib->ht_key = malloc(ib->ht_cap * sizeof(*ib->ht_key));
		ib->ht_slot = calloc(ib->ht_cap, sizeof(*ib->ht_slot));
		if (!ib->ht_key || !ib->ht_slot) {
			fcap_ib_free(ib);
			return NULL;
		}
	}
	return ib;
}

void fcap_ib_free(struct fcap_index_builder *ib)
{
	if (!ib)
		return;
	free(ib->blocks);
	free(ib->offsets);
	free(ib->ht_key);
	free(ib->ht_slot);
	free(ib->slot_key);
	free(ib->slot_count);
	free(ib->ent);
	free(ib);
}

struct fcap_seg_stats *fcap_ib_stats(struct fcap_index_builder *ib)
{
	return &ib->st;
}

uint64_t fcap_ib_blocks(const struct fcap_index_builder *ib)
{
	return ib->nblocks;
}

size_t fcap_ib_memory(const struct fcap_index_builder *ib)
{
	return ib->cap_blocks * sizeof(*ib->blocks) + ib->cap_rec * 8 + ib->ht_cap * 12 +
	       ib->cap_slots * 12 + ib->cap_ent * sizeof(struct entry);
}

static size_t ht_pos(uint64_t key, size_t cap)
{
	uint64_t h = key * 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 32) & (cap - 1);
}

static bool ht_grow(struct fcap_index_builder *ib)
{
	size_t cap = ib->ht_cap * 2;
	uint64_t *k = malloc(cap * sizeof(*k));
	uint32_t *s = calloc(cap, sizeof(*s));
	if (!k || !s) {
		free(k);
		free(s);
		return false;
	}
	for (size_t i = 0; i < ib->ht_cap; i++) {
		if (!ib->ht_slot[i])
			continue;
		size_t p = ht_pos(ib->ht_key[i], cap);
		while (s[p])
			p = (p + 1) & (cap - 1);
		k[p] = ib->ht_key[i];
		s[p] = ib->ht_slot[i];
	}
	free(ib->ht_key);
	free(ib->ht_slot);
	ib->ht_key = k;
	ib->ht_slot = s;
	ib->ht_cap = cap;
	return true;
}

static bool grow_slots(struct fcap_index_builder *ib)
{
	size_t cap = ib->cap_slots ? ib->cap_slots * 2 : 1024;
	uint64_t *k = realloc(ib->slot_key, cap * sizeof(*k));
	if (!k)
		return false;
	ib->slot_key = k;
	uint32_t *c = realloc(ib->slot_count, cap * sizeof(*c));
	if (!c)
		return false;
	ib->slot_count = c;
	ib->cap_slots = cap;
	return true;
}

/* The slot of key, created on first sight; UINT32_MAX when out of memory. */
static uint32_t slot_of(struct fcap_index_builder *ib, uint64_t key)
{
	size_t p = ht_pos(key, ib->ht_cap);
	for (;;) {
		uint32_t s = ib->ht_slot[p];
		if (!s)
			break;
		if (ib->ht_key[p] == key)
			return s - 1;
		p = (p + 1) & (ib->ht_cap - 1);
	}
	if ((ib->nslots + 1) * 2 > ib->ht_cap) {
		if (!ht_grow(ib))
			return UINT32_MAX;
		return slot_of(ib, key);
	}
	if (ib->nslots == ib->cap_slots && !grow_slots(ib))
		return UINT32_MAX;
	uint32_t s = (uint32_t)ib->nslots++;
	ib->slot_key[s] = key;
	ib->slot_count[s] = 0;
	ib->ht_key[p] = key;
	ib->ht_slot[p] = s + 1;
	return s;
}

static void count_record(struct fcap_seg_stats *st, uint32_t port, uint64_t ts, uint64_t dropcount)
{
	if (st->records == 0 || ts < st->first_ts)
		st->first_ts = ts;
	if (ts > st->last_ts)
		st->last_ts = ts;
	st->records++;
	st->card_drops += dropcount;
	if (port < FCAP_MAX_PORTS) {
		st->port_records[port]++;
		st->port_drops[port] += dropcount;
	}
}

/* A record's dropcount: parse its options only when it has some beyond
 * opt_endofopt (the block has been checked already). */
static uint64_t record_dropcount(const uint8_t *blk, uint32_t used, uint32_t off, uint32_t len, uint32_t caplen,
				 uint32_t nports)
{
	if (len <= FCAP_EPB_FIXED_LEN + ((caplen + 3) & ~3u) + 4)
		return 0;
	struct fcap_record r;
	char ignored[FCAP_ERRBUF_SIZE];
	if (fcap_record_parse(blk, used, off, nports, &r, ignored) < 0)
		return 0;
	return r.dropcount;
}

static bool add_keys(struct fcap_index_builder *ib, const uint8_t *frame, uint32_t caplen, uint32_t ordinal)
{
	struct fcap_pkt_keys k;
	fcap_pkt_keys(frame, caplen, &k);
	if (!grow((void **)&ib->ent, &ib->cap_ent, ib->nent + k.nkeys, sizeof(struct entry)))
		return false;
	for (unsigned i = 0; i < k.nkeys; i++) {
		uint32_t s = slot_of(ib, k.key[i]);
		if (s == UINT32_MAX)
			return false;
		ib->slot_count[s]++;
		ib->ent[ib->nent++] = (struct entry){ s, ordinal };
	}
	return true;
}

int fcap_ib_add_block(struct fcap_index_builder *ib, const uint8_t *blk, const struct fcap_block_info *bi,
		      uint64_t file_offset, char *errbuf)
{
	if (ib->oom)
		return fcap_err(errbuf, "index: out of memory");
	if (ib->nrec + bi->records > MAX_RECORDS || ib->nent + (size_t)bi->records * FCAP_KEYS_MAX > MAX_POSTINGS)
		return fcap_err(errbuf, "index: segment holds more than %u records", MAX_RECORDS);
	if (!grow((void **)&ib->blocks, &ib->cap_blocks, ib->nblocks + 1, sizeof(*ib->blocks)) ||
	    !grow((void **)&ib->offsets, &ib->cap_rec, ib->nrec + bi->records, sizeof(uint64_t))) {
		ib->oom = true;
		return fcap_err(errbuf, "index: out of memory");
	}
	ib->blocks[ib->nblocks++] = (struct fcap_index_block){
		.offset = file_offset, .first_ts = bi->first_ts, .last_ts = bi->last_ts,
		.len = fcap_block_stored_len(bi->used, bi->block_size), .records = bi->records,
		.first_record = (uint32_t)ib->nrec, .seq = bi->seq,
	};
	/* The block passed validation: walk it by its lengths. */
	uint32_t off = FCAP_BLOCK_HEADER_LEN;
	for (uint32_t i = 0; i < bi->records && off < bi->used; i++) {
		const uint8_t *p = blk + off;
		uint32_t len = ld32(p + 4), port = ld32(p + 8), caplen = ld32(p + 20);
		uint64_t ts = (uint64_t)ld32(p + 12) << 32 | ld32(p + 16);
		uint32_t ordinal = (uint32_t)ib->nrec;
		ib->offsets[ib->nrec++] = file_offset + off;
		count_record(&ib->st, port, ts, record_dropcount(blk, bi->used, off, len, caplen, ib->nports));
		if (ib->keys && !add_keys(ib, p + 28, caplen, ordinal)) {
			ib->oom = true;
			return fcap_err(errbuf, "index: out of memory");
		}
		off += len;
	}
	return 0;
}

void fcap_ib_count_lost(struct fcap_index_builder *ib, const uint8_t *blk, const struct fcap_block_info *bi)
{
	(void)blk;
	ib->st.disk_lost += bi->records;
}

/* ---- closing: sort keys, lay out postings, write ------------------------- */

struct kslot {
	uint64_t key;
	uint32_t slot;
};

/* LSD radix sort by key, 8 bits a pass; passes where every key has the
 * same byte are skipped (the type byte, the top of IPv4 keys...). */
static struct kslot *sort_keys(struct kslot *a, size_t n)
{
	struct kslot *b = malloc((n ? n : 1) * sizeof(*b));
	if (!b)
		return NULL;
	for (int shift = 0; shift < 64; shift += 8) {
		size_t cnt[256] = { 0 };
		for (size_t i = 0; i < n; i++)
			cnt[(a[i].key >> shift) & 0xFF]++;
		if (n == 0 || cnt[(a[0].key >> shift) & 0xFF] == n)
			continue;
		size_t pos = 0;
		for (int d = 0; d < 256; d++) {
			size_t c = cnt[d];
			cnt[d] = pos;
			pos += c;
		}
		for (size_t i = 0; i < n; i++)
			b[cnt[(a[i].key >> shift) & 0xFF]++] = a[i];
		struct kslot *t = a;
		a = b;
		b = t;
	}
	free(b);
	return a;
}

/* A section of the body: bytes to write after the header. */
struct piece {
	const void *p;
	size_t len;
};

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* CRC-32C of every 4 KiB page of the concatenated pieces. */
static void page_crcs(const struct piece *pc, int npc, uint64_t body_len, uint32_t *crc)
{
	static const uint8_t zeros[8];
	uint64_t page = 0, in_page = 0;
	uint32_t c = 0;
	for (int i = 0; i < npc; i++) {
		const uint8_t *p = pc[i].p ? pc[i].p : zeros;
		size_t left = pc[i].len;
		while (left) {
			size_t k = FCAP_INDEX_PAGE - in_page;
			if (k > left)
				k = left;
			c = fcap_crc32c(c, p, k);
			if (pc[i].p)
				p += k;
			left -= k;
			in_page += k;
			if (in_page == FCAP_INDEX_PAGE) {
				crc[page++] = c;
				c = 0;
				in_page = 0;
			}
		}
	}
	if (in_page)
		crc[page++] = c;
	(void)body_len;
}

static int write_at(int fd, const char *path, const void *p, size_t n, uint64_t off, char *errbuf)
{
	const uint8_t *c = p;
	while (n) {
		ssize_t k = pwrite(fd, c, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return fcap_err(errbuf, "%s: write of %zu bytes at byte offset %llu failed: %s", path, n,
					(unsigned long long)off, k < 0 ? strerror(errno) : "no progress");
		c += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

/* Zero-filled stand-ins for alignment padding between sections. */
static const uint8_t pad_bytes[8];

int fcap_ib_write(struct fcap_index_builder *ib, int fd, const char *path, uint64_t blocks_end, uint64_t file_size,
		  char *errbuf)
{
	if (ib->oom)
		return fcap_err(errbuf, "%s: index: out of memory while building", path);
	/* Keys in order, and their posting lists laid out contiguously. */
	struct kslot *ks = malloc((ib->nslots ? ib->nslots : 1) * sizeof(*ks));
	uint32_t *start = malloc((ib->nslots ? ib->nslots : 1) * sizeof(*start));
	uint32_t *post = malloc((ib->nent ? ib->nent : 1) * sizeof(*post));
	struct fcap_index_key *keys = malloc((ib->nslots ? ib->nslots : 1) * sizeof(*keys));
	uint32_t *crc = NULL;
	uint8_t *head = NULL;
	int rc = -1;
	if (!ks || !start || !post || !keys) {
		fcap_err(errbuf, "%s: out of memory writing the index", path);
		goto out;
	}
	for (size_t i = 0; i < ib->nslots; i++)
		ks[i] = (struct kslot){ ib->slot_key[i], (uint32_t)i };
	struct kslot *sorted = sort_keys(ks, ib->nslots);
	if (!sorted) {
		fcap_err(errbuf, "%s: out of memory writing the index", path);
		goto out;
	}
	ks = sorted;
	uint32_t pos = 0;
	size_t nkeys = 0;
	for (size_t i = 0; i < ib->nslots; i++) {
		uint32_t s = ks[i].slot;
		start[s] = pos;
		keys[nkeys++] = (struct fcap_index_key){ ks[i].key, pos, ib->slot_count[s] };
		pos += ib->slot_count[s];
	}
	for (size_t i = 0; i < ib->nent; i++)
		post[start[ib->ent[i].slot]++] = ib->ent[i].ordinal;

	/* Body: blocks | offsets | keys | postings, each 8-byte aligned. */
	size_t lb = ib->nblocks * sizeof(struct fcap_index_block), lo = ib->nrec * 8, lk = nkeys * 16,
	       lp = ib->nent * 4;
	uint64_t o_blocks = 0, o_offsets = align8(lb), o_keys = o_offsets + align8(lo), o_post = o_keys + align8(lk);
	uint64_t body_len = o_post + align8(lp);
	struct piece pc[] = {
		{ ib->blocks, lb }, { pad_bytes, align8(lb) - lb }, { ib->offsets, lo }, { pad_bytes, align8(lo) - lo },
		{ keys, lk },       { pad_bytes, align8(lk) - lk }, { post, lp },        { pad_bytes, align8(lp) - lp },
	};
	int npc = (int)(sizeof(pc) / sizeof(pc[0]));
	uint64_t npages = (body_len + FCAP_INDEX_PAGE - 1) / FCAP_INDEX_PAGE;
	uint64_t body_off = (FCAP_INDEX_HEADER_LEN + npages * 4 + FCAP_INDEX_PAGE - 1) & ~(uint64_t)(FCAP_INDEX_PAGE - 1);
	crc = calloc(npages ? npages : 1, 4);
	head = calloc(1, body_off);
	if (!crc || !head) {
		fcap_err(errbuf, "%s: out of memory writing the index", path);
		goto out;
	}
	page_crcs(pc, npc, body_len, crc);

	const struct fcap_seg_stats *st = &ib->st;
	memcpy(head + IX_MAGIC, FCAP_INDEX_MAGIC, 8);
	st32(head + IX_VERSION, FCAP_INDEX_VERSION);
	st32(head + IX_HEADER_LEN, FCAP_INDEX_HEADER_LEN);
	st32(head + IX_PAGE, FCAP_INDEX_PAGE);
	st32(head + IX_FLAGS, ib->keys ? IX_FLAG_KEYS : 0);
	st32(head + IX_RING, ib->ring);
	st32(head + IX_NPORTS, ib->nports);
	st64(head + IX_BLOCKS_END, blocks_end);
	st64(head + IX_FILE_SIZE, file_size);
	st64(head + IX_NBLOCKS, ib->nblocks);
	st64(head + IX_NRECORDS, ib->nrec);
	st64(head + IX_NKEYS, nkeys);
	st64(head + IX_NPOSTINGS, ib->nent);
	st64(head + IX_BODY_OFF, body_off);
	st64(head + IX_BODY_LEN, body_len);
	st64(head + IX_OFF_BLOCKS, o_blocks);
	st64(head + IX_OFF_OFFSETS, o_offsets);
	st64(head + IX_OFF_KEYS, o_keys);
	st64(head + IX_OFF_POSTINGS, o_post);
	st64(head + IX_FIRST_TS, st->first_ts);
	st64(head + IX_LAST_TS, st->last_ts);
	st64(head + IX_CARD_DROPS, st->card_drops);
	st64(head + IX_BACKLOG_DROPS, st->backlog_drops);
	st64(head + IX_CORRUPT_LOST, st->corrupt_lost);
	st64(head + IX_DISK_LOST, st->disk_lost);
	for (unsigned p = 0; p < FCAP_MAX_PORTS; p++) {
		st64(head + IX_PORT_RECORDS + 8 * p, st->port_records[p]);
		st64(head + IX_PORT_DROPS + 8 * p, st->port_drops[p]);
	}
	memcpy(head + FCAP_INDEX_HEADER_LEN, crc, npages * 4);
	st32(head + IX_HEADER_CRC, fcap_index_header_crc(head, npages));

	if (write_at(fd, path, head, body_off, 0, errbuf) < 0)
		goto out;
	uint64_t at = body_off;
	for (int i = 0; i < npc; i++) {
		if (pc[i].len && write_at(fd, path, pc[i].p, pc[i].len, at, errbuf) < 0)
			goto out;
		at += pc[i].len;
	}
	if (ftruncate(fd, (off_t)at) < 0) {
		fcap_err(errbuf, "%s: truncating to %llu bytes failed: %s", path, (unsigned long long)at, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(ks);
	free(start);
	free(post);
	free(keys);
	free(crc);
	free(head);
	return rc;
}
