/*
 * drvtest.c - the driver's user-space interface, exercised inside the QEMU
 * guest (tests/driver/test_qemu.sh). Built static; prints one line per
 * check, "FCAPTEST ok NAME" or "FCAPTEST FAIL NAME: detail", and exits
 * non-zero when a check failed.
 *
 * The card is a stand-in: a QEMU ivshmem memory BAR preloaded with the
 * card's identity, device tree blob, an idle STATUS and counters whose
 * values follow counter_value() (tests/driver/mkregs.py writes the same).
 * It answers reads like the card's registers but never moves a packet, so
 * these checks cover everything of the driver but the datapath.
 *
 * usage: drvtest [--as UID:GID] COMMAND ...
 *   missing NODE                  open of a node with no card behind it
 *   card NODE DTB SYSDIR MODE     identity, ioctls, mmap, poll, counters;
 *                                 MODE: the interrupt mode expected (msix, poll)
 *   owner NODE                    may open for writing, start and stop
 *   denied NODE                   may not open at all
 *   unplug NODE UNBIND BDF        the card goes away under an open, mapped file
 *   exec PROGRAM ARG...           runs PROGRAM (after --as)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fcap/card.h"
#include "fcap/uapi.h"

static int failures;

static void check(const char *name, int ok, const char *fmt, ...)
{
	if (ok) {
		printf("FCAPTEST ok %s\n", name);
	} else {
		char detail[256] = "";
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
		printf("FCAPTEST FAIL %s: %s\n", name, detail);
		failures++;
	}
	fflush(stdout);
}

/* ioctl's result as 0 or -errno. */
static int ioc(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

/* The stand-in card's counter at register offset off (mkregs.py writes the same). */
static uint64_t counter_value(uint32_t off)
{
	return (uint64_t)(off + 1) << 32 | (0xC0DE0000u | off);
}

/* No value returned may look like a kernel address (x86-64: top bits set). */
static int no_kernel_addresses(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i + 8 <= n; i += 4) {
		uint64_t v;
		memcpy(&v, b + i, 8);
		if (v >> 47 == 0x1FFFF)
			return 0;
	}
	return 1;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	uint8_t *buf = malloc(1 << 16);
	*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	return buf;
}

static uint64_t read_sysfs_u64(const char *dir, const char *name)
{
	char path[512], buf[64] = "";
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtoull(buf, NULL, 10);
}

static int cmd_missing(const char *node)
{
	int fd = open(node, O_RDWR);
	int err = errno;
	check("open of a node with no card fails with ENXIO", fd < 0 && err == ENXIO, "fd %d, %s", fd,
	      strerror(err));
	if (fd >= 0)
		close(fd);
	fd = open(node, O_RDONLY);
	err = errno;
	check("read-only open of it fails too", fd < 0 && err == ENXIO, "fd %d, %s", fd, strerror(err));
	return failures;
}

/* Rings of the card under test (hw/dts/fcap_4x10g.dts). */
#define CARD_RINGS 4u

