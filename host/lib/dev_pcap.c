/*
 * dev_pcap.c - the "pcap" backend: a network interface or a capture file
 * read through libpcap, turned into the card's ring blocks in software.
 *
 * The backend behaves like a card behind a driver (card-level operations,
 * fcap/dev.h): it owns one ring in ordinary memory, fills blocks with the
 * block builder (block_build.c) record for record as the card would, and
 * publishes them through the same producer index. Everything above it -
 * the consumer, the pcapng writer, the recorder, the scorer - runs
 * unchanged. There is no second thread: frames are read from libpcap
 * when the consumer waits for the device.
 *
 * Stages and their counters (docs/CLI.md, "Drop accounting"):
 *   wire    ps_ifdrop: the interface dropped them before the kernel saw them
 *   fifo    ps_drop: the kernel's capture buffer was full (the card's FIFO)
 *   filter  frames the capture filter rejected (applied here, so counted)
 *   ring    frames that found every ring block waiting for the host
 * The filter runs in user space (pcap_offline_filter) rather than in the
 * kernel precisely so that its rejections can be counted.
 */
#include <errno.h>
#include <poll.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcap/block_build.h"
#include "fcap/card.h"
#include "fcap/cardctl.h"
#include "fcap/cardinfo.h"
#include "fcap/dev.h"
#include "fcap/ring.h"

#define DEFAULT_SNAPLEN 65535u
/* Frames read per look at libpcap: bounds one wait's work. */
#define DISPATCH_BUDGET 4096
#define PCAP_STATUS_LEN 4096u

struct pcap_dev {
	struct fcap_dev dev;
	pcap_t *p;
	bool live;
	char source[256];          /* interface name or file path */
	long record_at;            /* a file: where the next record starts */
	uint32_t snaplen;
	uint8_t ts_resol;          /* the source's: 9 or 6 */
	bool ns_units;             /* records in ns whatever the source (a store) */
	struct bpf_program filter;
	bool has_filter;
	uint64_t count_limit;

	/* the ring */
	uint8_t *mem;              /* status page, then the blocks */
	uint32_t *prod;
	uint8_t *blocks;
	uint32_t nblocks, block_size;
	uint32_t cons;
	uint64_t timeout_ns;
	struct fcap_block_builder bb;
	bool block_open;
	uint64_t block_opened_ns;  /* monotonic */
	uint32_t ring_drops;       /* refused since the previous block closed */
	uint64_t drops_since_record;

	/* A file's frame that found the ring full: kept until a block is free
	 * (a file waits for the consumer; only a live source drops). */
	struct pcap_pkthdr held_hdr;
	uint8_t *held;
	bool holding;

	bool started, stopped, eof;
	char source_err[PCAP_ERRBUF_SIZE + 64];

	/* counters since start */
	uint64_t accepted, bytes, filtered, drop_ring, truncated, records, blocks_published;
	struct pcap_stat base;     /* libpcap's counters at start */
};

