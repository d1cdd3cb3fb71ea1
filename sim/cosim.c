/*
 * cosim.c - the bridge between a QEMU guest running fcap.ko and the
 * Verilated card in this process (cosim.h, docs/COSIM.md).
 *
 * One thread: it answers the register mailbox, clocks the card in slices
 * between answers, and turns the card's interrupt into the guest's MSI-X
 * vector. The card is clocked while it has work (a replay in progress, a
 * frame anywhere between MAC and ring) and for idle_cycles after the last
 * activity (so a block timeout or a flush completes while the guest waits);
 * otherwise simulated time stands still and the process sleeps in poll()
 * until the guest rings the doorbell.
 */
#define _GNU_SOURCE
#include "cosim.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cosim_ivshmem.h"
#include "fcap/card.h"
#include "fcap/errbuf.h"
#include "fcap/mbox.h"
#include "fcap_sim.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the mailbox and guest RAM are little-endian; this bridge assumes a little-endian host"
#endif

/* The card's register window (docs/REGISTERS.md): what a request may address. */
#define COSIM_REG_SPACE 0x10000u

struct cosim_session {
	unsigned index;            /* 1, 2, ...: the k-th time capture was enabled */
	const char *replay;        /* NULL: nothing replayed */
	uint64_t mac_frames_at_start;
};

struct cosim {
	const struct cosim_config *cfg;
	struct fcap_sim *sim;
	uint8_t *ram;
	int mbox_fd;
	uint8_t *mbox;
	struct cosim_ivshmem iv;
	uint32_t answered;         /* sequence number of the last answer */
	uint32_t ctrl;             /* the last value the guest wrote to CTRL */
	bool irq_level;
	uint64_t tail;             /* cycles left to clock without activity */
	unsigned sessions;
	bool session_open;
	struct cosim_session cur;
	FILE *stats;
	uint64_t requests, interrupts;
};

static uint32_t mbox_load(const struct cosim *c, uint32_t off)
{
	return __atomic_load_n((uint32_t *)(void *)(c->mbox + off), __ATOMIC_ACQUIRE);
}

static void mbox_store(struct cosim *c, uint32_t off, uint32_t v)
{
	__atomic_store_n((uint32_t *)(void *)(c->mbox + off), v, __ATOMIC_RELEASE);
}

static uint64_t reg_read64(struct cosim *c, uint32_t off)
{
	uint64_t lo = fcap_sim_reg_read(c->sim, off);
	return (uint64_t)fcap_sim_reg_read(c->sim, off + 4) << 32 | lo;
}

/* The card's counters for the session that ends now, read on the card itself. */
static void session_close(struct cosim *c)
{
	if (!c->session_open)
		return;
	c->session_open = false;
	struct fcap_sim_mac_stats ms;
	fcap_sim_mac_stats(c->sim, 0, &ms);
	fcap_sim_reg_write(c->sim, FCAP_REG_CNT_CTRL, FCAP_CNT_CTRL_SNAPSHOT);
	uint64_t rx = 0, bytes = 0, fifo = 0, ring = 0;
	for (unsigned p = 0; p < fcap_sim_ports(c->sim); p++) {
		uint32_t base = FCAP_REG_PORT_BASE + p * FCAP_REG_PORT_STRIDE;
		rx += reg_read64(c, base + FCAP_PORT_RX_FRAMES);
		bytes += reg_read64(c, base + FCAP_PORT_RX_BYTES);
		fifo += reg_read64(c, base + FCAP_PORT_DROP_FIFO);
		ring += reg_read64(c, base + FCAP_PORT_DROP_RING);
	}
	uint64_t records = reg_read64(c, FCAP_REG_CNT_RECORDS);
	if (c->stats)
		fprintf(c->stats,
			"session %u replay %s sent %" PRIu64 " rx_frames %" PRIu64 " rx_bytes %" PRIu64
			" drop_fifo %" PRIu64 " drop_ring %" PRIu64 " records %" PRIu64 "\n",
			c->cur.index, c->cur.replay ? c->cur.replay : "-",
			ms.frames - c->cur.mac_frames_at_start, rx, bytes, fifo, ring, records);
}

