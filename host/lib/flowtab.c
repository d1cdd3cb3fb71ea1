/*
 * flowtab.c - bounded set-associative state tables (flowtab.h).
 *
 * A set's tags and last-seen times sit in two small arrays apart from the
 * entries (one or two cache lines per set), so a lookup reads those and
 * then only the entry it wants, not every entry of the set.
 */
#include "flowtab.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "hugemem.h"

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v * 0x9e3779b97f4a7c15ull;
	h = (h ^ (h >> 31)) * 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 29);
}

uint64_t flowtab_hash(const struct flowkey *k)
{
	uint64_t w[5];
	memcpy(w, k, sizeof(w));
	uint64_t h = 0x243f6a8885a308d3ull;
	for (int i = 0; i < 5; i++)
		h = mix(h, w[i]);
	return h;
}

int flowtab_init(struct flowtab *t, uint32_t entries, size_t payload, uint64_t idle_ns)
{
	_Static_assert(sizeof(struct flowkey) == 40, "flowkey is hashed as five 64-bit words");
	memset(t, 0, sizeof(*t));
	uint32_t sets = 1;
	while ((uint64_t)sets * FLOWTAB_WAYS < entries && sets < (1u << 28))
		sets <<= 1;
	size_t n = (size_t)sets * FLOWTAB_WAYS;
	t->set_mask = sets - 1;
	t->esize = (sizeof(struct flowkey) + payload + 7) & ~(size_t)7;
	t->idle_ns = idle_ns;
	/* entries, then last-seen times, then tags: each part 64-byte aligned */
	size_t mem_len = (n * t->esize + 63) & ~(size_t)63;
	size_t seen_len = (n * sizeof(uint64_t) + 63) & ~(size_t)63;
	t->map = fcap_thp_alloc(mem_len + seen_len + n * sizeof(uint32_t), &t->map_len);
	if (!t->map)
		return -1;
	t->mem = t->map;
	t->seen = (uint64_t *)(t->mem + mem_len);
	t->tags = (uint32_t *)(t->mem + mem_len + seen_len);
	return 0;
}

void flowtab_free(struct flowtab *t)
{
	fcap_huge_free(t->map, t->map_len);
	t->map = NULL;
	t->mem = NULL;
	t->tags = NULL;
	t->seen = NULL;
}

size_t flowtab_bytes(const struct flowtab *t)
{
	return t->map_len;
}

void flowtab_clear(struct flowtab *t)
{
	if (!t->map)
		return;
	size_t n = ((size_t)t->set_mask + 1) * FLOWTAB_WAYS;
	memset(t->tags, 0, n * sizeof(uint32_t));
	memset(t->seen, 0, n * sizeof(uint64_t));
	t->inserts = t->evict_idle = t->evict_lru = 0;
}

static bool idle(const struct flowtab *t, uint64_t seen, uint64_t now)
{
	return t->idle_ns && now > seen && now - seen > t->idle_ns;
}

static inline uint32_t tag_of(uint64_t h)
{
	return (uint32_t)(h >> 32) | 1;   /* 0 marks a free way */
}

static inline size_t set_of(const struct flowtab *t, uint64_t h)
{
	return (size_t)(h & t->set_mask) * FLOWTAB_WAYS;
}

/* Bit w set when way w holds the tag: one compare of the set's eight tags,
 * no branch per way (they mispredict at random). */
static inline unsigned tag_matches(const uint32_t *tags, uint32_t tag)
{
#if defined(__SSE2__)
	__m128i t = _mm_set1_epi32((int)tag);
	__m128i lo = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)tags), t);
	__m128i hi = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(tags + 4)), t);
	return (unsigned)_mm_movemask_ps(_mm_castsi128_ps(lo)) | (unsigned)_mm_movemask_ps(_mm_castsi128_ps(hi)) << 4;
#else
	unsigned m = 0;
	for (int w = 0; w < FLOWTAB_WAYS; w++)
		m |= (unsigned)(tags[w] == tag) << w;
	return m;
#endif
}

/* The way a new key takes: a free one, else the least recently seen. */
static int victim_way(const uint32_t *tags, const uint64_t *seen)
{
	int victim = 0;
	for (int w = 0; w < FLOWTAB_WAYS; w++)
		if (tags[victim] && (!tags[w] || seen[w] < seen[victim]))
			victim = w;
	return victim;
}

void flowtab_prefetch_set(const struct flowtab *t, uint64_t h)
{
	size_t base = set_of(t, h);
	__builtin_prefetch(t->tags + base, 0, 3);
	__builtin_prefetch(t->seen + base, 0, 3);
}

void flowtab_prefetch_entry(const struct flowtab *t, uint64_t h)
{
	size_t base = set_of(t, h);
	const uint32_t *tags = t->tags + base;
	unsigned m = tag_matches(tags, tag_of(h));
	int way = m ? __builtin_ctz(m) : victim_way(tags, t->seen + base);
	const uint8_t *e = t->mem + (base + (size_t)way) * t->esize;
	for (size_t off = 0; off < t->esize; off += 64)
		__builtin_prefetch(e + off, 1, 3);
	__builtin_prefetch(e + t->esize - 1, 1, 3);
}

void *flowtab_get_h(struct flowtab *t, const struct flowkey *k, uint64_t h, uint64_t now, bool *fresh)
{
	uint32_t tag = tag_of(h);
	size_t base = set_of(t, h);
	uint32_t *tags = t->tags + base;
	uint64_t *seen = t->seen + base;
	for (unsigned m = tag_matches(tags, tag); m; m &= m - 1) {
		int w = __builtin_ctz(m);   /* ways in order, as a scan would meet them */
		uint8_t *e = t->mem + (base + w) * t->esize;
		if (memcmp(e, k, sizeof(*k)) == 0) {
			*fresh = idle(t, seen[w], now);
			if (*fresh) {
				t->evict_idle++;
				memset(e + sizeof(*k), 0, t->esize - sizeof(*k));
			}
			seen[w] = now;
			return e + sizeof(*k);
		}
	}
	int victim = victim_way(tags, seen);
	if (tags[victim]) {
		if (idle(t, seen[victim], now))
			t->evict_idle++;
		else
			t->evict_lru++;
	}
	t->inserts++;
	uint8_t *e = t->mem + (base + victim) * t->esize;
	memset(e, 0, t->esize);
	memcpy(e, k, sizeof(*k));
	tags[victim] = tag;
	seen[victim] = now;
	*fresh = true;
	return e + sizeof(*k);
}

void *flowtab_get(struct flowtab *t, const struct flowkey *k, uint64_t now, bool *fresh)
{
	return flowtab_get_h(t, k, flowtab_hash(k), now, fresh);
}
