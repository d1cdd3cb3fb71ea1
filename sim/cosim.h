/*
 * cosim.h - the bridge between a QEMU guest running fcap.ko and the
 * Verilated card in this process (docs/COSIM.md).
 *
 * Memory: the guest's RAM is a file QEMU maps with share=on; we map it too
 * and hand it to the card's DMA at bus address 0, so bus address = guest
 * physical address (no IOMMU). Registers: a mailbox in the shared memory of
 * an ivshmem-doorbell device (fcap/mbox.h). Interrupts: the card's MSI
 * becomes a write to the guest's ivshmem vector eventfd (MSI-X). Time: the
 * card runs in simulated time while it has work or the guest has touched
 * it recently, and stands still otherwise.
 */
#ifndef FCAP_COSIM_H
#define FCAP_COSIM_H

#include <signal.h>
#include <stdint.h>

#define COSIM_MAX_REPLAYS 8

struct cosim_config {
	const char *socket_path;  /* ivshmem server socket QEMU connects to */
	const char *ram_path;     /* guest RAM file (created, ram_bytes long) */
	uint64_t ram_bytes;
	const char *replay[COSIM_MAX_REPLAYS]; /* capture session k replays replay[k] on port 0 */
	unsigned nreplay;
	uint64_t rate_bps;        /* line rate of the replay */
	uint64_t idle_cycles;     /* keep clocking this long after the last activity */
	uint32_t slice_cycles;    /* card cycles between looks at the mailbox */
	int accept_timeout_ms;
	const char *stats_path;   /* per-session counters, written at the end */
	volatile sig_atomic_t *stop;      /* set (by a signal handler): end as if QEMU had left */
};

/* Runs until QEMU disconnects or *stop is set; -1 with errbuf set on an error (a DMA write
 * outside guest RAM, a replay error, a socket failure). */
int cosim_run(const struct cosim_config *cfg, char *errbuf);

#endif