static struct pcap_dev *to_pd(struct fcap_dev *dev)
{
	return (struct pcap_dev *)dev->priv;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t ring_used(const struct pcap_dev *pd)
{
	return __atomic_load_n(pd->prod, __ATOMIC_RELAXED) - pd->cons;
}

/* Closes the open block and hands it to the consumer. */
static void publish(struct pcap_dev *pd, uint32_t close_flags)
{
	if (!pd->block_open)
		return;
	pd->bb.drops = pd->ring_drops;
	pd->ring_drops = 0;
	fcap_bb_finish(&pd->bb, close_flags);
	pd->block_open = false;
	pd->blocks_published++;
	/* Every byte of the block before the index that publishes it. */
	__atomic_store_n(pd->prod, __atomic_load_n(pd->prod, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}

/* Opens the next block if the ring has a free one. */
static bool open_block(struct pcap_dev *pd)
{
	if (pd->block_open)
		return true;
	if (ring_used(pd) >= pd->nblocks)
		return false;
	uint32_t seq = __atomic_load_n(pd->prod, __ATOMIC_RELAXED);
	fcap_bb_start(&pd->bb, pd->blocks + (size_t)(seq % pd->nblocks) * pd->block_size, pd->block_size, 0, seq);
	pd->block_open = true;
	pd->block_opened_ns = mono_ns();
	return true;
}

static uint64_t frame_ts(const struct pcap_dev *pd, const struct pcap_pkthdr *h)
{
	/* tv_usec holds nanoseconds when the handle's precision is nano. */
	uint64_t per_s = pd->ts_resol == 9 ? 1000000000u : 1000000u;
	uint64_t ts = (uint64_t)h->ts.tv_sec * per_s + (uint64_t)h->ts.tv_usec;
	return pd->ts_resol == 6 && pd->ns_units ? ts * 1000u : ts;
}

static void ring_drop(struct pcap_dev *pd)
{
	pd->drop_ring++;
	pd->drops_since_record++;
	if (pd->ring_drops < UINT32_MAX)
		pd->ring_drops++;
}

/* Places a frame that passed the filter: true, or false when every ring
 * block is waiting for the consumer. */
static bool place(struct pcap_dev *pd, const struct pcap_pkthdr *h, const u_char *data)
{
	uint32_t caplen = h->caplen < pd->snaplen ? h->caplen : pd->snaplen;
	uint32_t origlen = h->len < caplen ? caplen : h->len;
	uint64_t dropcount = pd->drops_since_record > UINT32_MAX ? UINT32_MAX : pd->drops_since_record;
	uint64_t ts = frame_ts(pd, h);
	for (int tries = 0; tries < 2; tries++) {
		if (!open_block(pd))
			return false;
		if (fcap_bb_add(&pd->bb, 0, ts, data, caplen, origlen, 0, dropcount)) {
			pd->records++;
			pd->drops_since_record = 0;
			pd->bytes += origlen;
			if (caplen < origlen)
				pd->truncated++;
			return true;
		}
		publish(pd, FCAP_BLOCK_CLOSED_FULL);
	}
	return false;
}

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	struct pcap_dev *pd = (struct pcap_dev *)user;
	if (!pd->live && pcap_file(pd->p))
		pd->record_at = ftell(pcap_file(pd->p));   /* libpcap read the whole record */
	if (pd->holding || (pd->count_limit && pd->accepted >= pd->count_limit)) {
		pcap_breakloop(pd->p); /* should not happen: the loop stops at once */
		return;
	}
	if (pd->has_filter && !pcap_offline_filter(&pd->filter, h, data)) {
		pd->filtered++;
		return;
	}
	pd->accepted++;
	if (place(pd, h, data))
		return;
	if (pd->live) {
		pd->bytes += h->len;
		ring_drop(pd);
		return;
	}
	/* A file: keep the frame and stop reading until a block is free. */
	uint32_t n = h->caplen < pd->snaplen ? h->caplen : pd->snaplen;
	pd->held_hdr = *h;
	pd->held_hdr.caplen = n;
	memcpy(pd->held, data, n);
	pd->holding = true;
	pcap_breakloop(pd->p);
}

static void mark_eof(struct pcap_dev *pd)
{
	pd->eof = true;
	publish(pd, FCAP_BLOCK_CLOSED_FLUSH);
}

/* Reads what libpcap has (a file: while the ring has room). */
static int read_frames(struct pcap_dev *pd, char *errbuf)
{
	if (pd->eof)
		return 0;
	if (pd->holding) {
		if (!place(pd, &pd->held_hdr, pd->held))
			return 0; /* still no free block: the consumer comes first */
		pd->holding = false;
	}
	if (!pd->live && ring_used(pd) >= pd->nblocks)
		return 0; /* a file waits for the consumer: nothing is lost */
	int n = pcap_dispatch(pd->p, DISPATCH_BUDGET, on_frame, (u_char *)pd);
	if (n == PCAP_ERROR_BREAK)
		n = 1; /* a held frame or the count: not the end of the file */
	if (pd->count_limit && pd->accepted >= pd->count_limit && !pd->holding) {
		mark_eof(pd);
		return 0;
	}
	if (n == PCAP_ERROR) {
		if (pd->live)
			return fcap_err(errbuf, "%s: %s", pd->source, pcap_geterr(pd->p));
		/* Name where the bad record starts (the end of the last good
		 * one), not how far libpcap read into it. */
		snprintf(pd->source_err, sizeof(pd->source_err), "%.200s: record at byte offset %ld: %s (the %llu "
			 "frames before it are kept)", pd->source, pd->record_at, pcap_geterr(pd->p),
			 (unsigned long long)pd->accepted);
		mark_eof(pd);
		return 0;
	}
	if (n == 0 && !pd->live)
		mark_eof(pd);
	return 0;
}

static void close_on_timeout(struct pcap_dev *pd)
{
	if (pd->block_open && pd->bb.records && pd->timeout_ns &&
	    mono_ns() - pd->block_opened_ns >= pd->timeout_ns)
		publish(pd, FCAP_BLOCK_CLOSED_TIMEOUT);
}

static int pcap_wait(struct fcap_dev *dev, uint64_t timeout_ns, char *errbuf)
{
	struct pcap_dev *pd = to_pd(dev);
	if (!pd->started || pd->stopped)
		return 0;
	if (pd->live) {
		int fd = pcap_get_selectable_fd(pd->p);
		uint64_t ms = (timeout_ns + 999999u) / 1000000u;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, (int)(ms ? ms : 1)) < 0 && errno != EINTR)
			return fcap_err(errbuf, "%s: poll: %s", pd->source, strerror(errno));
	}
	if (read_frames(pd, errbuf) < 0)
		return -1;
	close_on_timeout(pd);
	return 0;
}

