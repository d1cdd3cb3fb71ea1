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
#include <sys/mman.h>
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

struct kslot {
	uint64_t key;
	uint32_t slot;
	uint32_t count;
};

/* Where a slot's postings go while they are laid out (or, for a key of a
 * single record, that record's ordinal). */
struct place {
	uint32_t next;
	uint32_t count;
};

/* One hash table entry: a key, its slot (+1; 0 = empty) and its count,
 * in one 16-byte cell so that a lookup touches one cache line. */
struct cell {
	uint64_t key;
	uint32_t slot1;
	uint32_t count;
};

/* Records decoded ahead, so that their table cells can be prefetched. */
#define BATCH 16

struct fcap_index_builder {
	uint32_t ring, nports;
	bool keys;
	bool oom;
	struct fcap_index_block *blocks;
	size_t nblocks, cap_blocks;
	uint32_t *offsets;           /* file offset / 8 (records are 8-byte aligned) */
	size_t nrec, cap_rec;
	struct cell *ht;             /* open addressing, linear probing */
	size_t ht_cap;
	size_t nslots;
	struct entry *ent;
	size_t nent, cap_ent;
	struct fcap_seg_stats st;
	/* scratch of fcap_ib_write, kept for the next segment (no page faults) */
	struct kslot *ks, *ks2;
	struct place *place;
	struct fcap_index_key *keytab;
	size_t cap_scratch;
	uint32_t *post;
	size_t cap_post;
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

/* A zeroed table; large ones on transparent huge pages (fewer TLB misses). */
static struct cell *table_alloc(size_t cap)
{
	size_t bytes = cap * sizeof(struct cell);
	if (bytes < (2u << 20))
		return calloc(cap, sizeof(struct cell));
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, bytes, MADV_HUGEPAGE);
	return p;
}

static void table_free(struct cell *t, size_t cap)
{
	if (!t)
		return;
	size_t bytes = cap * sizeof(struct cell);
	if (bytes < (2u << 20))
		free(t);
	else
		munmap(t, bytes);
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
		ib->ht_cap = 1u << 14;
		ib->ht = table_alloc(ib->ht_cap);
		if (!ib->ht) {
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
	table_free(ib->ht, ib->ht_cap);
	free(ib->ent);
	free(ib->ks);
	free(ib->ks2);
	free(ib->place);
	free(ib->keytab);
	free(ib->post);
	free(ib);
}

void fcap_ib_reset(struct fcap_index_builder *ib, uint32_t ring)
{
	ib->ring = ring;
	ib->oom = false;
	ib->nblocks = ib->nrec = ib->nent = 0;
	if (ib->ht && ib->nslots)
		memset(ib->ht, 0, ib->ht_cap * sizeof(struct cell));
	ib->nslots = 0;
	memset(&ib->st, 0, sizeof(ib->st));
}

struct fcap_seg_stats *fcap_ib_stats(struct fcap_index_builder *ib)
{
	return &ib->st;
}

uint64_t fcap_ib_blocks(const struct fcap_index_builder *ib)
{
	return ib->nblocks;
}

static size_t ht_pos(uint64_t key, size_t cap)
{
	uint64_t h = key * 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 32 ^ h) & (cap - 1);
}

static bool ht_grow(struct fcap_index_builder *ib)
{
	size_t cap = ib->ht_cap * 2;
	struct cell *t = table_alloc(cap);
	if (!t)
		return false;
	for (size_t i = 0; i < ib->ht_cap; i++) {
		if (!ib->ht[i].slot1)
			continue;
		size_t p = ht_pos(ib->ht[i].key, cap);
		while (t[p].slot1)
			p = (p + 1) & (cap - 1);
		t[p] = ib->ht[i];
	}
	table_free(ib->ht, ib->ht_cap);
	ib->ht = t;
	ib->ht_cap = cap;
	return true;
}

