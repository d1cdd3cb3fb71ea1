/*
 * dev_pcie.c - the "pcie" backend: a card behind the fcap kernel driver.
 *
 * /dev/fcapN (driver/, protocol in fcap/uapi.h and docs/DRIVER.md). The
 * driver owns the registers and the ring memory; this backend never sees a
 * register. Identity, start/stop, the consumer index and counters are
 * ioctls; the ring is mapped read-only, chunk by chunk, into one reserved
 * address range so that ring.c sees the blocks as one array; waiting is
 * poll(), which arms the card's interrupt in the driver.
 *
 * Everything the driver reports is checked before use like any input: the
 * geometry must describe a mapping that fits, the blob size must fit the
 * buffer we gave.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fcap/cardctl.h"
#include "fcap/dev.h"
#include "fcap/ring.h"
#include "fcap/uapi.h"

struct pcie_dev {
	struct fcap_dev dev;
	int fd;
	char path[64];
	struct fcap_ioc_info info;
};

static struct pcie_dev *to_pcie(struct fcap_dev *dev)
{
	return (struct pcie_dev *)dev->priv;
}

/* ioctl, retried on EINTR; -1 with errno set. */
static int xioctl(struct pcie_dev *pd, unsigned long cmd, void *arg)
{
	int rc;
	do {
		rc = ioctl(pd->fd, cmd, arg);
	} while (rc < 0 && errno == EINTR);
	return rc;
}

static int ioctl_err(struct pcie_dev *pd, const char *what, char *errbuf)
{
	if (errno == ENODEV)
		return fcap_err(errbuf, "%s: %s: the card is gone (removed or unbound)", pd->path, what);
	return fcap_err(errbuf, "%s: %s: %s", pd->path, what, strerror(errno));
}

static int pcie_read_dt(struct fcap_dev *dev, uint32_t *id, uint32_t *version, uint8_t **blob, size_t *len,
			char *errbuf)
{
	struct pcie_dev *pd = to_pcie(dev);
	uint32_t size = pd->info.dt_size;
	if (size == 0 || size > (1u << 20))
		return fcap_err(errbuf, "%s: the driver reports a device tree of %u bytes", pd->path, size);
	uint8_t *buf = malloc(size);
	if (!buf)
		return fcap_err(errbuf, "out of memory reading the device tree");
	struct fcap_ioc_dt req = { .buf = (uint64_t)(uintptr_t)buf, .len = size };
	if (xioctl(pd, FCAP_IOC_GET_DT, &req) < 0) {
		free(buf);
		return ioctl_err(pd, "reading the device tree", errbuf);
	}
	if (req.size == 0 || req.size > size) {
		free(buf);
		return fcap_err(errbuf, "%s: device tree of %u bytes does not fit the %u announced", pd->path,
				req.size, size);
	}
	*id = pd->info.id;
	*version = pd->info.version;
	*blob = buf;
	*len = req.size;
	return 0;
}

static int check_geometry(const struct pcie_dev *pd, const struct fcap_ioc_ring *g, size_t *total, char *errbuf)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	if (g->nblocks == 0 || g->block_size == 0 || g->block_size % page || g->chunk_blocks == 0 ||
	    g->status_len < 8 || g->status_len % page || g->status_offset % page || g->blocks_offset % page)
		return fcap_err(errbuf, "%s: the driver reports an unusable ring (%u blocks of %u bytes, chunks "
				"of %u, status page %u bytes)", pd->path, g->nblocks, g->block_size,
				g->chunk_blocks, g->status_len);
	if ((uint64_t)g->nblocks * g->block_size > SIZE_MAX - g->status_len)
		return fcap_err(errbuf, "%s: ring of %u x %u bytes does not fit this address space", pd->path,
				g->nblocks, g->block_size);
	*total = g->status_len + (size_t)g->nblocks * g->block_size;
	return 0;
}

