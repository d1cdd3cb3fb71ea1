/*
 * fcap/pcap_reader.h - reading packets from pcap and pcapng files.
 *
 * Accepts classic pcap (microsecond and nanosecond magic, either byte order)
 * and pcapng from any tool (any section byte order, several sections, any
 * if_tsresol and if_tsoffset, EPB, SPB and the obsolete Packet Block; other
 * blocks, such as fcap's local-use ring headers, are skipped). Every length
 * is checked against its enclosing length before use; a malformed file
 * yields an error naming the file and the byte offset of the bad record.
 *
 * Each packet comes with its packet number (1-based, as tshark counts) and
 * the byte offset of its record in the file, so that anything derived from
 * it can point back at identical bytes.
 */
#ifndef FCAP_PCAP_READER_H
#define FCAP_PCAP_READER_H

#include <stdint.h>

#include "fcap/errbuf.h"

/* Link types we hand on (the numbers of the tcpdump.org registry). */
#define FCAP_LINKTYPE_ETHERNET 1
#define FCAP_LINKTYPE_RAW      101
#define FCAP_LINKTYPE_LINUX_SLL 113

struct fcap_pkt {
	uint64_t number;      /* 1-based packet number in the file */
	uint64_t offset;      /* byte offset of the packet's record (pcap) or block (pcapng) */
	uint32_t ifindex;     /* interface id (pcapng), 0 for pcap */
	uint32_t linktype;    /* of the packet's interface */
	uint64_t ts_ns;       /* ns since the epoch */
	uint32_t caplen;
	uint32_t origlen;
	const uint8_t *data;  /* caplen bytes, valid until the next call */
};

struct fcap_pcap_reader;

/* Opens a file and reads its header. NULL with errbuf set on failure. */
struct fcap_pcap_reader *fcap_pcap_open(const char *path, char *errbuf);

/* Next packet: 1 with *p filled, 0 at the end of the file, -1 with errbuf
 * naming the file and offset. After an error the reader stays at the error. */
int fcap_pcap_next(struct fcap_pcap_reader *r, struct fcap_pkt *p, char *errbuf);

/* "pcap" or "pcapng". */
const char *fcap_pcap_format(const struct fcap_pcap_reader *r);

void fcap_pcap_close(struct fcap_pcap_reader *r);

#endif