/* Counts one more record under key (a new key gets the next slot). */
static uint32_t add_key(struct fcap_index_builder *ib, uint64_t key)
{
	size_t p = ht_pos(key, ib->ht_cap);
	for (;;) {
		struct cell *c = &ib->ht[p];
		if (!c->slot1) {
			c->key = key;
			c->slot1 = (uint32_t)++ib->nslots;
			c->count = 1;
			return c->slot1 - 1;
		}
		if (c->key == key) {
			c->count++;
			return c->slot1 - 1;
		}
		p = (p + 1) & (ib->ht_cap - 1);
	}
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

/* Files up to BATCH decoded records under their keys: every cell is
 * prefetched first, so that the cache misses of a flood of new keys
 * overlap instead of following one another. */
static bool add_batch(struct fcap_index_builder *ib, const struct fcap_pkt_keys *k, const uint32_t *ordinal, unsigned n)
{
	unsigned total = 0;
	for (unsigned i = 0; i < n; i++)
		total += k[i].nkeys;
	while ((ib->nslots + total) * 2 > ib->ht_cap)
		if (!ht_grow(ib))
			return false;
	if (!grow((void **)&ib->ent, &ib->cap_ent, ib->nent + total, sizeof(struct entry)))
		return false;
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < k[i].nkeys; j++)
			__builtin_prefetch(&ib->ht[ht_pos(k[i].key[j], ib->ht_cap)], 1);
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < k[i].nkeys; j++)
			ib->ent[ib->nent++] = (struct entry){ add_key(ib, k[i].key[j]), ordinal[i] };
	return true;
}

int fcap_ib_add_block(struct fcap_index_builder *ib, const uint8_t *blk, const struct fcap_block_info *bi,
		      uint64_t file_offset, char *errbuf)
{
	if (ib->oom)
		return fcap_err(errbuf, "index: out of memory");
	if (ib->nrec + bi->records > MAX_RECORDS || ib->nent + (size_t)bi->records * FCAP_KEYS_MAX > MAX_POSTINGS)
		return fcap_err(errbuf, "index: segment holds more than %u records", MAX_RECORDS);
	if (file_offset % 8 || file_offset + bi->used > FCAP_SEG_MAX_BYTES)
		return fcap_err(errbuf, "index: block at offset %llu: records must lie 8-aligned within the first %llu "
				"bytes of a segment", (unsigned long long)file_offset, (unsigned long long)FCAP_SEG_MAX_BYTES);
	if (!grow((void **)&ib->blocks, &ib->cap_blocks, ib->nblocks + 1, sizeof(*ib->blocks)) ||
	    !grow((void **)&ib->offsets, &ib->cap_rec, ib->nrec + bi->records, sizeof(uint32_t))) {
		ib->oom = true;
		return fcap_err(errbuf, "index: out of memory");
	}
	ib->blocks[ib->nblocks++] = (struct fcap_index_block){
		.offset = file_offset, .first_ts = bi->first_ts, .last_ts = bi->last_ts,
		.len = fcap_block_stored_len(bi->used, bi->block_size), .records = bi->records,
		.first_record = (uint32_t)ib->nrec, .seq = bi->seq,
	};
	/* The block passed validation: walk it by its lengths. */
	struct fcap_pkt_keys k[BATCH];
	uint32_t ord[BATCH];
	unsigned nb = 0;
	uint32_t off = FCAP_BLOCK_HEADER_LEN;
	for (uint32_t i = 0; i < bi->records && off < bi->used; i++) {
		const uint8_t *p = blk + off;
		uint32_t len = ld32(p + 4), port = ld32(p + 8), caplen = ld32(p + 20);
		uint64_t ts = (uint64_t)ld32(p + 12) << 32 | ld32(p + 16);
		ord[nb] = (uint32_t)ib->nrec;
		ib->offsets[ib->nrec++] = (uint32_t)((file_offset + off) / 8);
		count_record(&ib->st, port, ts, record_dropcount(blk, bi->used, off, len, caplen, ib->nports));
		if (ib->keys) {
			fcap_pkt_keys(p + 28, caplen, &k[nb]);
			if (++nb == BATCH) {
				if (!add_batch(ib, k, ord, nb))
					goto oom;
				nb = 0;
			}
		}
		off += len;
	}
	if (nb && !add_batch(ib, k, ord, nb))
		goto oom;
	return 0;
oom:
	ib->oom = true;
	return fcap_err(errbuf, "index: out of memory");
}

/* ---- closing: sort keys, lay out postings, write ------------------------- */

/* LSD radix sort by key, 11 bits a pass (2048 buckets: the write streams
 * stay in cache), a and b of n entries each; passes where every key has
 * the same digit are skipped. Returns whichever of a and b holds the result. */
