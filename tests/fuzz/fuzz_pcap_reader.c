/*
 * fuzz_pcap_reader.c - the scorer's and trainer's pcap/pcapng reader
 * (host/lib/pcap_reader.c) on arbitrary files: every packet it hands out
 * must lie inside the file, and a bad file must end in an error, not a
 * crash or a hang.
 */
#include "fuzz_common.h"

#include <string.h>

#include "fcap/pcap_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_file f;
	char errbuf[FCAP_ERRBUF_SIZE];

	fuzz_file_open(&f, data, size);
	struct fcap_pcap_reader *r = fcap_pcap_open(f.path, errbuf);
	if (r != NULL) {
		struct fcap_pkt p;
		uint64_t sum = 0;
		int rc;
		while ((rc = fcap_pcap_next(r, &p, errbuf)) == 1) {
			/* Touch every byte handed out: ASan catches a packet
			 * that runs past what the reader holds. */
			for (uint32_t i = 0; i < p.caplen; i++)
				sum += p.data[i];
			if (p.caplen > p.origlen && p.origlen != 0)
				abort();
		}
		if (rc < 0 && errbuf[0] == '\0')
			abort();                /* an error must say what */
		(void)sum;
		(void)fcap_pcap_format(r);
		fcap_pcap_close(r);
	} else if (errbuf[0] == '\0') {
		abort();
	}
	fuzz_file_close(&f);
	return 0;
}
