/* hugemem.c - hugepage-backed allocations with a normal-page fallback. */
#define _GNU_SOURCE
#include "hugemem.h"

#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "fcap/errbuf.h"

#define HUGE_PAGE (2u << 20)

void *fcap_huge_alloc(size_t len, size_t *mapped_len, bool *huge, char *errbuf)
{
	static bool noticed;
	size_t hlen = (len + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	void *p = mmap(NULL, hlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p != MAP_FAILED) {
		*mapped_len = hlen;
		*huge = true;
		return p;
	}
	if (!noticed) {
		fprintf(stderr, "fcap: notice: no 2 MiB hugepages available (%s); ring uses 4 KiB pages\n",
			strerror(errno));
		noticed = true;
	}
	size_t plen = (len + 4095) & ~(size_t)4095;
	p = mmap(NULL, plen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fcap_err(errbuf, "cannot map %zu bytes for the ring: %s", plen, strerror(errno));
		return NULL;
	}
	*mapped_len = plen;
	*huge = false;
	return p;
}

void fcap_huge_free(void *p, size_t mapped_len)
{
	if (p)
		munmap(p, mapped_len);
}

void *fcap_thp_alloc(size_t len, size_t *mapped_len)
{
	/* over-map by one huge page so that the region can start on a boundary */
	size_t hlen = (len + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	uint8_t *p = mmap(NULL, hlen + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	size_t lead = (HUGE_PAGE - ((uintptr_t)p & (HUGE_PAGE - 1))) & (HUGE_PAGE - 1);
	if (lead)
		munmap(p, lead);
	if (HUGE_PAGE - lead)
		munmap(p + lead + hlen, HUGE_PAGE - lead);
	p += lead;
	madvise(p, hlen, MADV_HUGEPAGE);   /* a hint: without transparent hugepages, normal pages */
	*mapped_len = hlen;
	return p;
}
