/*
 * seg_index.c - building and writing a segment's index (fcap/seg_index.h).
 *
 * While a segment is recorded, every record is decoded once (pktkeys.c)
 * and each of its keys, folded to 32 bits, is appended with the record's
 * ordinal to an entry list (below). Closing sorts the entries and lays the
 * keys and their posting lists out in one pass. No hash table, no per-key
 * allocation: the cost per record does not depend on how many distinct
 * keys the segment has (a flood of spoofed sources has millions).
 */
#include "fcap/seg_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <emmintrin.h>
#endif

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

/*
 * Every (key, record) pair is one 64-bit entry: the key's 32-bit fold
 * (fcap_key_fold) above the record's ordinal. Sorting entries as numbers
 * therefore sorts them by key, and within a key by record, which is the
 * index's order. While a segment is recorded, each entry is appended to
 * one of BUCKETS lists chosen by the top bits of its key: a sequential
 * write into one of a few hundred kilobytes of chunk tails, instead of a
 * hash table lookup that misses the cache for every new key of a flood.
 * Entries reach the lists a cache line at a time (staged per list, then
 * streamed past the cache). The lists are chunks of a pool kept across
 * segments. Closing sorts each
 * bucket on its own (two radix passes over the remaining key bits, in
 * cache) and emits its keys and postings in one sequential pass. Memory:
 * 8 bytes per (key, record) while the segment is open, whatever the keys.
 */
#define BUCKET_BITS 8
#define BUCKETS (1u << BUCKET_BITS)
#define CHUNK 512u                  /* entries a chunk: 4 KiB, page aligned */
#define SLAB_CHUNKS 512u            /* chunks a slab: 2 MiB, a huge page */
#define NO_CHUNK UINT32_MAX
/* Key bits left to sort within a bucket, in two passes. */
#define SORT_BITS (32 - BUCKET_BITS)
#define PASS1_BITS (SORT_BITS / 2)
#define PASS2_BITS (SORT_BITS - PASS1_BITS)

struct bucket {
	uint64_t *tail;            /* entries of its last chunk */
	uint32_t fill;             /* entries in the last chunk (CHUNK: none yet) */
	uint32_t head, last;       /* chunk ids */
	uint32_t nchunks;
};

/* A key entry of a version 2 index file (docs/STORE.md). */
struct key2 {
	uint32_t key, start, count;
};
_Static_assert(sizeof(struct key2) == FCAP_INDEX_KEY2_LEN, "version 2 key entry");

/* A key of a single record: the record's ordinal, no posting (a flood of
 * spoofed sources is mostly such keys). */
struct single {
	uint32_t key, ordinal;
};
_Static_assert(sizeof(struct single) == FCAP_INDEX_SINGLE_LEN, "version 2 single entry");

/* Entries a cache line holds: lists are written a line at a time. */
#define LINE 8u

