/* cmd_info.c - `fcap info`: identity and device tree of a card. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fcap/cardinfo.h"
#include "fcap/dev.h"

static void help(void)
{
	printf("usage: fcap info [-i DEVICE] [--card CARD]\n"
	       "Shows the card's identity and what its device tree ROM describes.\n\n"
	       "  -i, --interface DEV  sim: the simulated card (default); /dev/fcapN or\n"
	       "                     pcie:N: a card through the fcap kernel driver\n"
	       "  -d, --device DEV   the same as -i\n"
	       "      --card CARD    which simulated card: 4x10g (default) or 1x100g\n"
	       "  -h, --help         this text\n\n"
	       "exit status: 0 success, 1 the card could not be read, 2 bad command line\n");
}

int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "interface", required_argument, NULL, 'i' },
		{ "card", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *device = "sim";
	const char *card = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "i:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
		case 'd': device = optarg; break;
		case 'c': card = optarg; break;
		case 'h': help(); return EXIT_OK;
		default: return usage_error("info", "bad option");
		}
	}
	if (optind != argc)
		return usage_error("info", "unexpected argument '%s'", argv[optind]);
	char err[FCAP_ERRBUF_SIZE];
	char path[64];
	int pcie = fcap_dev_pcie_path(device, path, sizeof(path), err);
	if (pcie < 0)
		return usage_error("info", "%s", err);
	if (!pcie && strcmp(device, "sim"))
		return usage_error("info", "unknown device '%s' (sim, /dev/fcapN or pcie:N)", device);
	if (pcie && card)
		return usage_error("info", "--card chooses a simulated card; %s is what it is", device);

	/* Read-only: info works while another process captures. */
	struct fcap_sim_dev_config sim_cfg = { .card = card };
	struct fcap_dev *dev = pcie ? fcap_dev_open_pcie(path, false, err) : fcap_dev_open_sim(&sim_cfg, err);
	if (!dev) {
		fprintf(stderr, "fcap info: %s\n", err);
		return EXIT_RUNTIME;
	}
	struct fcap_card_info ci;
	int rc = fcap_card_read_info(dev, &ci, err);
	fcap_dev_close(dev);
	if (rc < 0) {
		fprintf(stderr, "fcap info: %s\n", err);
		return EXIT_RUNTIME;
	}
	printf("device        %s\n", device);
	printf("model         %s\n", ci.model);
	printf("version       %u.%u (ring format %u)\n", ci.version >> 16, ci.version & 0xFFFF, ci.format_version);
	printf("core clock    %llu Hz, %u-bit datapath\n", (unsigned long long)ci.clock_hz, ci.datapath_width);
	printf("snap length   up to %u bytes\n", ci.max_snaplen);
	printf("ring          %u ring(s), up to %u blocks of %u..%u bytes\n", ci.rings, ci.max_blocks,
	       ci.min_block_size, ci.max_block_size);
	for (uint32_t p = 0; p < ci.nports; p++) {
		const struct fcap_port_info *pi = &ci.ports[p];
		printf("port %-8u %s, %u Mb/s", p, pi->label, pi->speed_mbps);
		if (pi->mac_clock_hz)
			printf(", MAC clock %u Hz", pi->mac_clock_hz);
		if (pi->fifo_bytes)
			printf(", %u-byte FIFO", pi->fifo_bytes);
		printf("\n");
	}
	return EXIT_OK;
}