static void pcap_pause(struct fcap_dev *dev, uint64_t ns)
{
	struct pcap_dev *pd = to_pd(dev);
	if (pd->live) {
		struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u) };
		nanosleep(&ts, NULL);
	}
	char ignored[FCAP_ERRBUF_SIZE];
	if (pd->started && !pd->stopped)
		read_frames(pd, ignored);
	close_on_timeout(pd);
}

static bool pcap_source_done(struct fcap_dev *dev)
{
	struct pcap_dev *pd = to_pd(dev);
	return pd->eof && !pd->block_open;
}

static const char *pcap_source_error(struct fcap_dev *dev)
{
	struct pcap_dev *pd = to_pd(dev);
	return pd->source_err[0] ? pd->source_err : NULL;
}

static int pcap_info(struct fcap_dev *dev, struct fcap_card_info *ci, char *errbuf)
{
	(void)errbuf;
	struct pcap_dev *pd = to_pd(dev);
	memset(ci, 0, sizeof(*ci));
	ci->id = FCAP_ID_MAGIC;
	ci->version = FCAP_VERSION;
	snprintf(ci->model, sizeof(ci->model), "libpcap %s %.100s", pd->live ? "interface" : "file", pd->source);
	snprintf(ci->description, sizeof(ci->description), "%s %.30s via libpcap, %s timestamps",
		 pd->live ? "interface" : "file", pd->source,
		 pd->ts_resol == 9 ? "nanosecond" : pd->ns_units ? "microsecond (in ns units)" : "microsecond");
	uint8_t unit = pd->ns_units ? 9 : pd->ts_resol;
	ci->format_version = FCAP_BLOCK_FORMAT_VERSION;
	ci->clock_hz = unit == 9 ? 1000000000u : 1000000u;
	ci->datapath_width = 8;
	ci->max_snaplen = pd->snaplen;
	ci->max_blocks = 1u << 16;
	ci->min_block_size = 65536 + FCAP_BLOCK_HEADER_LEN + 4096;
	ci->max_block_size = 1u << 30;
	ci->block_align = 4096;
	ci->rings = 1;
	ci->nports = 1;
	/* The label is the IDB's if_name: the interface, or "file" */
	snprintf(ci->ports[0].label, sizeof(ci->ports[0].label), "%.31s", pd->live ? pd->source : "file");
	ci->ts_resol = unit;
	return 0;
}

