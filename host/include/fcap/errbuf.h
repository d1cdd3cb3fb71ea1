/*
 * fcap/errbuf.h - error reporting convention of libfcap.
 *
 * Like libpcap: a function that can fail takes `char *errbuf` pointing at
 * FCAP_ERRBUF_SIZE bytes, returns -1 (or NULL) and leaves there one line that
 * says what failed and where (file and byte offset, block and record), with no
 * trailing newline.
 */
#ifndef FCAP_ERRBUF_H
#define FCAP_ERRBUF_H

#include <stdarg.h>

#define FCAP_ERRBUF_SIZE 512

/* snprintf into errbuf; returns -1 so that callers can `return fcap_err(...)`. */
int fcap_err(char *errbuf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes errbuf's message with "prefix: ". */
void fcap_err_prefix(char *errbuf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
