/* cardctl.c - starting, stopping and reading the card (fcap/cardctl.h). */
#include "fcap/cardctl.h"

#include <string.h>
#include <time.h>

#include "fcap/card.h"
#include "fcap/cardinfo.h"
#include "fcap/ring.h"

/* Register polls give up after this many reads (each read takes the card
 * at least two clocks; on hardware ~1 us). */
#define POLL_READS 1000000u

/* Behind a driver (pcie) the registers are the driver's: these helpers refuse. */
static int no_regs(struct fcap_dev *dev, const char *what, char *errbuf)
{
	return fcap_err(errbuf, "%s: %s is the driver's job on this device (fcap_card_start)", dev->ops->name,
			what);
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

int fcap_card_set_clock(struct fcap_dev *dev, uint64_t clock_hz, char *errbuf)
{
	/* period = 1e9 / f ns = whole + num/den with den = f / g, num = (1e9 mod f) / g */
	const uint64_t ns_per_s = 1000000000ull;
	if (!fcap_dev_has_regs(dev))
		return no_regs(dev, "setting the clock increment", errbuf);
	if (clock_hz == 0 || clock_hz > UINT32_MAX)
		return fcap_err(errbuf, "clock of %llu Hz is outside 1..%u Hz",
				(unsigned long long)clock_hz, UINT32_MAX);
	uint64_t whole = ns_per_s / clock_hz;
	uint64_t num = ns_per_s % clock_hz;
	uint64_t den = clock_hz;
	uint64_t g = num ? gcd(num, den) : den;
	num /= g;
	den = num ? den / g : 0;
	if (whole > 255)
		return fcap_err(errbuf, "clock of %llu Hz: period %llu ns exceeds the card's 255 ns step",
				(unsigned long long)clock_hz, (unsigned long long)whole);
	if (fcap_reg_write(dev, FCAP_REG_TIME_INC_NS, (uint32_t)whole) < 0 ||
	    fcap_reg_write(dev, FCAP_REG_TIME_INC_NUM, (uint32_t)num) < 0 ||
	    fcap_reg_write(dev, FCAP_REG_TIME_INC_DEN, (uint32_t)den) < 0 ||
	    fcap_reg_write(dev, FCAP_REG_TIME_CTRL, FCAP_TIME_CTRL_APPLY_INC) < 0)
		return fcap_err(errbuf, "%s: writing the time increment failed", dev->ops->name);
	return 0;
}

int fcap_card_adjust_time(struct fcap_dev *dev, int64_t delta_ns, char *errbuf)
{
	uint64_t d = (uint64_t)delta_ns;
	if (fcap_reg_write(dev, FCAP_REG_TIME_ADJ_LO, (uint32_t)d) < 0 ||
	    fcap_reg_write(dev, FCAP_REG_TIME_ADJ_HI, (uint32_t)(d >> 32)) < 0 ||
	    fcap_reg_write(dev, FCAP_REG_TIME_CTRL, FCAP_TIME_CTRL_ADJUST) < 0)
		return fcap_err(errbuf, "%s: adjusting the card time failed", dev->ops->name);
	return 0;
}

int fcap_card_set_time(struct fcap_dev *dev, uint64_t ns, char *errbuf)
{
	if (!fcap_dev_has_regs(dev))
		return no_regs(dev, "setting the time", errbuf);
	if (fcap_reg_write(dev, FCAP_REG_TIME_SET_LO, (uint32_t)ns) < 0 ||
	    fcap_reg_write(dev, FCAP_REG_TIME_SET_HI, (uint32_t)(ns >> 32)) < 0 ||
	    fcap_reg_write(dev, FCAP_REG_TIME_CTRL, FCAP_TIME_CTRL_SET) < 0)
		return fcap_err(errbuf, "%s: setting the card time failed", dev->ops->name);
	return 0;
}

uint64_t fcap_card_time(struct fcap_dev *dev)
{
	if (!fcap_dev_has_regs(dev))
		return 0;
	fcap_reg_write(dev, FCAP_REG_TIME_CTRL, FCAP_TIME_CTRL_SNAPSHOT);
	uint64_t lo = fcap_reg_read(dev, FCAP_REG_TIME_LO);
	uint64_t hi = fcap_reg_read(dev, FCAP_REG_TIME_HI);
	return hi << 32 | lo;
}

static uint64_t read64(struct fcap_dev *dev, uint32_t off)
{
	uint64_t lo = fcap_reg_read(dev, off);
	uint64_t hi = fcap_reg_read(dev, off + 4);
	return hi << 32 | lo;
}

/* Counters that read all ones are refused: that is what a read no one
 * answered returns (a PCIe completer abort, the sim's time-out; the driver
 * reports U64_MAX once the card is gone), and a value no counter of the card
 * reaches. */
static int counters_answered(struct fcap_dev *dev, const struct fcap_card_counters *c, char *errbuf)
{
	if (c->records == UINT64_MAX || c->blocks == UINT64_MAX)
		return fcap_err(errbuf, "%s: the card's record and block counters read all ones (it did not answer)",
				dev->ops->name);
	for (unsigned p = 0; p < c->nports; p++) {
		const struct fcap_port_counters *pc = &c->port[p];
		if (pc->rx_frames == UINT64_MAX || pc->rx_bytes == UINT64_MAX || pc->drop_fifo == UINT64_MAX ||
		    pc->drop_ring == UINT64_MAX || pc->rx_errors == UINT64_MAX || pc->truncated == UINT64_MAX)
			return fcap_err(errbuf, "%s: port %u's counters read all ones (the card did not answer)",
					dev->ops->name, p);
	}
	return 0;
}

int fcap_card_counters(struct fcap_dev *dev, unsigned nports, struct fcap_card_counters *c, char *errbuf)
{
	if (nports > sizeof(c->port) / sizeof(c->port[0]))
		return fcap_err(errbuf, "%u ports: counters hold at most %zu", nports,
				sizeof(c->port) / sizeof(c->port[0]));
	memset(c, 0, sizeof(*c));
	if (dev->ops->counters) {
		if (dev->ops->counters(dev, c, errbuf) < 0)
			return -1;
		if (c->nports > nports)
			c->nports = nports;
		return counters_answered(dev, c, errbuf);
	}
	if (fcap_reg_write(dev, FCAP_REG_CNT_CTRL, FCAP_CNT_CTRL_SNAPSHOT) < 0)
		return fcap_err(errbuf, "%s: counter snapshot failed", dev->ops->name);
	c->nports = nports;
	c->records = read64(dev, FCAP_REG_CNT_RECORDS);
	c->blocks = read64(dev, FCAP_REG_CNT_BLOCKS);
	for (unsigned p = 0; p < nports; p++) {
		uint32_t base = FCAP_REG_PORT_BASE + p * FCAP_REG_PORT_STRIDE;
		struct fcap_port_counters *pc = &c->port[p];
		pc->rx_frames = read64(dev, base + FCAP_PORT_RX_FRAMES);
		pc->rx_bytes = read64(dev, base + FCAP_PORT_RX_BYTES);
		pc->drop_fifo = read64(dev, base + FCAP_PORT_DROP_FIFO);
		pc->drop_ring = read64(dev, base + FCAP_PORT_DROP_RING);
		pc->rx_errors = read64(dev, base + FCAP_PORT_RX_ERRORS);
		pc->truncated = read64(dev, base + FCAP_PORT_TRUNCATED);
	}
	return counters_answered(dev, c, errbuf);
}

int fcap_card_enable(struct fcap_dev *dev, char *errbuf)
{
	if (!fcap_dev_has_regs(dev))
		return no_regs(dev, "enabling capture", errbuf);
	if (fcap_reg_write(dev, FCAP_REG_CTRL, FCAP_CTRL_ENABLE) < 0)
		return fcap_err(errbuf, "%s: enabling capture failed", dev->ops->name);
	return 0;
}

static int poll_status(struct fcap_dev *dev, uint32_t mask, uint32_t want, const char *what, char *errbuf)
{
	for (unsigned i = 0; i < POLL_READS; i++) {
		if ((fcap_reg_read(dev, FCAP_REG_STATUS) & mask) == want)
			return 0;
	}
	return fcap_err(errbuf, "%s: card did not %s (STATUS 0x%08x)", dev->ops->name, what,
			fcap_reg_read(dev, FCAP_REG_STATUS));
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int fcap_card_start(struct fcap_dev *dev, const struct fcap_card_info *ci, const struct fcap_ring_config *cfg,
		    char *errbuf)
{
	if (dev->ops->start)
		return dev->ops->start(dev, cfg, errbuf);
	if (fcap_card_set_clock(dev, ci->clock_hz, errbuf) < 0 || fcap_card_set_time(dev, cfg->start_time_ns ? cfg->start_time_ns : realtime_ns(), errbuf) < 0)
		return -1;
	if (fcap_reg_write(dev, FCAP_REG_CNT_CTRL, FCAP_CNT_CTRL_CLEAR) < 0)
		return fcap_err(errbuf, "%s: clearing the counters failed", dev->ops->name);
	uint32_t ctrl = FCAP_CTRL_ENABLE | (cfg->hash ? FCAP_CTRL_HASH_OPTION : 0);
	if (fcap_reg_write(dev, FCAP_REG_CTRL, ctrl) < 0)
		return fcap_err(errbuf, "%s: enabling capture failed", dev->ops->name);
	return 0;
}

void fcap_card_irq_ack(struct fcap_dev *dev)
{
	if (fcap_dev_has_regs(dev))
		fcap_reg_write(dev, FCAP_REG_IRQ_STATUS, 0xFFFFFFFFu); /* every ring */
}

int fcap_card_ring_reset(struct fcap_dev *dev, char *errbuf)
{
	if (fcap_reg_write(dev, FCAP_REG_CTRL, FCAP_CTRL_RING_RESET) < 0)
		return fcap_err(errbuf, "%s: ring reset failed", dev->ops->name);
	return poll_status(dev, FCAP_STATUS_RESET_PENDING, 0, "finish its ring reset", errbuf);
}

int fcap_card_stop(struct fcap_dev *dev, char *errbuf)
{
	if (dev->ops->stop)
		return dev->ops->stop(dev, errbuf);
	if (fcap_reg_write(dev, FCAP_REG_CTRL, 0) < 0)
		return fcap_err(errbuf, "%s: disabling capture failed", dev->ops->name);
	/* Frames already accepted drain into the ring (or are dropped and
	 * counted if it is full); then the open block is closed. */
	if (poll_status(dev, FCAP_STATUS_IDLE, FCAP_STATUS_IDLE, "drain its frames", errbuf) < 0)
		return -1;
	if (fcap_reg_write(dev, FCAP_REG_CTRL, FCAP_CTRL_FLUSH) < 0)
		return fcap_err(errbuf, "%s: flush failed", dev->ops->name);
	return poll_status(dev, FCAP_STATUS_FLUSH_PENDING | FCAP_STATUS_IDLE, FCAP_STATUS_IDLE,
			   "close its open block", errbuf);
}