#define RADIX_BITS 11
#define RADIX (1u << RADIX_BITS)
static struct kslot *sort_keys(struct kslot *a, struct kslot *b, size_t n)
{
	for (int shift = 0; shift < 64; shift += RADIX_BITS) {
		uint32_t cnt[RADIX] = { 0 };
		for (size_t i = 0; i < n; i++)
			cnt[(a[i].key >> shift) & (RADIX - 1)]++;
		if (n == 0 || cnt[(a[0].key >> shift) & (RADIX - 1)] == n)
			continue;
		uint32_t pos = 0;
		for (unsigned d = 0; d < RADIX; d++) {
			uint32_t c = cnt[d];
			cnt[d] = pos;
			pos += c;
		}
		for (size_t i = 0; i < n; i++)
			b[cnt[(a[i].key >> shift) & (RADIX - 1)]++] = a[i];
		struct kslot *t = a;
		a = b;
		b = t;
	}
	return a;
}

static bool scratch(struct fcap_index_builder *ib)
{
	size_t ns = ib->nslots ? ib->nslots : 1, np = ib->nent ? ib->nent : 1;
	if (ns > ib->cap_scratch) {
		void *a = realloc(ib->ks, ns * sizeof(struct kslot));
		if (a)
			ib->ks = a;
		void *b = realloc(ib->ks2, ns * sizeof(struct kslot));
		if (b)
			ib->ks2 = b;
		void *c = realloc(ib->place, ns * sizeof(struct place));
		if (c)
			ib->place = c;
		void *d = realloc(ib->keytab, ns * sizeof(struct fcap_index_key));
		if (d)
			ib->keytab = d;
		if (!a || !b || !c || !d)
			return false;
		ib->cap_scratch = ns;
	}
	if (np > ib->cap_post) {
		uint32_t *p = realloc(ib->post, np * sizeof(uint32_t));
		if (!p)
			return false;
		ib->post = p;
		ib->cap_post = np;
	}
	return true;
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
	uint32_t *crc = NULL;
	uint8_t *head = NULL;
	int rc = -1;
	if (!scratch(ib)) {
		fcap_err(errbuf, "%s: out of memory writing the index", path);
		goto out;
	}
	/* The distinct keys, in table order (sequential), then sorted. */
	struct kslot *ks = ib->ks;
	struct place *place = ib->place;
	uint32_t *post = ib->post;
	struct fcap_index_key *keys = ib->keytab;
	size_t nk = 0;
	for (size_t i = 0; ib->keys && i < ib->ht_cap; i++) {
		const struct cell *c = &ib->ht[i];
		if (c->slot1)
			ks[nk++] = (struct kslot){ c->key, c->slot1 - 1, c->count };
	}
	ks = sort_keys(ks, ks == ib->ks ? ib->ks2 : ib->ks, nk);
	/* Posting lists laid out in key order. A key carried by one record holds
	 * that record's ordinal itself, with no posting (a flood of spoofed
	 * sources is mostly such keys). */
	uint32_t pos = 0;
	for (size_t i = 0; i < nk; i++) {
		place[ks[i].slot] = (struct place){ pos, ks[i].count };
		if (ks[i].count > 1)
			pos += ks[i].count;
	}
	size_t npost = pos, nkeys = nk;
	for (size_t i = 0; i < ib->nent; i++) {
		struct place *pl = &place[ib->ent[i].slot];
		if (pl->count == 1)
			pl->next = ib->ent[i].ordinal;
		else
			post[pl->next++] = ib->ent[i].ordinal;
	}
	for (size_t i = 0; i < nk; i++) {
		const struct place *pl = &place[ks[i].slot];
		keys[i] = (struct fcap_index_key){ ks[i].key, pl->count == 1 ? pl->next : pl->next - pl->count,
						   pl->count };
	}

	/* Body: blocks | offsets | keys | postings, each 8-byte aligned. */
	size_t lb = ib->nblocks * sizeof(struct fcap_index_block), lo = ib->nrec * 4, lk = nkeys * 16,
	       lp = npost * 4;
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
	st64(head + IX_NPOSTINGS, npost);
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
	free(crc);
	free(head);
	return rc;
}