struct fcap_index_builder {
	/* Each list's entries for its next cache line, gathered here (16 KiB,
	 * in the first-level cache) and written out as a whole line that
	 * bypasses the cache: no read of the line before it is written, no
	 * eviction of what decoding needs. */
	uint64_t stage[BUCKETS][LINE] __attribute__((aligned(64)));
	uint32_t ring, nports;
	bool keys;
	bool deferred;               /* keys dropped: to be completed from the segment */
	bool oom;
	struct fcap_index_block *blocks;
	size_t nblocks, cap_blocks;
	uint32_t *offsets;           /* file offset / 8 (records are 8-byte aligned) */
	size_t nrec, cap_rec;
	size_t nent;                 /* (key, record) entries */
	struct fcap_seg_stats st;
	/* entry lists: buckets of chunks from slabs, kept across segments */
	struct bucket bk[BUCKETS];
	uint64_t **slab;
	size_t nslabs, cap_slabs;
	uint32_t *next;              /* next chunk of a list, per chunk id */
	size_t cap_next;
	uint32_t nchunks;            /* in use this segment */
	/* scratch of fcap_ib_write, kept for the next segment */
	uint64_t *sa, *sb;
	size_t cap_sort;
	struct key2 *keytab;
	size_t cap_keytab;
	struct single *singles;
	size_t cap_singles;
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

static void buckets_empty(struct fcap_index_builder *ib)
{
	for (unsigned i = 0; i < BUCKETS; i++)
		ib->bk[i] = (struct bucket){ .fill = CHUNK, .head = NO_CHUNK, .last = NO_CHUNK };
	ib->nchunks = 0;
}

struct fcap_index_builder *fcap_ib_new(uint32_t ring, uint32_t nports, bool keys)
{
	struct fcap_index_builder *ib = aligned_alloc(64, (sizeof(*ib) + 63) & ~(size_t)63);
	if (!ib)
		return NULL;
	memset(ib, 0, sizeof(*ib));
	ib->ring = ring;
	ib->nports = nports;
	ib->keys = keys;
	buckets_empty(ib);
	return ib;
}

void fcap_ib_free(struct fcap_index_builder *ib)
{
	if (!ib)
		return;
	free(ib->blocks);
	free(ib->offsets);
	for (size_t i = 0; i < ib->nslabs; i++)
		free(ib->slab[i]);
	free(ib->slab);
	free(ib->next);
	free(ib->sa);
	free(ib->sb);
	free(ib->keytab);
	free(ib->singles);
	free(ib->post);
	free(ib);
}

void fcap_ib_reset(struct fcap_index_builder *ib, uint32_t ring)
{
	ib->ring = ring;
	ib->oom = false;
	if (ib->deferred) {
		ib->deferred = false;
		ib->keys = true;
	}
	ib->nblocks = ib->nrec = ib->nent = 0;
	buckets_empty(ib);
	memset(&ib->st, 0, sizeof(ib->st));
}

void fcap_ib_reuse(struct fcap_index_builder *ib, uint32_t ring, uint32_t nports)
{
	fcap_ib_reset(ib, ring);
	ib->nports = nports;
	ib->keys = true;
}

void fcap_ib_defer_keys(struct fcap_index_builder *ib)
{
	if (!ib->keys)
		return;
	ib->keys = false;
	ib->deferred = true;
	ib->nent = 0;
	buckets_empty(ib);
}

struct fcap_seg_stats *fcap_ib_stats(struct fcap_index_builder *ib)
{
	return &ib->st;
}

uint64_t fcap_ib_blocks(const struct fcap_index_builder *ib)
{
	return ib->nblocks;
}

static uint64_t *chunk_at(const struct fcap_index_builder *ib, uint32_t id)
{
	return ib->slab[id / SLAB_CHUNKS] + (size_t)(id % SLAB_CHUNKS) * CHUNK;
}

/* Gives bucket b a new last chunk (taken from the pool, which grows by a
 * slab when it runs out). */
static bool new_chunk(struct fcap_index_builder *ib, struct bucket *b)
{
	uint32_t id = ib->nchunks;
	if (id == NO_CHUNK)
		return false;
	if (id / SLAB_CHUNKS == ib->nslabs) {
		if (!grow((void **)&ib->slab, &ib->cap_slabs, ib->nslabs + 1, sizeof(*ib->slab)))
			return false;
		size_t bytes = (size_t)SLAB_CHUNKS * CHUNK * sizeof(uint64_t);
		uint64_t *s = aligned_alloc(bytes, bytes);
		if (!s)
			return false;
		/* Lists are written at a thousand places at once: with 4 KiB
		 * pages nearly every write would miss the TLB. */
		madvise(s, bytes, MADV_HUGEPAGE);
		ib->slab[ib->nslabs++] = s;
	}
	if (!grow((void **)&ib->next, &ib->cap_next, (size_t)id + 1, sizeof(uint32_t)))
		return false;
	ib->nchunks++;
	ib->next[id] = NO_CHUNK;
	if (b->last == NO_CHUNK)
		b->head = id;
	else
		ib->next[b->last] = id;
	b->last = id;
	b->nchunks++;
	b->tail = chunk_at(ib, id);
	b->fill = 0;
	return true;
}

/* A whole line of staged entries to its place in a chunk (64-byte aligned). */
static inline void write_line(uint64_t *dst, const uint64_t *src)
{
#if defined(__x86_64__)
	for (unsigned i = 0; i < LINE; i += 2)
		_mm_stream_si128((__m128i *)(void *)(dst + i), _mm_load_si128((const __m128i *)(const void *)(src + i)));
#else
	memcpy(dst, src, LINE * sizeof(*dst));
#endif
}

static inline bool put(struct fcap_index_builder *ib, uint64_t e)
{
	unsigned i = (unsigned)(e >> (64 - BUCKET_BITS));
	struct bucket *b = &ib->bk[i];
	if (__builtin_expect(b->fill == CHUNK, 0) && !new_chunk(ib, b))
		return false;
	ib->stage[i][b->fill % LINE] = e;
	if (++b->fill % LINE == 0)
		write_line(b->tail + b->fill - LINE, ib->stage[i]);
	return true;
}

/* The staged entries of every list's last, partial line to their chunks
 * (before the lists are read). */
static void flush_stage(struct fcap_index_builder *ib)
{
	for (unsigned i = 0; i < BUCKETS; i++) {
		struct bucket *b = &ib->bk[i];
		uint32_t part = b->fill % LINE;
		if (b->nchunks && part)
			memcpy(b->tail + (b->fill - part), ib->stage[i], part * sizeof(uint64_t));
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
	uint64_t keys[FCAP_KEYS_MAX];
	size_t nent = 0;   /* kept in a register: stores of entries could alias ib->nent */
	uint32_t off = FCAP_BLOCK_HEADER_LEN;
	for (uint32_t i = 0; i < bi->records && off < bi->used; i++) {
		const uint8_t *p = blk + off;
		uint32_t len = ld32(p + 4), port = ld32(p + 8), caplen = ld32(p + 20);
		uint64_t ts = (uint64_t)ld32(p + 12) << 32 | ld32(p + 16);
		uint32_t ord = (uint32_t)ib->nrec;
		ib->offsets[ib->nrec++] = (uint32_t)((file_offset + off) / 8);
		count_record(&ib->st, port, ts, record_dropcount(blk, bi->used, off, len, caplen, ib->nports));
		if (ib->keys) {
			unsigned nk = fcap_pkt_index_keys(p + 28, caplen, keys);
			for (unsigned j = 0; j < nk; j++)
				if (!put(ib, (uint64_t)fcap_key_fold(keys[j]) << 32 | ord))
					goto oom;
			nent += nk;
		}
		off += len;
	}
	ib->nent += nent;
#if defined(__x86_64__)
	/* The streamed lines are ordered before whatever follows, e.g. handing
	 * the builder to the thread that writes the index. */
	_mm_sfence();
#endif
	return 0;
oom:
	ib->oom = true;
	return fcap_err(errbuf, "index: out of memory");
}

/* ---- closing: sort each bucket, lay out keys and postings, write ---------- */

/* Counts of the sections being laid out. */
struct layout {
	size_t nkeys, nsingles, npost;
};

/* Appends the keys and postings of n sorted entries. A record filed twice
 * under one key (two of its keys with the same fold) counts once. A key of
 * a single record goes to the singles. */
static void emit(struct fcap_index_builder *ib, const uint64_t *e, size_t n, struct layout *lay)
{
	struct key2 *kt = ib->keytab + lay->nkeys;
	struct single *sg = ib->singles + lay->nsingles;
	uint32_t *post = ib->post + lay->npost;
	size_t i = 0;
	while (i < n) {
		uint32_t key = (uint32_t)(e[i] >> 32), first = (uint32_t)e[i];
		size_t j = i + 1;
		while (j < n && e[j] == e[i])
			j++;
		if (j == n || (uint32_t)(e[j] >> 32) != key) {
			*sg++ = (struct single){ key, first };
			i = j;
			continue;
		}
		uint32_t start = (uint32_t)(post - ib->post), prev = first;
		*post++ = first;
		for (; j < n && (uint32_t)(e[j] >> 32) == key; j++)
			if ((uint32_t)e[j] != prev)
				*post++ = prev = (uint32_t)e[j];
		*kt++ = (struct key2){ key, start, (uint32_t)(post - ib->post) - start };
		i = j;
	}
	lay->nkeys = (size_t)(kt - ib->keytab);
	lay->nsingles = (size_t)(sg - ib->singles);
	lay->npost = (size_t)(post - ib->post);
}

/* Sorts bucket b's n entries by their key bits below the bucket's
 * (stable, so records stay in order within a key) in two radix passes:
 * the first reads the chunks, the second the scratch. Returns the sorted
 * entries. A bucket of one key (a flood's target) is only copied. */
static const uint64_t *sort_bucket(struct fcap_index_builder *ib, const struct bucket *b, size_t n)
{
	enum { R1 = 1u << PASS1_BITS, R2 = 1u << PASS2_BITS };
	uint32_t c1[R1] = { 0 }, c2[R2] = { 0 };
	/* Counted by runs of one key: a heavy key's entries come one after
	 * the other, and a counter bumped per entry would wait on its own
	 * previous store every time. */
	uint64_t run_key = UINT64_MAX;
	uint32_t run = 0;
	for (uint32_t id = b->head; id != NO_CHUNK; id = ib->next[id]) {
		const uint64_t *c = chunk_at(ib, id);
		uint32_t m = id == b->last ? b->fill : CHUNK;
		for (uint32_t i = 0; i < m; i++) {
			uint64_t k = c[i] >> 32;
			if (k == run_key) {
				run++;
				continue;
			}
			if (run) {
				c1[run_key & (R1 - 1)] += run;
				c2[(run_key >> PASS1_BITS) & (R2 - 1)] += run;
			}
			run_key = k;
			run = 1;
		}
	}
	c1[run_key & (R1 - 1)] += run;
	c2[(run_key >> PASS1_BITS) & (R2 - 1)] += run;
	uint64_t *a = ib->sa, *s = ib->sb;
	if (run == n) {
		size_t at = 0;
		for (uint32_t id = b->head; id != NO_CHUNK; id = ib->next[id]) {
			uint32_t m = id == b->last ? b->fill : CHUNK;
			memcpy(a + at, chunk_at(ib, id), m * sizeof(*a));
			at += m;
		}
		return a;
	}
	uint32_t pos = 0;
	for (unsigned d = 0; d < R1; d++) {
		uint32_t k = c1[d];
		c1[d] = pos;
		pos += k;
	}
	pos = 0;
	for (unsigned d = 0; d < R2; d++) {
		uint32_t k = c2[d];
		c2[d] = pos;
		pos += k;
	}
	/* Scattered the same way: a run's next place is kept in a register. */
	uint32_t last = UINT32_MAX, at = 0;
	for (uint32_t id = b->head; id != NO_CHUNK; id = ib->next[id]) {
		const uint64_t *c = chunk_at(ib, id);
		uint32_t m = id == b->last ? b->fill : CHUNK;
		for (uint32_t i = 0; i < m; i++) {
			uint32_t d = (uint32_t)(c[i] >> 32) & (R1 - 1);
			if (d != last) {
				if (last != UINT32_MAX)
					c1[last] = at;
				last = d;
				at = c1[d];
			}
			a[at++] = c[i];
		}
	}
	last = UINT32_MAX;
	for (size_t i = 0; i < n; i++) {
		uint32_t d = (uint32_t)(a[i] >> (32 + PASS1_BITS)) & (R2 - 1);
		if (d != last) {
			if (last != UINT32_MAX)
				c2[last] = at;
			last = d;
			at = c2[d];
		}
		s[at++] = a[i];
	}
	return s;
}

/* Every bucket in key order into keytab, singles and post. */
static bool lay_out(struct fcap_index_builder *ib, struct layout *lay)
{
	*lay = (struct layout){ 0 };
	if (!ib->keys || ib->nent == 0)
		return true;
	flush_stage(ib);
	size_t most = 0;
	for (unsigned i = 0; i < BUCKETS; i++) {
		const struct bucket *b = &ib->bk[i];
		size_t n = b->nchunks ? (size_t)(b->nchunks - 1) * CHUNK + b->fill : 0;
		if (n > most)
			most = n;
	}
	size_t cs = ib->cap_sort;
	if (!grow((void **)&ib->sa, &cs, most, sizeof(uint64_t)))
		return false;
	cs = ib->cap_sort;
	if (!grow((void **)&ib->sb, &cs, most, sizeof(uint64_t)))
		return false;
	ib->cap_sort = cs;
	if (!grow((void **)&ib->keytab, &ib->cap_keytab, ib->nent, sizeof(struct key2)) ||
	    !grow((void **)&ib->singles, &ib->cap_singles, ib->nent, sizeof(struct single)) ||
	    !grow((void **)&ib->post, &ib->cap_post, ib->nent, sizeof(uint32_t)))
		return false;
	for (unsigned i = 0; i < BUCKETS; i++) {
		const struct bucket *b = &ib->bk[i];
		size_t n = b->nchunks ? (size_t)(b->nchunks - 1) * CHUNK + b->fill : 0;
		if (n)
			emit(ib, sort_bucket(ib, b, n), n, lay);
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
	uint32_t *crc = NULL;
	uint8_t *head = NULL;
	int rc = -1;
	struct layout lay;
	if (!lay_out(ib, &lay)) {
		fcap_err(errbuf, "%s: out of memory writing the index", path);
		goto out;
	}
	size_t nkeys = lay.nkeys, npost = lay.npost;

	/* Body: blocks | offsets | keys | singles | postings, each 8-byte aligned. */
	size_t lb = ib->nblocks * sizeof(struct fcap_index_block), lo = ib->nrec * 4, lk = nkeys * sizeof(struct key2),
	       ls = lay.nsingles * sizeof(struct single), lp = npost * 4;
	uint64_t o_blocks = 0, o_offsets = align8(lb), o_keys = o_offsets + align8(lo), o_singles = o_keys + align8(lk),
		 o_post = o_singles + align8(ls);
	uint64_t body_len = o_post + align8(lp);
	struct piece pc[] = {
		{ ib->blocks, lb },   { pad_bytes, align8(lb) - lb }, { ib->offsets, lo }, { pad_bytes, align8(lo) - lo },
		{ ib->keytab, lk },   { pad_bytes, align8(lk) - lk }, { ib->singles, ls }, { pad_bytes, align8(ls) - ls },
		{ ib->post, lp },     { pad_bytes, align8(lp) - lp },
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
	st32(head + IX_FLAGS, (ib->keys ? IX_FLAG_KEYS : 0) | (ib->deferred ? IX_FLAG_KEYS_DEFERRED : 0));
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
	st64(head + IX_NSINGLES, lay.nsingles);
	st64(head + IX_OFF_SINGLES, o_singles);
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
