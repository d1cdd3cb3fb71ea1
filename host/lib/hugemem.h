/*
 * hugemem.h - host memory for rings and large tables (internal).
 *
 * Rings live in 2 MiB hugepages when the system has them (fewer TLB misses,
 * and physically contiguous chunks for a real card); otherwise in normal
 * pages, with a one-line notice on stderr the first time.
 */
#ifndef FCAP_HUGEMEM_H
#define FCAP_HUGEMEM_H

#include <stdbool.h>
#include <stddef.h>

void *fcap_huge_alloc(size_t len, size_t *mapped_len, bool *huge, char *errbuf);
void fcap_huge_free(void *p, size_t mapped_len);

/* Zeroed memory on a 2 MiB boundary, advised for transparent hugepages:
 * large lookup tables touched at random (the flow state) then miss the
 * TLB far less. NULL if it cannot be mapped. Freed with fcap_huge_free. */
void *fcap_thp_alloc(size_t len, size_t *mapped_len);

#endif