static void check_identity(int fd, const uint8_t *dtb, size_t dtb_len, uint32_t irq_mode)
{
	struct fcap_ioc_info info;
	memset(&info, 0xA5, sizeof(info));
	check("INFO", ioc(fd, FCAP_IOC_INFO, &info) == 0, "%s", strerror(errno));
	check("INFO: card identity", info.id == FCAP_ID_MAGIC && info.version == FCAP_VERSION,
	      "id 0x%08x version 0x%08x", info.id, info.version);
	check("INFO: uapi version, rings, ports, state",
	      info.uapi_version == FCAP_UAPI_VERSION && info.nrings == CARD_RINGS && info.nports == 4 &&
		      info.state == FCAP_STATE_STOPPED,
	      "uapi %u rings %u ports %u state %u", info.uapi_version, info.nrings, info.nports, info.state);
	check("INFO: interrupt mode", info.irq_mode == irq_mode, "irq_mode %u, expected %u", info.irq_mode,
	      irq_mode);
	check("INFO: reserved fields read back zero", info.reserved[0] == 0 && info.reserved[7] == 0, "");
	check("INFO: device tree size", info.dt_size == dtb_len, "%u, file %zu", info.dt_size, dtb_len);
	check("INFO: no kernel address", no_kernel_addresses(&info, sizeof(info)), "");

	uint8_t buf[1 << 16];
	struct fcap_ioc_dt dt = { .buf = (uintptr_t)buf, .len = 16 };
	check("GET_DT into a short buffer: ENOSPC and the size", ioc(fd, FCAP_IOC_GET_DT, &dt) == -ENOSPC &&
	      dt.size == dtb_len, "size %u", dt.size);
	dt = (struct fcap_ioc_dt){ .buf = (uintptr_t)buf, .len = sizeof(buf) };
	check("GET_DT: the card's blob, byte for byte", ioc(fd, FCAP_IOC_GET_DT, &dt) == 0 && dt.size == dtb_len &&
	      memcmp(buf, dtb, dtb_len) == 0, "size %u", dt.size);
	dt.reserved[2] = 1;
	check("GET_DT: reserved field set: EINVAL", ioc(fd, FCAP_IOC_GET_DT, &dt) == -EINVAL, "");
	dt = (struct fcap_ioc_dt){ .buf = 16, .len = sizeof(buf) };
	check("GET_DT: bad user pointer: EFAULT", ioc(fd, FCAP_IOC_GET_DT, &dt) == -EFAULT, "");
}

static void check_ioctl_numbers(int fd)
{
	uint8_t big[4096] = { 0 };
	/* Same type and number as INFO, another size: a caller built against another layout. */
	check("INFO with the wrong size: ENOTTY", ioc(fd, _IOC(_IOC_READ, FCAP_IOC_MAGIC, 0, 60), big) == -ENOTTY, "");
	check("INFO with the wrong direction: ENOTTY", ioc(fd, _IOC(_IOC_WRITE, FCAP_IOC_MAGIC, 0, 64), big) == -ENOTTY,
	      "");
	check("unknown number: ENOTTY", ioc(fd, _IOC(_IOC_READ, FCAP_IOC_MAGIC, 99, 64), big) == -ENOTTY, "");
	check("another driver's magic: ENOTTY", ioc(fd, _IOC(_IOC_READ, 'T', 0, 64), big) == -ENOTTY, "");
	check("bad argument pointer: EFAULT", ioc(fd, FCAP_IOC_RING, (void *)16) == -EFAULT, "");
}

static void check_geometry(int fd, struct fcap_ioc_ring *g)
{
	memset(g, 0, sizeof(*g));
	check("RING: geometry", ioc(fd, FCAP_IOC_RING, g) == 0 && g->nblocks == 16 && g->block_size == 1u << 20 &&
	      g->chunk_blocks == 4 && g->status_len == 4096 && g->prod == 0 && g->cons == 0,
	      "%u x %u, chunks of %u, status %u", g->nblocks, g->block_size, g->chunk_blocks, g->status_len);
	check("RING: no kernel address", no_kernel_addresses(g, sizeof(*g)), "");
	struct fcap_ioc_ring last = { .ring = CARD_RINGS - 1 };
	check("RING: the last ring has the same geometry",
	      ioc(fd, FCAP_IOC_RING, &last) == 0 && last.nblocks == g->nblocks && last.block_size == g->block_size &&
		      last.status_offset > g->blocks_offset,
	      "%u x %u", last.nblocks, last.block_size);
	struct fcap_ioc_ring bad = { .ring = CARD_RINGS };
	check("RING: a ring past the last: EINVAL", ioc(fd, FCAP_IOC_RING, &bad) == -EINVAL, "");
	bad = (struct fcap_ioc_ring){ .flags = 1 };
	check("RING: flags set: EINVAL", ioc(fd, FCAP_IOC_RING, &bad) == -EINVAL, "");
}

