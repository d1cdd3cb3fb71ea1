/*
 * fuzz_common.h - what every libFuzzer target shares.
 *
 * Readers that take a path (replay files, segments, indexes) get the
 * fuzzer's bytes through an anonymous memory file: memfd_create() plus
 * /proc/self/fd/N, so no target touches the disk and inputs never collide
 * between parallel runs.
 */
#ifndef FCAP_FUZZ_COMMON_H
#define FCAP_FUZZ_COMMON_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

struct fuzz_file {
	int fd;
	char path[64];
};

/* Puts data[0..size) in a fresh memory file; aborts if the kernel refuses
 * (that is the harness failing, not the code under test). */
static inline void fuzz_file_open(struct fuzz_file *f, const uint8_t *data, size_t size)
{
	f->fd = memfd_create("fcap-fuzz", 0);
	if (f->fd < 0) {
		perror("memfd_create");
		abort();
	}
	size_t done = 0;
	while (done < size) {
		ssize_t n = write(f->fd, data + done, size - done);
		if (n <= 0) {
			perror("write memfd");
			abort();
		}
		done += (size_t)n;
	}
	snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
}

static inline void fuzz_file_close(struct fuzz_file *f)
{
	close(f->fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
