/*
 * segment_writer.c - one segment file being written (segment_writer.h).
 */
#define _GNU_SOURCE
#include "segment_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fcap/pcapng.h"

#define ALIGN 4096u

int seg_buffers_init(struct seg_buffers *b, char *errbuf)
{
	memset(b, 0, sizeof(*b));
	void *p;
	if (posix_memalign(&p, ALIGN, FCAP_STORED_TAIL_MAX))
		return fcap_err(errbuf, "out of memory for the writer's buffers");
	b->tail = p;
	return 0;
}

void seg_buffers_free(struct seg_buffers *b)
{
	free(b->tail);
	free(b->bounce);
	memset(b, 0, sizeof(*b));
}

/* Writes iov fully at off. Returns 0, or -1 with errno set (0: no progress). */
static int pwritev_all(int fd, struct iovec *iov, int n, uint64_t off)
{
	while (n > 0) {
		ssize_t k = pwritev(fd, iov, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0) {
			errno = ENOSPC;
			return -1;
		}
		off += (uint64_t)k;
		while (n > 0 && (size_t)k >= iov->iov_len) {
			k -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + k;
			iov->iov_len -= (size_t)k;
		}
	}
	return 0;
}

static bool is_enospc(int e)
{
	return e == ENOSPC || e == EDQUOT;
}

int seg_file_create(struct seg_file *f, const char *dir, uint64_t start_ns, uint32_t ring, const uint8_t *hdr,
		    size_t hdr_len, bool *direct_ok, bool *enospc, char *errbuf)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	*enospc = false;
	for (unsigned dup = 0;; dup++) {
		fcap_seg_name(start_ns, ring, dup, f->name);
		fcap_store_path(f->path, sizeof(f->path), dir, f->name, "pcapng", false);
		fcap_store_path(f->hidden, sizeof(f->hidden), dir, f->name, "pcapng", true);
		if (access(f->path, F_OK) == 0 && dup < 1000)
			continue;
		int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
		int e = 0;
		if (*direct_ok) {
			f->fd = open(f->hidden, flags | O_DIRECT, 0644);
			e = errno;
			if (f->fd >= 0)
				f->direct = true;
			else if (e == EINVAL)
				*direct_ok = false;     /* this filesystem has no O_DIRECT */
		}
		if (f->fd < 0 && !*direct_ok) {
			f->fd = open(f->hidden, flags, 0644);
			e = errno;
		}
		if (f->fd < 0 && e == EEXIST && dup < 1000)
			continue;
		errno = e;
		break;
	}
	if (f->fd < 0) {
		*enospc = is_enospc(errno);
		return fcap_err(errbuf, "%s: cannot create: %s", f->hidden, strerror(errno));
	}
	struct iovec iov = { (void *)hdr, hdr_len };
	if (pwritev_all(f->fd, &iov, 1, 0) < 0) {
		int e = errno;
		*enospc = is_enospc(e);
		fcap_err(errbuf, "%s: writing the %zu-byte file header failed: %s", f->hidden, hdr_len, strerror(e));
		seg_file_discard(f);
		return -1;
	}
	f->size = hdr_len;
	return 0;
}

/* An aligned copy of len bytes of blk, for O_DIRECT from unaligned memory. */
static const uint8_t *aligned_copy(struct seg_buffers *b, const uint8_t *blk, size_t len)
{
	if (b->bounce_len < len) {
		void *p;
		if (posix_memalign(&p, ALIGN, len))
			return NULL;
		free(b->bounce);
		b->bounce = p;
		b->bounce_len = len;
	}
	memcpy(b->bounce, blk, len);
	return b->bounce;
}

int seg_file_write_block(struct seg_file *f, struct seg_buffers *b, const uint8_t *blk,
			 const struct fcap_block_info *bi, bool *enospc, char *errbuf)
{
	*enospc = false;
	struct fcap_stored_block sb;
	fcap_pcapng_stored_split(blk, bi, b->tail, &sb);
	const uint8_t *head = sb.head;
	if (f->direct && ((uintptr_t)head % ALIGN)) {
		head = aligned_copy(b, head, sb.head_len);
		if (!head)
			return fcap_err(errbuf, "%s: out of memory for an aligned copy", f->hidden);
	}
	struct iovec iov[2] = { { (void *)head, sb.head_len }, { (void *)sb.tail, sb.tail_len } };
	int n = sb.tail_len ? 2 : 1;
	if (pwritev_all(f->fd, iov, n, f->size) < 0) {
		int e = errno;
		*enospc = is_enospc(e);
		fcap_err(errbuf, "%s: write of a %u-byte block at byte offset %llu failed: %s", f->hidden,
			 sb.head_len + sb.tail_len, (unsigned long long)f->size, strerror(e));
		/* Whatever part of it reached the file goes: the file ends at a whole block. */
		if (ftruncate(f->fd, (off_t)f->size) < 0)
			fcap_err_prefix(errbuf, "(and cutting it back failed: %s)", strerror(errno));
		return -1;
	}
	f->size += sb.head_len + sb.tail_len;
	return 0;
}

int seg_file_finish(struct seg_file *f, const uint8_t *isb, size_t isb_len, bool *isb_written, char *errbuf)
{
	*isb_written = false;
	int rc = 0;
	/* The statistics are not a 4 KiB multiple: write them through the cache. */
	if (f->direct) {
		int fl = fcntl(f->fd, F_GETFL);
		if (fl >= 0)
			fcntl(f->fd, F_SETFL, fl & ~O_DIRECT);
	}
	if (isb && isb_len) {
		struct iovec iov = { (void *)isb, isb_len };
		if (pwritev_all(f->fd, &iov, 1, f->size) == 0)
			*isb_written = true;
		else if (ftruncate(f->fd, (off_t)f->size) < 0)
			rc = fcap_err(errbuf, "%s: cutting back partial statistics failed: %s", f->hidden, strerror(errno));
	}
	if (rc == 0 && fsync(f->fd) < 0)
		rc = fcap_err(errbuf, "%s: fsync failed: %s", f->hidden, strerror(errno));
	if (close(f->fd) < 0 && rc == 0)
		rc = fcap_err(errbuf, "%s: close failed: %s", f->hidden, strerror(errno));
	f->fd = -1;
	if (*isb_written)
		f->size += isb_len;
	return rc;
}

void seg_file_discard(struct seg_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	unlink(f->hidden);
}
