/* cmd_stats.c - `fcap stats`: where a capture lost frames, stage by stage.
 *
 * The figures come from what the capture left behind: a pcapng file's
 * statistics blocks (the stages line in the first ISB's comment, written
 * at close) or a store's fcap-stats file (rewritten every second while the
 * capture runs, and at its end). Reading a file checks every block length
 * against the file before using it. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "fcap/stages.h"

#define BT_SHB 0x0A0D0D0Au
#define BT_ISB 0x00000005u
#define OPT_COMMENT 1u

static void help(void)
{
	printf("usage: fcap stats FILE|STORE\n"
	       "Shows where a capture's frames went, stage by stage: received, captured,\n"
	       "and lost at the wire, the card's FIFO (for an interface: the kernel's\n"
	       "capture buffer), a full ring, the host (corrupt blocks), the disk backlog;\n"
	       "and how many the capture filter rejected. The same figures are in the\n"
	       "file's statistics blocks and in the metrics (fcap capture --metrics-*).\n\n"
	       "  FILE     a pcapng file written by fcap capture -w\n"
	       "  STORE    a store directory (fcap capture --store): its fcap-stats file,\n"
	       "           current while the capture runs\n"
	       "  -h, --help  this text\n\n"
	       "exit status: 0 success (the accounting holds), 1 no figures could be read\n"
	       "or the accounting does not hold, 2 bad command line\n");
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The stages line of the last ISB comment in a pcapng file. */
static int read_pcapng(const char *path, struct fcap_stages *sg, char *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return fcap_err(err, "%s: %s", path, strerror(errno));
	uint8_t hdr[12];
	uint64_t off = 0;
	bool found = false;
	int rc = 0;
	char why[FCAP_ERRBUF_SIZE];
	while (rc == 0) {
		size_t got = fread(hdr, 1, 8, f);
		if (got == 0)
			break;
		if (got < 8) {
			rc = fcap_err(err, "%s: offset %llu: a block header cut short", path, (unsigned long long)off);
			break;
		}
		uint32_t type = le32(hdr), len = le32(hdr + 4);
		if (off == 0 && type != BT_SHB) {
			rc = fcap_err(err, "%s: not a pcapng file (offset 0: block type 0x%08x)", path, type);
			break;
		}
		if (off == 0) {
			if (fread(hdr + 8, 1, 4, f) != 4 || le32(hdr + 8) != 0x1A2B3C4Du) {
				rc = fcap_err(err, "%s: not a little-endian pcapng section (fcap writes those)", path);
				break;
			}
			got = 12;
		}
		if (len < 12 || len % 4 || len > (1u << 28)) {
			rc = fcap_err(err, "%s: offset %llu: block length %u is impossible", path,
				      (unsigned long long)off, len);
			break;
		}
		if (type == BT_ISB) {
			uint8_t *b = malloc(len);
			if (!b || fread(b + 8, 1, len - 8, f) != len - 8) {
				free(b);
				rc = fcap_err(err, "%s: offset %llu: statistics block of %u bytes cut short", path,
					      (unsigned long long)off, len);
				break;
			}
			/* options after interface id and timestamp (8 + 12), before the trailer (4) */
			uint32_t o = 20;
			while (o + 4 <= len - 4) {
				uint32_t code = (uint32_t)b[o] | (uint32_t)b[o + 1] << 8;
				uint32_t olen = (uint32_t)b[o + 2] | (uint32_t)b[o + 3] << 8;
				if (code == 0 || olen > len - 4 - (o + 4))
					break;
				if (code == OPT_COMMENT) {
					char text[1024];
					size_t n = olen < sizeof(text) - 1 ? olen : sizeof(text) - 1;
					memcpy(text, b + o + 4, n);
					text[n] = '\0';
					if (!strncmp(text, "fcap stages:", 12)) {
						if (fcap_stages_parse(text, sg, why) < 0) {
							rc = fcap_err(err, "%s: offset %llu: %s", path,
								      (unsigned long long)off, why);
							break;
						}
						found = true;
					}
				}
				o += 4 + ((olen + 3) & ~3u);
			}
			free(b);
		} else if (fseeko(f, (off_t)(off + len), SEEK_SET) != 0) {
			rc = fcap_err(err, "%s: offset %llu: %s", path, (unsigned long long)off, strerror(errno));
		}
		off += len;
		if (fseeko(f, (off_t)off, SEEK_SET) != 0)
			break;
	}
	fclose(f);
	if (rc == 0 && !found)
		rc = fcap_err(err, "%s: no fcap stages in its statistics blocks (not closed by fcap capture: "
			      "stopped by a crash, or written by another tool)", path);
	return rc;
}

static int read_store(const char *dir, struct fcap_stages *sg, char *err)
{
	char path[4200], line[1024], why[FCAP_ERRBUF_SIZE];
	snprintf(path, sizeof(path), "%s/fcap-stats", dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return fcap_err(err, "%s: %s (is %s a store recorded by fcap capture --store?)", path,
				strerror(errno), dir);
	bool ok = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	if (!ok)
		return fcap_err(err, "%s: empty", path);
	if (fcap_stages_parse(line, sg, why) < 0)
		return fcap_err(err, "%s: line 1: %s", path, why);
	return 0;
}

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			help();
			return EXIT_OK;
		}
		return usage_error("stats", "bad option");
	}
	if (optind == argc)
		return usage_error("stats", "give a capture file or a store directory");
	if (argc - optind > 1)
		return usage_error("stats", "unexpected argument '%s': one file or store at a time", argv[optind + 1]);
	const char *path = argv[optind];
	struct stat sb;
	char err[FCAP_ERRBUF_SIZE];
	struct fcap_stages sg;
	if (stat(path, &sb) < 0) {
		fprintf(stderr, "fcap stats: %s: %s\n", path, strerror(errno));
		return EXIT_RUNTIME;
	}
	int rc = S_ISDIR(sb.st_mode) ? read_store(path, &sg, err) : read_pcapng(path, &sg, err);
	if (rc < 0) {
		fprintf(stderr, "fcap stats: %s\n", err);
		return EXIT_RUNTIME;
	}
	printf("%s: %s\n", path, S_ISDIR(sb.st_mode) ? "store" : "capture file");
	fcap_stages_print(&sg, stdout);
	return sg.captured + sg.card_fifo + sg.ring_full + sg.host + sg.disk_backlog == sg.received ? EXIT_OK
												     : EXIT_RUNTIME;
}
