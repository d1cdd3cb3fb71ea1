/*
 * fcap.c - the fcap command: one binary, one subcommand per job.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "capture", cmd_capture, "capture from an interface, a card or a file into pcapng or a store" },
	{ "extract", cmd_extract, "take packets out of a store by time, host, port, flow, filter" },
	{ "store", cmd_store, "list, repair, pin segments of a store" },
	{ "stats", cmd_stats, "show where a capture lost frames, stage by stage" },
	{ "info", cmd_info, "show what a card says about itself" },
	{ "train", cmd_train, "train a packet-scoring model from labelled captures" },
	{ "score", cmd_score, "score every packet of capture files with a model; alerts" },
	{ "alerts", cmd_alerts, "list, filter and show the alerts of an EVE file" },
	{ "feedback", cmd_feedback, "record a verdict on an alert (false or true positive)" },
	{ "report", cmd_report, "a self-contained HTML report of an EVE file" },
	{ "flows", cmd_flows, "flow records of capture files, exported over IPFIX" },
	{ "fleet", cmd_fleet, "the fleet on NATS JetStream: init, publish, alerts, serve, extract" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: fcap COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'fcap COMMAND --help' describes each command.\n"
		   "exit status: 0 success, 1 the job failed, 2 bad command line\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "fcap: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