/* CTRL.ENABLE rose: a capture session starts and gets the next replay file. */
static int session_open(struct cosim *c, char *errbuf)
{
	struct fcap_sim_mac_stats ms;
	fcap_sim_mac_stats(c->sim, 0, &ms);
	c->cur = (struct cosim_session){ .index = ++c->sessions, .mac_frames_at_start = ms.frames };
	c->session_open = true;
	if (c->sessions > c->cfg->nreplay)
		return 0;
	c->cur.replay = c->cfg->replay[c->sessions - 1];
	if (fcap_sim_mac_add_file(c->sim, 0, c->cur.replay, errbuf, FCAP_ERRBUF_SIZE) < 0)
		return -1;
	fprintf(stderr, "fcap-cosim: capture session %u: replaying %s on port 0\n", c->sessions,
		c->cur.replay);
	return 0;
}

/* A register write, with the bridge's own bookkeeping around it. */
static uint32_t do_write(struct cosim *c, uint32_t off, uint32_t val, char *errbuf, int *fatal)
{
	if (off == FCAP_REG_CNT_CTRL && (val & FCAP_CNT_CTRL_CLEAR))
		session_close(c);   /* the counters of the session before are final */
	if (fcap_sim_reg_write(c->sim, off, val) < 0)
		return FCAP_MBOX_STATUS_CARD_ERROR;
	if (off == FCAP_REG_CTRL) {
		bool rose = (val & FCAP_CTRL_ENABLE) && !(c->ctrl & FCAP_CTRL_ENABLE);
		c->ctrl = val;
		if (rose && session_open(c, errbuf) < 0)
			*fatal = 1;
	}
	return FCAP_MBOX_STATUS_OK;
}

/* Answers the outstanding request, if any; returns 1 if there was one. */
static int serve_mailbox(struct cosim *c, char *errbuf, int *fatal)
{
	uint32_t seq = mbox_load(c, FCAP_MBOX_REQ_SEQ);
	if (seq == c->answered)
		return 0;
	uint32_t op = mbox_load(c, FCAP_MBOX_REQ_OP);
	uint32_t off = mbox_load(c, FCAP_MBOX_REQ_OFFSET);
	uint32_t val = mbox_load(c, FCAP_MBOX_REQ_VALUE);
	uint32_t result = 0, status = FCAP_MBOX_STATUS_OK;
	if ((off & 3u) || off >= COSIM_REG_SPACE)
		status = FCAP_MBOX_STATUS_BAD_OP;
	else if (op == FCAP_MBOX_OP_READ)
		result = fcap_sim_reg_read(c->sim, off);
	else if (op == FCAP_MBOX_OP_WRITE)
		status = do_write(c, off, val, errbuf, fatal);
	else
		status = FCAP_MBOX_STATUS_BAD_OP;
	if (status == FCAP_MBOX_STATUS_BAD_OP)
		fprintf(stderr, "fcap-cosim: mailbox request %u: op %u offset 0x%x: refused (bad op or offset)\n",
			seq, op, off);
	mbox_store(c, FCAP_MBOX_RESP_RESULT, result);
	mbox_store(c, FCAP_MBOX_RESP_STATUS, status);
	mbox_store(c, FCAP_MBOX_RESP_SEQ, seq);   /* last: the guest acts on it */
	c->answered = seq;
	c->requests++;
	return 1;
}

/* The card's MSI: one guest interrupt per rising edge of its interrupt. */
static int forward_irq(struct cosim *c, char *errbuf)
{
	bool level = fcap_sim_irq(c->sim);
	int rc = 0;
	if (level && !c->irq_level) {
		rc = cosim_ivshmem_interrupt(&c->iv, errbuf);
		c->interrupts++;
	}
	c->irq_level = level;
	return rc;
}