static void check_control_denied(int fd)
{
	struct fcap_ioc_start st = { 0 };
	struct fcap_ioc_stop sp = { 0 };
	struct fcap_ioc_release rel = { 0 };
	check("read-only open: START is EPERM", ioc(fd, FCAP_IOC_START, &st) == -EPERM, "");
	check("read-only open: STOP is EPERM", ioc(fd, FCAP_IOC_STOP, &sp) == -EPERM, "");
	check("read-only open: RELEASE is EPERM", ioc(fd, FCAP_IOC_RELEASE, &rel) == -EPERM, "");
}

static void check_mmap(int fd, const struct fcap_ioc_ring *g)
{
	void *p = mmap(NULL, g->status_len, PROT_READ, MAP_SHARED, fd, (off_t)g->status_offset);
	check("mmap the status page read-only", p != MAP_FAILED, "%s", strerror(errno));
	if (p != MAP_FAILED) {
		check("status word: producer index 0", *(volatile uint32_t *)p == 0, "%u", *(uint32_t *)p);
		check("mprotect to writable is refused", mprotect(p, g->status_len, PROT_READ | PROT_WRITE) < 0,
		      "");
		munmap(p, g->status_len);
	}
	p = mmap(NULL, g->status_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)g->status_offset);
	check("writable shared mmap is refused", p == MAP_FAILED, "");
	p = mmap(NULL, g->status_len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, (off_t)g->status_offset);
	check("writable private mmap is refused", p == MAP_FAILED, "");
	size_t chunk = (size_t)g->chunk_blocks * g->block_size;
	p = mmap(NULL, chunk, PROT_READ, MAP_SHARED, fd, (off_t)g->blocks_offset);
	check("mmap one chunk of blocks", p != MAP_FAILED, "%s", strerror(errno));
	if (p != MAP_FAILED)
		munmap(p, chunk);
	p = mmap(NULL, chunk + 4096, PROT_READ, MAP_SHARED, fd, (off_t)g->blocks_offset);
	check("mmap across two chunks is refused", p == MAP_FAILED && errno == EINVAL, "%s", strerror(errno));
	p = mmap(NULL, g->status_len + 4096, PROT_READ, MAP_SHARED, fd, (off_t)g->status_offset);
	check("mmap of the status page and more is refused", p == MAP_FAILED && errno == EINVAL, "");
	struct fcap_ioc_ring last = { .ring = CARD_RINGS - 1 };
	ioc(fd, FCAP_IOC_RING, &last);
	off_t end = (off_t)(last.blocks_offset + (uint64_t)last.nblocks * last.block_size);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, end);
	check("mmap past the last ring is refused", p == MAP_FAILED && errno == EINVAL, "");
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, (off_t)1 << 46);
	check("mmap at a huge offset is refused", p == MAP_FAILED && errno == EINVAL, "");
}

static void check_counters(int fd, const char *sysdir)
{
	struct fcap_ioc_counters c;
	memset(&c, 0, sizeof(c));
	check("COUNTERS", ioc(fd, FCAP_IOC_COUNTERS, &c) == 0, "%s", strerror(errno));
	static const uint32_t port_regs[] = { FCAP_PORT_RX_FRAMES, FCAP_PORT_RX_BYTES, FCAP_PORT_DROP_FIFO,
					      FCAP_PORT_DROP_RING, FCAP_PORT_RX_ERRORS, FCAP_PORT_TRUNCATED };
	const uint64_t got[] = { c.port[0].rx_frames, c.port[0].rx_bytes, c.port[0].drop_fifo,
				 c.port[0].drop_ring, c.port[0].rx_errors, c.port[0].truncated };
	int same = c.nports == 4 && c.records == counter_value(FCAP_REG_CNT_RECORDS) &&
		   c.blocks == counter_value(FCAP_REG_CNT_BLOCKS);
	for (int i = 0; i < 6; i++)
		same &= got[i] == counter_value(FCAP_REG_PORT_BASE + port_regs[i]);
	check("COUNTERS: every 64-bit counter from its lo/hi registers", same, "records 0x%llx",
	      (unsigned long long)c.records);
	c.flags = 1;
	check("COUNTERS: flags set: EINVAL", ioc(fd, FCAP_IOC_COUNTERS, &c) == -EINVAL, "");
	char port0[512];
	snprintf(port0, sizeof(port0), "%s/port0", sysdir);
	static const char *const names[] = { "rx_frames", "rx_bytes", "drop_fifo", "drop_ring", "rx_errors",
					     "truncated" };
	same = read_sysfs_u64(sysdir, "records") == counter_value(FCAP_REG_CNT_RECORDS) &&
	       read_sysfs_u64(sysdir, "blocks") == counter_value(FCAP_REG_CNT_BLOCKS);
	for (int i = 0; i < 6; i++)
		same &= read_sysfs_u64(port0, names[i]) == counter_value(FCAP_REG_PORT_BASE + port_regs[i]);
	check("sysfs: the same counters, one value per file", same, "rx_frames %llu",
	      (unsigned long long)read_sysfs_u64(port0, "rx_frames"));
}