static int pcie_ring_map(struct fcap_dev *dev, const struct fcap_ring_config *cfg, struct fcap_ring *ring,
			 char *errbuf)
{
	struct pcie_dev *pd = to_pcie(dev);
	struct fcap_ioc_ring g = { .ring = ring->index };
	size_t total = 0;
	if (xioctl(pd, FCAP_IOC_RING, &g) < 0)
		return ioctl_err(pd, "reading the ring geometry", errbuf);
	if (check_geometry(pd, &g, &total, errbuf) < 0)
		return -1;
	if ((cfg->blocks && cfg->blocks != g.nblocks) || (cfg->block_size && cfg->block_size != g.block_size))
		return fcap_err(errbuf, "%s: the driver's ring is %u blocks of %u bytes (module parameters "
				"blocks= and block_size=, docs/DRIVER.md); asked for %u x %u", pd->path,
				g.nblocks, g.block_size, cfg->blocks ? cfg->blocks : g.nblocks,
				cfg->block_size ? cfg->block_size : g.block_size);
	/* One reserved range; the status page and each chunk are mapped into it side by side. */
	uint8_t *va = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (va == MAP_FAILED)
		return fcap_err(errbuf, "%s: cannot reserve %zu bytes for the ring: %s", pd->path, total,
				strerror(errno));
	if (mmap(va, g.status_len, PROT_READ, MAP_SHARED | MAP_FIXED, pd->fd, (off_t)g.status_offset) == MAP_FAILED) {
		fcap_err(errbuf, "%s: mapping the status page: %s", pd->path, strerror(errno));
		munmap(va, total);
		return -1;
	}
	for (uint32_t first = 0; first < g.nblocks; first += g.chunk_blocks) {
		uint32_t n = g.nblocks - first < g.chunk_blocks ? g.nblocks - first : g.chunk_blocks;
		size_t off = (size_t)first * g.block_size;
		if (mmap(va + g.status_len + off, (size_t)n * g.block_size, PROT_READ, MAP_SHARED | MAP_FIXED, pd->fd,
			 (off_t)(g.blocks_offset + off)) == MAP_FAILED) {
			fcap_err(errbuf, "%s: mapping ring blocks %u..%u: %s", pd->path, first, first + n - 1,
				 strerror(errno));
			munmap(va, total);
			return -1;
		}
	}
	ring->mem = (struct fcap_dma_buf){ .va = va, .bus = 0, .len = total, .huge = false };
	ring->status = (const uint32_t *)va;
	ring->blocks = va + g.status_len;
	ring->nblocks = g.nblocks;
	ring->block_size = g.block_size;
	return 0;
}

static void pcie_ring_unmap(struct fcap_dev *dev, struct fcap_ring *ring)
{
	(void)dev;
	munmap(ring->mem.va, ring->mem.len);
	memset(&ring->mem, 0, sizeof(ring->mem));
}

static int pcie_ring_return(struct fcap_dev *dev, uint32_t ring, uint32_t cons, char *errbuf)
{
	struct pcie_dev *pd = to_pcie(dev);
	struct fcap_ioc_release rel = { .ring = ring, .cons = cons };
	if (xioctl(pd, FCAP_IOC_RELEASE, &rel) < 0)
		return ioctl_err(pd, "returning blocks to the card", errbuf);
	return 0;
}

static int pcie_start(struct fcap_dev *dev, const struct fcap_ring_config *cfg, char *errbuf)
{
	struct pcie_dev *pd = to_pcie(dev);
	struct fcap_ioc_start st = {
		.block_timeout_ns = cfg->timeout_ns, .snaplen = cfg->snaplen,
		.flags = cfg->hash ? FCAP_START_HASH : 0,
		.irq_blocks = cfg->irq_blocks, .irq_usecs = cfg->irq_usecs,
	};
	if (xioctl(pd, FCAP_IOC_START, &st) < 0)
		return ioctl_err(pd, "starting capture", errbuf);
	return 0;
}

static int pcie_stop(struct fcap_dev *dev, char *errbuf)
{
	struct pcie_dev *pd = to_pcie(dev);
	struct fcap_ioc_stop st = { 0 };
	if (xioctl(pd, FCAP_IOC_STOP, &st) < 0) {
		if (errno == ETIMEDOUT)
			return fcap_err(errbuf, "%s: the card did not drain and close its blocks (kernel log: dmesg)",
					pd->path);
		return ioctl_err(pd, "stopping capture", errbuf);
	}
	return 0;
}

static int pcie_counters(struct fcap_dev *dev, struct fcap_card_counters *c, char *errbuf)
{
	struct pcie_dev *pd = to_pcie(dev);
	struct fcap_ioc_counters k = { 0 };
	if (xioctl(pd, FCAP_IOC_COUNTERS, &k) < 0)
		return ioctl_err(pd, "reading the counters", errbuf);
	if (k.nports > FCAP_UAPI_MAX_PORTS || k.nports > sizeof(c->port) / sizeof(c->port[0]))
		return fcap_err(errbuf, "%s: the driver reports counters for %u ports", pd->path, k.nports);
	c->records = k.records;
	c->blocks = k.blocks;
	c->nports = k.nports;
	for (unsigned p = 0; p < k.nports; p++) {
		const struct fcap_ioc_port_counters *s = &k.port[p];
		c->port[p] = (struct fcap_port_counters){
			.rx_frames = s->rx_frames, .rx_bytes = s->rx_bytes, .drop_fifo = s->drop_fifo,
			.drop_ring = s->drop_ring, .rx_errors = s->rx_errors, .truncated = s->truncated,
		};
	}
	return 0;
}

