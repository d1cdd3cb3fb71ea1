/*
 * cosim_ivshmem.h - the server side of QEMU's ivshmem protocol, for one guest.
 *
 * QEMU's ivshmem-doorbell device connects to a UNIX socket and receives,
 * as 64-bit little-endian messages some carrying a file descriptor
 * (QEMU docs/specs/ivshmem-spec): the protocol version, its own peer id,
 * the shared memory, then the eventfds of every peer's interrupt vectors.
 * The co-simulator (fcap-cosim) is that server and also peer 0: the guest
 * rings peer 0's vector 0 to wake it, and it writes the guest's vector 0
 * eventfd to raise the guest's MSI-X interrupt.
 */
#ifndef FCAP_COSIM_IVSHMEM_H
#define FCAP_COSIM_IVSHMEM_H

#include <stdint.h>

struct cosim_ivshmem {
	int listen_fd;
	int conn_fd;      /* QEMU's connection; -1 until accepted */
	int doorbell_fd;  /* eventfd: the guest rang peer 0 (us) */
	int vector_fd;    /* eventfd: the guest's MSI-X vector 0 */
};

/* Creates the socket at path (replacing a stale one) and the eventfds. */
int cosim_ivshmem_listen(struct cosim_ivshmem *iv, const char *path, char *errbuf);
/* Waits up to timeout_ms for QEMU, then sends it the setup messages. */
int cosim_ivshmem_accept(struct cosim_ivshmem *iv, int shm_fd, int timeout_ms, char *errbuf);
/* Raises the guest's interrupt vector 0. */
int cosim_ivshmem_interrupt(struct cosim_ivshmem *iv, char *errbuf);
/* Consumes pending doorbell rings (non-blocking). */
void cosim_ivshmem_drain(struct cosim_ivshmem *iv);
void cosim_ivshmem_close(struct cosim_ivshmem *iv);

#endif