static void check_owner(int ro, const char *node)
{
	int fd = open(node, O_RDWR);
	check("open for writing: owner", fd >= 0, "%s", strerror(errno));
	if (fd < 0)
		return;
	int fd2 = open(node, O_RDWR);
	check("second open for writing: EBUSY", fd2 < 0 && errno == EBUSY, "fd %d", fd2);
	if (fd2 >= 0)
		close(fd2);
	struct fcap_ioc_start st = { .snaplen = 16385 };
	check("START: snap length above the card's: EINVAL", ioc(fd, FCAP_IOC_START, &st) == -EINVAL, "");
	st = (struct fcap_ioc_start){ .flags = 0x80000000u };
	check("START: unknown flag set: EINVAL", ioc(fd, FCAP_IOC_START, &st) == -EINVAL, "");
	st = (struct fcap_ioc_start){ .reserved = { 0, 1 } };
	check("START: reserved field set: EINVAL", ioc(fd, FCAP_IOC_START, &st) == -EINVAL, "");
	st = (struct fcap_ioc_start){ .irq_usecs = FCAP_MAX_IRQ_USECS + 1 };
	check("START: interrupt delay above 1 s: EINVAL", ioc(fd, FCAP_IOC_START, &st) == -EINVAL, "");
	st = (struct fcap_ioc_start){ .irq_blocks = 0xFFFFFFFFu };
	check("START: interrupt count above the ring's blocks: EINVAL", ioc(fd, FCAP_IOC_START, &st) == -EINVAL,
	      "");
	st = (struct fcap_ioc_start){ .block_timeout_ns = 10000000, .flags = FCAP_START_HASH, .irq_blocks = 2,
				      .irq_usecs = 100 };
	check("START", ioc(fd, FCAP_IOC_START, &st) == 0, "%s", strerror(errno));
	struct fcap_ioc_info info = { 0 };
	ioc(ro, FCAP_IOC_INFO, &info);
	check("INFO on another open: running", info.state == FCAP_STATE_RUNNING, "state %u", info.state);
	check("START while running: EBUSY", ioc(fd, FCAP_IOC_START, &st) == -EBUSY, "");
	struct fcap_ioc_release rel = { .ring = 0, .cons = 1 };
	check("RELEASE of a block not published: EINVAL", ioc(fd, FCAP_IOC_RELEASE, &rel) == -EINVAL, "");
	rel = (struct fcap_ioc_release){ .ring = CARD_RINGS };
	check("RELEASE on a ring past the last: EINVAL", ioc(fd, FCAP_IOC_RELEASE, &rel) == -EINVAL, "");
	rel = (struct fcap_ioc_release){ .reserved = { 1, 0 } };
	check("RELEASE: reserved field set: EINVAL", ioc(fd, FCAP_IOC_RELEASE, &rel) == -EINVAL, "");
	rel = (struct fcap_ioc_release){ 0 };
	check("RELEASE to where it is: accepted", ioc(fd, FCAP_IOC_RELEASE, &rel) == 0, "");
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, 50);
	check("poll with nothing published: times out", n == 0, "poll %d revents 0x%x", n, p.revents);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN }, got;
	check("epoll: the device can be watched", ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0, "%s",
	      strerror(errno));
	n = epoll_wait(ep, &got, 1, 50);
	check("epoll with nothing published: times out", n == 0, "epoll_wait %d", n);
	close(ep);
	struct fcap_ioc_stop sp = { .reserved = { 0, 1, 0 } };
	check("STOP: reserved field set: EINVAL", ioc(fd, FCAP_IOC_STOP, &sp) == -EINVAL, "");
	sp = (struct fcap_ioc_stop){ 0 };
	check("STOP: drains and flushes (STATUS idle)", ioc(fd, FCAP_IOC_STOP, &sp) == 0, "%s", strerror(errno));
	ioc(ro, FCAP_IOC_INFO, &info);
	check("INFO: stopped", info.state == FCAP_STATE_STOPPED, "state %u", info.state);
	/* Closing the owner while running stops the card and frees the ownership. */
	st = (struct fcap_ioc_start){ 0 };
	ioc(fd, FCAP_IOC_START, &st);
	close(fd);
	ioc(ro, FCAP_IOC_INFO, &info);
	check("closing the owner while running stops capture", info.state == FCAP_STATE_STOPPED, "state %u",
	      info.state);
	fd = open(node, O_RDWR);
	check("and another process may own the card", fd >= 0, "%s", strerror(errno));
	if (fd >= 0)
		close(fd);
}