static int pcap_ring_map(struct fcap_dev *dev, const struct fcap_ring_config *cfg, struct fcap_ring *ring,
			 char *errbuf)
{
	struct pcap_dev *pd = to_pd(dev);
	if (ring->index != 0)
		return fcap_err(errbuf, "%s: a libpcap source has one ring", pd->source);
	uint32_t blocks = cfg->blocks ? cfg->blocks : 16;
	uint32_t size = cfg->block_size ? cfg->block_size : 1u << 20;
	if (size % 4096 || size < fcap_bb_record_len(pd->snaplen, 0, 1) + FCAP_BLOCK_HEADER_LEN + FCAP_MIN_PAD_LEN)
		return fcap_err(errbuf, "%s: block size %u: must be a multiple of 4096 that holds a frame of the "
				"snap length (%u bytes)", pd->source, size, pd->snaplen);
	if (blocks < 2 || blocks > (1u << 16))
		return fcap_err(errbuf, "%s: %u ring blocks: expected 2 to 65536", pd->source, blocks);
	size_t total = PCAP_STATUS_LEN + (size_t)blocks * size;
	pd->mem = aligned_alloc(4096, total);
	if (!pd->mem)
		return fcap_err(errbuf, "%s: cannot allocate a ring of %u x %u bytes", pd->source, blocks, size);
	memset(pd->mem, 0, PCAP_STATUS_LEN);
	pd->prod = (uint32_t *)pd->mem;
	pd->blocks = pd->mem + PCAP_STATUS_LEN;
	pd->nblocks = blocks;
	pd->block_size = size;
	pd->cons = 0;
	ring->mem = (struct fcap_dma_buf){ .va = pd->mem, .len = total };
	ring->status = pd->prod;
	ring->blocks = pd->blocks;
	ring->nblocks = blocks;
	ring->block_size = size;
	return 0;
}

static void pcap_ring_unmap(struct fcap_dev *dev, struct fcap_ring *ring)
{
	struct pcap_dev *pd = to_pd(dev);
	free(pd->mem);
	pd->mem = NULL;
	pd->prod = NULL;
	pd->block_open = false;
	memset(&ring->mem, 0, sizeof(ring->mem));
}

static int pcap_ring_return(struct fcap_dev *dev, uint32_t ring, uint32_t cons, char *errbuf)
{
	struct pcap_dev *pd = to_pd(dev);
	uint32_t prod = __atomic_load_n(pd->prod, __ATOMIC_RELAXED);
	if (ring != 0 || prod - cons > pd->nblocks)
		return fcap_err(errbuf, "%s: consumer index %u of ring %u does not fit producer index %u",
				pd->source, cons, ring, prod);
	pd->cons = cons;
	return 0;
}

static int pcap_start(struct fcap_dev *dev, const struct fcap_ring_config *cfg, char *errbuf)
{
	struct pcap_dev *pd = to_pd(dev);
	if (cfg->snaplen && cfg->snaplen < pd->snaplen)
		pd->snaplen = cfg->snaplen;
	pd->timeout_ns = cfg->timeout_ns;
	if (pd->live && pcap_stats(pd->p, &pd->base) < 0)
		return fcap_err(errbuf, "%s: reading libpcap's counters: %s", pd->source, pcap_geterr(pd->p));
	pd->accepted = pd->bytes = pd->filtered = pd->drop_ring = pd->truncated = 0;
	pd->records = pd->blocks_published = 0;
	pd->holding = false;
	pd->started = true;
	return 0;
}

static int pcap_stop(struct fcap_dev *dev, char *errbuf)
{
	struct pcap_dev *pd = to_pd(dev);
	(void)errbuf;
	if (pd->started && !pd->stopped && pd->live) {
		/* What the kernel already holds is part of the capture. */
		char ignored[FCAP_ERRBUF_SIZE];
		for (int i = 0; i < 64 && !pd->eof; i++) {
			uint64_t before = pd->accepted + pd->filtered;
			if (read_frames(pd, ignored) < 0 || pd->accepted + pd->filtered == before)
				break;
		}
	}
	if (pd->holding) {
		/* Stopped while a file's frame waited for a block: it was never
		 * captured, and the rest of the file is not read either. */
		pd->holding = false;
		pd->accepted--;
	}
	pd->stopped = true;
	publish(pd, FCAP_BLOCK_CLOSED_FLUSH);
	return 0;
}

