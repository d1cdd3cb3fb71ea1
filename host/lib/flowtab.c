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

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v * 0x9e3779b97f4a7c15ull;
	h = (h ^ (h >> 31)) * 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 29);
}

static uint64_t key_hash(const struct flowkey *k)
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
	t->mem = calloc(n, t->esize);
	t->tags = calloc(n, sizeof(uint32_t));
	t->seen = calloc(n, sizeof(uint64_t));
	if (!t->mem || !t->tags || !t->seen) {
		flowtab_free(t);
		return -1;
	}
	return 0;
}

void flowtab_free(struct flowtab *t)
{
	free(t->mem);
	free(t->tags);
	free(t->seen);
	t->mem = NULL;
	t->tags = NULL;
	t->seen = NULL;
}

size_t flowtab_bytes(const struct flowtab *t)
{
	return ((size_t)t->set_mask + 1) * FLOWTAB_WAYS * (t->esize + sizeof(uint32_t) + sizeof(uint64_t));
}

static bool idle(const struct flowtab *t, uint64_t seen, uint64_t now)
{
	return t->idle_ns && now > seen && now - seen > t->idle_ns;
}

void *flowtab_get(struct flowtab *t, const struct flowkey *k, uint64_t now, bool *fresh)
{
	uint64_t h = key_hash(k);
	uint32_t tag = (uint32_t)(h >> 32) | 1;   /* 0 marks a free way */
	size_t base = (size_t)(h & t->set_mask) * FLOWTAB_WAYS;
	uint32_t *tags = t->tags + base;
	uint64_t *seen = t->seen + base;
	int victim = 0;
	for (int w = 0; w < FLOWTAB_WAYS; w++) {
		if (tags[w] == tag) {
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
		/* the victim: a free way, else the least recently seen */
		if (tags[victim] && (!tags[w] || seen[w] < seen[victim]))
			victim = w;
	}
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
