/* cli.h - shared pieces of the fcap command line (internal). */
#ifndef FCAP_CLI_H
#define FCAP_CLI_H

#include <stdbool.h>
#include <stdint.h>

/* Exit codes (docs/CLI.md). */
#define EXIT_OK 0
#define EXIT_RUNTIME 1   /* the job failed: device, file, or replay error */
#define EXIT_USAGE 2     /* bad command line */

int cmd_capture(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_store(int argc, char **argv);

/* "1500", "64K", "2M", "1G" (binary multiples). */
bool parse_size(const char *s, uint64_t max, uint64_t *out);
/* "10G", "2.5G", "100M", "1000000000" (bits per second, decimal multiples). */
bool parse_rate(const char *s, uint64_t *out);
/* "200", "200us", "10ms", "1s" (default unit: microseconds). */
bool parse_duration_ns(const char *s, uint64_t *out);

/* -C: a bare number is millions of bytes (tcpdump), else a size ("64M"). */
bool parse_segment_size(const char *s, uint64_t *out);
/* A duration whose bare number is seconds: "10", "1.5", "500ms", "90m", "12h", "7d". */
bool parse_seconds(const char *s, uint64_t *ns);
/* "100G" (bytes) or "80%" (of the filesystem). */
bool parse_size_or_percent(const char *s, uint64_t *bytes, uint32_t *percent);
/* "1700000000.123456789" (seconds since the epoch, up to 9 decimals) or
 * "2025-01-02T03:04:05.123456789Z" (UTC): exact, no rounding. */
bool parse_time_ns(const char *s, uint64_t *ns);

/* Prints "fcap CMD: MESSAGE" and a pointer to --help on stderr; returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
