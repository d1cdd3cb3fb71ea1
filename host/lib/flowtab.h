/*
 * flowtab.h - bounded set-associative state tables (internal).
 *
 * A table of 2^k sets of FLOWTAB_WAYS entries, each a fixed-size payload
 * behind a key. A key that is not present takes a free way of its set, or
 * the way least recently seen: memory never grows. An entry not seen for
 * idle_ns is handed back zeroed, as if new.
 */
#ifndef FCAP_FLOWTAB_H
#define FCAP_FLOWTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOWTAB_WAYS 8

struct flowkey {
	uint8_t a[16], b[16];
	uint16_t pa, pb;
	uint8_t kind;
	uint8_t pad[3];
};

struct flowtab {
	void *map;             /* one mapping holding the three arrays below */
	size_t map_len;
	uint8_t *mem;          /* entries: key, then payload */
	uint32_t *tags;        /* per entry: hash tag, 0 when free */
	uint64_t *seen;        /* per entry: time last seen */
	uint32_t set_mask;
	size_t esize;          /* bytes per entry: key + payload */
	uint64_t idle_ns;
	uint64_t inserts, evict_idle, evict_lru;
};

int flowtab_init(struct flowtab *t, uint32_t entries, size_t payload, uint64_t idle_ns);
void flowtab_free(struct flowtab *t);
size_t flowtab_bytes(const struct flowtab *t);
/* Forgets every entry (and the counters), keeping the memory mapped: a
 * way is free when its tag is 0, and a new entry is zeroed when taken. */
void flowtab_clear(struct flowtab *t);
/* The payload for key k at time now, zeroed when new (then *fresh = true). */
void *flowtab_get(struct flowtab *t, const struct flowkey *k, uint64_t now, bool *fresh);

/* The same in two steps, so that a packet's keys can be hashed and its
 * memory fetched ahead (features.c works a few packets ahead):
 * flowtab_hash, then flowtab_prefetch_set (the set's tags and times), then
 * flowtab_prefetch_entry (the entry the key will get: its own, or the one
 * it would replace), then flowtab_get_h. The prefetches are hints: they
 * change nothing, and flowtab_get_h decides afresh. */
uint64_t flowtab_hash(const struct flowkey *k);
void flowtab_prefetch_set(const struct flowtab *t, uint64_t h);
void flowtab_prefetch_entry(const struct flowtab *t, uint64_t h);
void *flowtab_get_h(struct flowtab *t, const struct flowkey *k, uint64_t h, uint64_t now, bool *fresh);

#endif