/* Every card DMA write must land in guest RAM: anything else is a bug to name. */
static int check_dma(struct cosim *c, char *errbuf)
{
	struct fcap_sim_dma_stats st;
	fcap_sim_dma_stats(c->sim, &st);
	if (st.faults)
		return fcap_err(errbuf, "card DMA write to bus address 0x%" PRIx64
				" outside guest RAM [0, 0x%" PRIx64 ") (%" PRIu64 " such writes)",
				st.first_fault, c->cfg->ram_bytes, st.faults);
	return 0;
}

static bool card_busy(struct cosim *c)
{
	return ((c->ctrl & FCAP_CTRL_ENABLE) && !fcap_sim_mac_done(c->sim)) ||
	       !fcap_sim_card_idle(c->sim);
}

/* True once QEMU has closed its end of the socket. */
static bool qemu_gone(struct cosim *c, int timeout_ms)
{
	struct pollfd p[2] = { { .fd = c->iv.conn_fd, .events = POLLIN },
			       { .fd = c->iv.doorbell_fd, .events = POLLIN } };
	if (poll(p, 2, timeout_ms) <= 0)
		return false;
	if (p[1].revents)
		cosim_ivshmem_drain(&c->iv);
	if (p[0].revents & (POLLHUP | POLLERR))
		return true;
	if (p[0].revents & POLLIN) {
		char b;
		return recv(c->iv.conn_fd, &b, 1, MSG_DONTWAIT) == 0;
	}
	return false;
}

static int run_loop(struct cosim *c, char *errbuf)
{
	const struct cosim_config *cfg = c->cfg;
	unsigned slices = 0;
	for (;;) {
		if (cfg->stop && *cfg->stop) {
			fprintf(stderr, "fcap-cosim: stopped by a signal: the guest's register requests go unanswered from now on\n");
			return 0;
		}
		int fatal = 0;
		int served = serve_mailbox(c, errbuf, &fatal);
		if (fatal || forward_irq(c, errbuf) < 0)
			return -1;
		const char *replay_err = fcap_sim_mac_error(c->sim);
		if (replay_err)
			return fcap_err(errbuf, "replay: %s", replay_err);
		if (served || card_busy(c))
			c->tail = cfg->idle_cycles;
		if (served)
			continue;   /* the guest usually sends the next request at once */
		if (c->tail == 0) {
			if (qemu_gone(c, 200))
				return 0;
			continue;
		}
		/* Stop early on the interrupt unless it is already up (then it
		 * stays up until the guest disables it: run the slice). */
		uint64_t n = c->irq_level ? (fcap_sim_run(c->sim, cfg->slice_cycles), cfg->slice_cycles)
					  : fcap_sim_run_until(c->sim, cfg->slice_cycles, FCAP_SIM_STOP_IRQ);
		c->tail -= n < c->tail ? n : c->tail;
		if (check_dma(c, errbuf) < 0)
			return -1;
		if (++slices % 256 == 0 && qemu_gone(c, 0))
			return 0;
	}
}