static int pcap_counters(struct fcap_dev *dev, struct fcap_card_counters *c, char *errbuf)
{
	struct pcap_dev *pd = to_pd(dev);
	struct pcap_stat now = { 0 };
	if (pd->live && pcap_stats(pd->p, &now) < 0)
		return fcap_err(errbuf, "%s: reading libpcap's counters: %s", pd->source, pcap_geterr(pd->p));
	uint64_t kernel_drop = pd->live ? (uint32_t)(now.ps_drop - pd->base.ps_drop) : 0;
	uint64_t if_drop = pd->live ? (uint32_t)(now.ps_ifdrop - pd->base.ps_ifdrop) : 0;
	memset(c, 0, sizeof(*c));
	c->records = pd->records;
	c->blocks = pd->blocks_published;
	c->nports = 1;
	c->port[0] = (struct fcap_port_counters){
		.rx_frames = pd->accepted + kernel_drop, .rx_bytes = pd->bytes, .drop_fifo = kernel_drop,
		.drop_ring = pd->drop_ring, .truncated = pd->truncated, .drop_wire = if_drop,
		.filtered = pd->filtered,
	};
	return 0;
}

static void pcap_close_dev(struct fcap_dev *dev)
{
	struct pcap_dev *pd = to_pd(dev);
	if (pd->has_filter)
		pcap_freecode(&pd->filter);
	if (pd->p)
		pcap_close(pd->p);
	free(pd->mem);
	free(pd->held);
	free(pd);
}

static const struct fcap_dev_ops pcap_ops = {
	.name = "pcap",
	.wait = pcap_wait,
	.pause = pcap_pause,
	.source_done = pcap_source_done,
	.source_error = pcap_source_error,
	.close = pcap_close_dev,
	.ring_map = pcap_ring_map,
	.ring_unmap = pcap_ring_unmap,
	.ring_return = pcap_ring_return,
	.start = pcap_start,
	.stop = pcap_stop,
	.counters = pcap_counters,
	.info = pcap_info,
};

static int open_live(struct pcap_dev *pd, const struct fcap_pcap_dev_config *cfg, char *errbuf)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	pd->p = pcap_create(cfg->interface, perr);
	if (!pd->p)
		return fcap_err(errbuf, "interface %s: %s", cfg->interface, perr);
	pcap_set_snaplen(pd->p, (int)pd->snaplen);
	pcap_set_promisc(pd->p, 1);
	pcap_set_immediate_mode(pd->p, 1);
	if (cfg->buffer_bytes)
		pcap_set_buffer_size(pd->p, (int)cfg->buffer_bytes);
	/* Nanoseconds where the interface offers them; what it takes is what
	 * the files declare. */
	pd->ts_resol = pcap_set_tstamp_precision(pd->p, PCAP_TSTAMP_PRECISION_NANO) == 0 ? 9 : 6;
	int rc = pcap_activate(pd->p);
	if (rc < 0) {
		const char *why = rc == PCAP_ERROR_PERM_DENIED ? "permission denied (capturing needs CAP_NET_RAW: "
								  "run as root, and -Z USER to drop it)"
				  : rc == PCAP_ERROR_NO_SUCH_DEVICE ? "no such interface"
				  : pcap_geterr(pd->p);
		return fcap_err(errbuf, "interface %s: %s", cfg->interface, why);
	}
	if (rc > 0)
		fprintf(stderr, "fcap: interface %s: %s\n", cfg->interface, pcap_statustostr(rc));
	pd->ts_resol = pcap_get_tstamp_precision(pd->p) == PCAP_TSTAMP_PRECISION_NANO ? 9 : 6;
	if (pcap_setnonblock(pd->p, 1, perr) < 0)
		return fcap_err(errbuf, "interface %s: %s", cfg->interface, perr);
	if (pcap_get_selectable_fd(pd->p) < 0)
		return fcap_err(errbuf, "interface %s: cannot be waited on", cfg->interface);
	return 0;
}

