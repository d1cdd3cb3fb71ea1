/* errbuf.c - libfcap's error buffer helpers (fcap/errbuf.h). */
#include "fcap/errbuf.h"

#include <stdio.h>
#include <string.h>

int fcap_err(char *errbuf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, FCAP_ERRBUF_SIZE, fmt, ap);
	va_end(ap);
	return -1;
}

void fcap_err_prefix(char *errbuf, const char *fmt, ...)
{
	char prefix[FCAP_ERRBUF_SIZE];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix) - 2, fmt, ap);
	va_end(ap);
	strcat(prefix, ": ");

	/* Shift the message right to make room; cut its end if it no longer fits. */
	size_t plen = strlen(prefix);
	size_t mlen = strnlen(errbuf, FCAP_ERRBUF_SIZE - 1);
	if (plen + mlen > FCAP_ERRBUF_SIZE - 1)
		mlen = FCAP_ERRBUF_SIZE - 1 - plen;
	memmove(errbuf + plen, errbuf, mlen);
	memcpy(errbuf, prefix, plen);
	errbuf[plen + mlen] = '\0';
}