static int pcie_wait(struct fcap_dev *dev, uint64_t timeout_ns, char *errbuf)
{
	struct pcie_dev *pd = to_pcie(dev);
	uint64_t ms = (timeout_ns + 999999u) / 1000000u;
	struct pollfd p = { .fd = pd->fd, .events = POLLIN };
	int rc = poll(&p, 1, ms > INT_MAX ? INT_MAX : (int)(ms ? ms : 1));
	if (rc < 0 && errno != EINTR)
		return fcap_err(errbuf, "%s: poll: %s", pd->path, strerror(errno));
	if (rc > 0 && (p.revents & (POLLHUP | POLLERR)))
		return fcap_err(errbuf, "%s: the card is gone (removed or unbound)", pd->path);
	return 0; /* a signal: the caller looks at its stop flag */
}

/* Polling: the interrupt stays unarmed (no poll()); the consumer sleeps a
 * little between looks at the status pages. */
static void pcie_pause(struct fcap_dev *dev, uint64_t ns)
{
	(void)dev;
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u) };
	nanosleep(&ts, NULL);
}

static void pcie_close(struct fcap_dev *dev)
{
	struct pcie_dev *pd = to_pcie(dev);
	close(pd->fd);
	free(pd);
}

static const struct fcap_dev_ops pcie_ops = {
	.name = "pcie",
	.wait = pcie_wait,
	.pause = pcie_pause,
	.close = pcie_close,
	.read_dt = pcie_read_dt,
	.ring_map = pcie_ring_map,
	.ring_unmap = pcie_ring_unmap,
	.ring_return = pcie_ring_return,
	.start = pcie_start,
	.stop = pcie_stop,
	.counters = pcie_counters,
};

int fcap_dev_pcie_path(const char *name, char *path, size_t n, char *errbuf)
{
	const char *num;
	if (strncmp(name, "pcie:", 5) == 0)
		num = name + 5;
	else if (strncmp(name, "/dev/fcap", 9) == 0)
		num = name + 9;
	else
		return 0;
	char *end;
	errno = 0;
	unsigned long v = strtoul(num, &end, 10);
	if (num[0] < '0' || num[0] > '9' || *end || errno || v > 255)
		return fcap_err(errbuf, "device '%s': expected /dev/fcapN or pcie:N with N a card number", name);
	snprintf(path, n, "/dev/fcap%lu", v);
	return 1;
}

static const char *open_hint(int err)
{
	switch (err) {
	case ENOENT:
		return "no such device (is the fcap driver loaded and the card bound? docs/DRIVER.md)";
	case EACCES:
		return "permission denied (join the device's group, docs/DRIVER.md)";
	case EBUSY:
		return "another process is capturing from this card";
	case ENXIO:
		return "no card behind this device node";
	default:
		return strerror(err);
	}
}

struct fcap_dev *fcap_dev_open_pcie(const char *path, bool control, char *errbuf)
{
	struct pcie_dev *pd = calloc(1, sizeof(*pd));
	if (!pd) {
		fcap_err(errbuf, "pcie: out of memory");
		return NULL;
	}
	snprintf(pd->path, sizeof(pd->path), "%s", path);
	pd->fd = open(path, (control ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (pd->fd < 0) {
		fcap_err(errbuf, "%s: %s", path, open_hint(errno));
		free(pd);
		return NULL;
	}
	pd->dev.ops = &pcie_ops;
	pd->dev.priv = pd;
	if (xioctl(pd, FCAP_IOC_INFO, &pd->info) < 0) {
		if (errno == ENOTTY)
			fcap_err(errbuf, "%s: not an fcap device", path);
		else
			ioctl_err(pd, "reading the card's identity", errbuf);
		pcie_close(&pd->dev);
		return NULL;
	}
	if (pd->info.uapi_version != FCAP_UAPI_VERSION) {
		fcap_err(errbuf, "%s: the driver speaks interface version %u, this build %u", path,
			 pd->info.uapi_version, FCAP_UAPI_VERSION);
		pcie_close(&pd->dev);
		return NULL;
	}
	return &pd->dev;
}