static int open_file(struct pcap_dev *pd, const struct fcap_pcap_dev_config *cfg, char *errbuf)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	FILE *f = fopen(cfg->file, "rb");
	uint8_t magic[4] = { 0 };
	bool got = f && fread(magic, 1, 4, f) == 4;
	if (f)
		fclose(f);
	uint32_t m = (uint32_t)magic[0] | (uint32_t)magic[1] << 8 | (uint32_t)magic[2] << 16 |
		     (uint32_t)magic[3] << 24;
	/* The file's own resolution is what we may claim. Classic pcap:
	 * 0xa1b2c3d4 is microseconds, 0xa1b23c4d nanoseconds (either byte
	 * order). pcapng: libpcap scales every interface's if_tsresol to the
	 * precision asked for; we ask for ns, exact for ns and coarser files
	 * (a µs pcapng file is then declared finer than it is: docs/CLI.md). */
	pd->ts_resol = got && (m == 0xa1b2c3d4u || m == 0xd4c3b2a1u) ? 6 : 9;
	pd->p = pcap_open_offline_with_tstamp_precision(cfg->file, pd->ts_resol == 9 ? PCAP_TSTAMP_PRECISION_NANO
									     : PCAP_TSTAMP_PRECISION_MICRO, perr);
	if (!pd->p)
		return fcap_err(errbuf, "%s: %s", cfg->file, perr);
	pd->record_at = pcap_file(pd->p) ? ftell(pcap_file(pd->p)) : -1;   /* after the file's header */
	return 0;
}

static int check_linktype(struct pcap_dev *pd, char *errbuf)
{
	int dlt = pcap_datalink(pd->p);
	if (dlt != DLT_EN10MB)
		return fcap_err(errbuf, "%s: link type %s (%d): fcap records Ethernet frames only", pd->source,
				pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?", dlt);
	return 0;
}

static int compile_filter(struct pcap_dev *pd, const char *expr, char *errbuf)
{
	if (!expr || !*expr)
		return 0;
	if (pcap_compile(pd->p, &pd->filter, expr, 1, PCAP_NETMASK_UNKNOWN) < 0)
		return fcap_err(errbuf, "filter '%s': %s", expr, pcap_geterr(pd->p));
	pd->has_filter = true;
	return 0;
}

struct fcap_dev *fcap_dev_open_pcap(const struct fcap_pcap_dev_config *cfg, char *errbuf)
{
	if (!cfg->interface == !cfg->file) {
		fcap_err(errbuf, "pcap: give an interface or a file");
		return NULL;
	}
	struct pcap_dev *pd = calloc(1, sizeof(*pd));
	if (!pd) {
		fcap_err(errbuf, "pcap: out of memory");
		return NULL;
	}
	pd->dev.ops = &pcap_ops;
	pd->dev.priv = pd;
	pd->live = cfg->interface != NULL;
	snprintf(pd->source, sizeof(pd->source), "%s", pd->live ? cfg->interface : cfg->file);
	pd->snaplen = cfg->snaplen ? cfg->snaplen : DEFAULT_SNAPLEN;
	pd->count_limit = cfg->count;
	pd->ns_units = cfg->ns_units;
	pd->held = malloc(pd->snaplen);
	if (!pd->held) {
		fcap_err(errbuf, "pcap: out of memory");
		free(pd);
		return NULL;
	}
	int rc = pd->live ? open_live(pd, cfg, errbuf) : open_file(pd, cfg, errbuf);
	if (rc == 0)
		rc = check_linktype(pd, errbuf);
	if (rc == 0)
		rc = compile_filter(pd, cfg->filter, errbuf);
	if (rc < 0) {
		pcap_close_dev(&pd->dev);
		return NULL;
	}
	return &pd->dev;
}
