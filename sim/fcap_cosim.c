/*
 * fcap_cosim.c - fcap-cosim: the Verilated card beside a QEMU guest that
 * runs fcap.ko (docs/COSIM.md).
 *
 *   fcap-cosim --socket PATH --ram FILE --ram-size SIZE [--replay FILE]...
 *              [--rate RATE] [--idle-cycles N] [--stats FILE]
 *
 * Start it first: it creates the guest RAM file and the ivshmem socket,
 * then QEMU starts with
 *   -object memory-backend-file,id=ram,size=SIZE,mem-path=FILE,share=on
 *   -machine memory-backend=ram -m SIZE
 *   -chardev socket,path=PATH,id=cosim -device ivshmem-doorbell,chardev=cosim,vectors=1
 * and the guest loads fcap.ko with transport=mailbox. The k-th capture the
 * guest starts replays the k-th --replay file on port 0 at --rate.
 * Exits when QEMU does, or on SIGTERM or SIGINT (after writing --stats):
 * 0, or 1 with a message naming what went wrong.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../host/cli/cli.h"
#include "cosim.h"
#include "fcap/errbuf.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fcap-cosim --socket PATH --ram FILE --ram-size SIZE [--replay FILE]...\n"
		   "                  [--rate RATE] [--idle-cycles N] [--stats FILE]\n");
}

/* Guest RAM must sit below the PC's 32-bit PCI hole so that guest physical
 * address = file offset (docs/COSIM.md); 2 GiB is below it on both QEMU x86 machines. */
#define COSIM_MAX_RAM (2ull << 30)

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

int main(int argc, char **argv)
{
	struct cosim_config cfg = {
		.rate_bps = 1000000000ull,
		.idle_cycles = 250000,   /* 1 ms of the 250 MHz core clock */
		.slice_cycles = 64,
		.accept_timeout_ms = 60000,
		.stop = &stop_requested,
	};
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "ram", required_argument, NULL, 'm' },
		{ "ram-size", required_argument, NULL, 'M' },
		{ "replay", required_argument, NULL, 'r' },
		{ "rate", required_argument, NULL, 'R' },
		{ "idle-cycles", required_argument, NULL, 'i' },
		{ "stats", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': cfg.socket_path = optarg; break;
		case 'm': cfg.ram_path = optarg; break;
		case 'S': cfg.stats_path = optarg; break;
		case 'M':
			if (!parse_size(optarg, COSIM_MAX_RAM, &cfg.ram_bytes) || cfg.ram_bytes < (16u << 20) ||
			    cfg.ram_bytes % (2u << 20)) {
				fprintf(stderr, "fcap-cosim: --ram-size '%s': 16M..2G in multiples of 2M\n", optarg);
				return 2;
			}
			break;
		case 'r':
			if (cfg.nreplay == COSIM_MAX_REPLAYS) {
				fprintf(stderr, "fcap-cosim: more than %d --replay files\n", COSIM_MAX_REPLAYS);
				return 2;
			}
			cfg.replay[cfg.nreplay++] = optarg;
			break;
		case 'R':
			if (!parse_rate(optarg, &cfg.rate_bps) || cfg.rate_bps == 0) {
				fprintf(stderr, "fcap-cosim: --rate '%s': e.g. 1G, 100M\n", optarg);
				return 2;
			}
			break;
		case 'i':
			if (!parse_size(optarg, 1ull << 40, &cfg.idle_cycles)) {
				fprintf(stderr, "fcap-cosim: --idle-cycles '%s': a number of card cycles\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !cfg.socket_path || !cfg.ram_path || !cfg.ram_bytes) {
		usage(stderr);
		return 2;
	}
	/* No SA_RESTART: the poll() the loop sleeps in returns, and it looks at the flag. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	char errbuf[FCAP_ERRBUF_SIZE];
	if (cosim_run(&cfg, errbuf) < 0) {
		fprintf(stderr, "fcap-cosim: %s\n", errbuf);
		return 1;
	}
	return 0;
}