static int cmd_card(const char *node, const char *dtb_path, const char *sysdir, const char *mode)
{
	uint32_t irq_mode = !strcmp(mode, "msix") ? FCAP_IRQ_MODE_MSIX : !strcmp(mode, "msi") ? FCAP_IRQ_MODE_MSI :
			    !strcmp(mode, "intx") ? FCAP_IRQ_MODE_INTX : FCAP_IRQ_MODE_POLL;
	size_t dtb_len = 0;
	uint8_t *dtb = read_file(dtb_path, &dtb_len);
	if (!dtb) {
		printf("FCAPTEST FAIL cannot read %s\n", dtb_path);
		return 1;
	}
	struct stat sb;
	check("device node is a character device, mode 0660",
	      stat(node, &sb) == 0 && S_ISCHR(sb.st_mode) && (sb.st_mode & 0777) == 0660, "mode %o", sb.st_mode);
	int ro = open(node, O_RDONLY);
	check("read-only open", ro >= 0, "%s", strerror(errno));
	if (ro < 0)
		return 1;
	struct fcap_ioc_ring g;
	check_identity(ro, dtb, dtb_len, irq_mode);
	check_ioctl_numbers(ro);
	check_geometry(ro, &g);
	check_control_denied(ro);
	check_mmap(ro, &g);
	check_counters(ro, sysdir);
	check_owner(ro, node);
	close(ro);
	free(dtb);
	return failures;
}

static int cmd_owner(const char *node)
{
	int fd = open(node, O_RDWR);
	check("user in the device's group: open for writing", fd >= 0, "%s", strerror(errno));
	if (fd < 0)
		return failures;
	struct fcap_ioc_start st = { 0 };
	struct fcap_ioc_stop sp = { 0 };
	check("user in the device's group: START", ioc(fd, FCAP_IOC_START, &st) == 0, "%s", strerror(errno));
	check("user in the device's group: STOP", ioc(fd, FCAP_IOC_STOP, &sp) == 0, "%s", strerror(errno));
	close(fd);
	return failures;
}

