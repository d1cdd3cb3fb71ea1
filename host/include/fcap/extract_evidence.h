/*
 * fcap/extract_evidence.h - an alert's packets, byte for byte, out of the
 * capture file that was scored (`fcap extract --alert`, docs/ALERTS.md).
 */
#ifndef FCAP_EXTRACT_EVIDENCE_H
#define FCAP_EXTRACT_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fcap/errbuf.h"

/* Writes to out the file's header blocks and the n packets numbered num[]
 * (ascending) at byte offsets off[]: a pcap file for a pcap file, a pcapng
 * file (its section headers and interface blocks, then the packets' blocks
 * as stored) for a pcapng file. *written: bytes written. */
int fcap_extract_evidence(const char *path, const uint64_t *num, const uint64_t *off, size_t n, FILE *out,
			  uint64_t *written, char *errbuf);

#endif