static int map_ram(struct cosim *c, char *errbuf)
{
	const struct cosim_config *cfg = c->cfg;
	int fd = open(cfg->ram_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return fcap_err(errbuf, "guest RAM %s: %s", cfg->ram_path, strerror(errno));
	if (ftruncate(fd, (off_t)cfg->ram_bytes) < 0) {
		close(fd);
		return fcap_err(errbuf, "guest RAM %s: setting its size to %" PRIu64 " bytes: %s",
				cfg->ram_path, cfg->ram_bytes, strerror(errno));
	}
	void *p = mmap(NULL, cfg->ram_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return fcap_err(errbuf, "guest RAM %s: mmap: %s", cfg->ram_path, strerror(errno));
	c->ram = p;
	/* Identity: bus address = guest physical address = file offset. */
	if (fcap_sim_dma_map(c->sim, 0, c->ram, cfg->ram_bytes, errbuf, FCAP_ERRBUF_SIZE) < 0)
		return -1;
	return 0;
}

static int make_mailbox(struct cosim *c, char *errbuf)
{
	c->mbox_fd = memfd_create("fcap-mbox", MFD_CLOEXEC);
	if (c->mbox_fd < 0 || ftruncate(c->mbox_fd, FCAP_MBOX_BYTES) < 0)
		return fcap_err(errbuf, "mailbox memory: %s", strerror(errno));
	void *p = mmap(NULL, FCAP_MBOX_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, c->mbox_fd, 0);
	if (p == MAP_FAILED)
		return fcap_err(errbuf, "mailbox memory: mmap: %s", strerror(errno));
	c->mbox = p;
	mbox_store(c, FCAP_MBOX_VERSION, FCAP_MBOX_VERSION_VALUE);
	mbox_store(c, FCAP_MBOX_MAGIC, FCAP_MBOX_MAGIC_VALUE);
	return 0;
}

static void write_totals(struct cosim *c, double wall_s)
{
	struct fcap_sim_dma_stats st;
	fcap_sim_dma_stats(c->sim, &st);
	fprintf(c->stats,
		"total requests %" PRIu64 " interrupts %" PRIu64 " cycles %" PRIu64 " dma_bytes %" PRIu64
		" dma_faults %" PRIu64 " wall_s %.1f\n",
		c->requests, c->interrupts, fcap_sim_cycles(c->sim), st.bytes, st.faults, wall_s);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int cosim_run(const struct cosim_config *cfg, char *errbuf)
{
	struct cosim c = { .cfg = cfg, .mbox_fd = -1, .iv = { -1, -1, -1, -1 } };
	double t0 = now_s();
	int rc = -1;
	char serr[FCAP_ERRBUF_SIZE];

	c.sim = fcap_sim_create(NULL, serr, sizeof(serr));
	if (!c.sim)
		return fcap_err(errbuf, "%s", serr);
	if (fcap_sim_mac_set_rate(c.sim, 0, cfg->rate_bps) < 0) {
		fcap_err(errbuf, "rate %" PRIu64 " b/s: the simulated MAC refuses it", cfg->rate_bps);
		goto out;
	}
	fcap_sim_mac_hold(c.sim, false);
	if (cfg->stats_path && !(c.stats = fopen(cfg->stats_path, "w"))) {
		fcap_err(errbuf, "%s: %s", cfg->stats_path, strerror(errno));
		goto out;
	}
	if (map_ram(&c, errbuf) < 0 || make_mailbox(&c, errbuf) < 0 ||
	    cosim_ivshmem_listen(&c.iv, cfg->socket_path, errbuf) < 0)
		goto out;
	fprintf(stderr, "fcap-cosim: guest RAM %s (%" PRIu64 " MiB), waiting for QEMU on %s\n",
		cfg->ram_path, cfg->ram_bytes >> 20, cfg->socket_path);
	if (cosim_ivshmem_accept(&c.iv, c.mbox_fd, cfg->accept_timeout_ms, errbuf) < 0)
		goto out;
	rc = run_loop(&c, errbuf);
	session_close(&c);
	if (c.stats)
		write_totals(&c, now_s() - t0);
	fprintf(stderr, "fcap-cosim: %u capture session(s), %" PRIu64 " register requests, %" PRIu64
		" interrupts, %" PRIu64 " card cycles in %.1f s\n", c.sessions, c.requests, c.interrupts,
		fcap_sim_cycles(c.sim), now_s() - t0);
out:
	if (c.stats && fclose(c.stats) != 0 && rc == 0)
		rc = fcap_err(errbuf, "%s: %s", cfg->stats_path, strerror(errno));
	cosim_ivshmem_close(&c.iv);
	if (c.mbox)
		munmap(c.mbox, FCAP_MBOX_BYTES);
	if (c.mbox_fd >= 0)
		close(c.mbox_fd);
	fcap_sim_destroy(c.sim);   /* before the RAM it writes into goes */
	if (c.ram)
		munmap(c.ram, cfg->ram_bytes);
	return rc;
}