static int cmd_denied(const char *node)
{
	int fd = open(node, O_RDONLY);
	check("user outside the device's group: open refused (EACCES)", fd < 0 && errno == EACCES, "fd %d", fd);
	if (fd >= 0)
		close(fd);
	return failures;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static int cmd_unplug(const char *node, const char *unbind, const char *bdf)
{
	int fd = open(node, O_RDWR);
	check("unplug: open", fd >= 0, "%s", strerror(errno));
	if (fd < 0)
		return failures;
	struct fcap_ioc_ring g = { 0 };
	ioc(fd, FCAP_IOC_RING, &g);
	volatile uint32_t *status = mmap(NULL, g.status_len, PROT_READ, MAP_SHARED, fd, (off_t)g.status_offset);
	size_t chunk = (size_t)g.chunk_blocks * g.block_size;
	volatile uint8_t *blocks = mmap(NULL, chunk, PROT_READ, MAP_SHARED, fd, (off_t)g.blocks_offset);
	struct fcap_ioc_start st = { 0 };
	check("unplug: mapped and running", status != MAP_FAILED && blocks != MAP_FAILED &&
	      ioc(fd, FCAP_IOC_START, &st) == 0, "");
	check("unplug: unbind the card from the driver", write_str(unbind, bdf) == 0, "%s", strerror(errno));
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, 1000);
	check("unplug: poll reports POLLHUP", n == 1 && (p.revents & POLLHUP), "poll %d revents 0x%x", n, p.revents);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN }, got = { 0 };
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	n = epoll_wait(ep, &got, 1, 1000);
	check("unplug: epoll reports EPOLLHUP", n == 1 && (got.events & EPOLLHUP), "epoll_wait %d events 0x%x", n,
	      got.events);
	close(ep);
	struct fcap_ioc_info info;
	check("unplug: ioctls fail with ENODEV", ioc(fd, FCAP_IOC_INFO, &info) == -ENODEV, "");
	/* A read of freed or unmapped memory would kill this process: the check is that it lives. */
	uint8_t sink = blocks != MAP_FAILED ? blocks[chunk - 1] : 0;
	(void)sink;
	check("unplug: the old mappings still read (memory lives until the last user)",
	      status != MAP_FAILED && blocks != MAP_FAILED && status[0] == 0, "");
	void *again = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, (off_t)g.status_offset);
	check("unplug: new mmap fails with ENODEV", again == MAP_FAILED && errno == ENODEV, "%s", strerror(errno));
	munmap((void *)status, g.status_len);
	munmap((void *)blocks, chunk);
	close(fd);
	int fd2 = open(node, O_RDONLY);
	check("unplug: the node is gone or refuses", fd2 < 0, "fd %d", fd2);
	return failures;
}

static int drop_to(const char *spec)
{
	unsigned uid, gid;
	if (sscanf(spec, "%u:%u", &uid, &gid) != 2)
		return -1;
	gid_t g = gid;
	if (setgroups(1, &g) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1;
	if (argc > 2 && !strcmp(argv[1], "--as")) {
		if (drop_to(argv[2]) < 0) {
			printf("FCAPTEST FAIL cannot become %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		i = 3;
	}
	if (argc - i >= 2 && !strcmp(argv[i], "missing"))
		return cmd_missing(argv[i + 1]) ? 1 : 0;
	if (argc - i >= 5 && !strcmp(argv[i], "card"))
		return cmd_card(argv[i + 1], argv[i + 2], argv[i + 3], argv[i + 4]) ? 1 : 0;
	if (argc - i >= 2 && !strcmp(argv[i], "owner"))
		return cmd_owner(argv[i + 1]) ? 1 : 0;
	if (argc - i >= 2 && !strcmp(argv[i], "denied"))
		return cmd_denied(argv[i + 1]) ? 1 : 0;
	if (argc - i >= 4 && !strcmp(argv[i], "unplug"))
		return cmd_unplug(argv[i + 1], argv[i + 2], argv[i + 3]) ? 1 : 0;
	if (argc - i >= 2 && !strcmp(argv[i], "exec")) {
		execv(argv[i + 1], argv + i + 1);
		printf("FCAPTEST FAIL exec %s: %s\n", argv[i + 1], strerror(errno));
		return 1;
	}
	fprintf(stderr, "usage: drvtest [--as UID:GID] missing|card|owner|denied|unplug|exec ...\n");
	return 2;
}
