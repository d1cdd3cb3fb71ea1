/*
 * hugemem.h - host memory for rings (internal).
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

#endif
