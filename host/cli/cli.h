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
int cmd_stats(int argc, char **argv);
int cmd_alerts(int argc, char **argv);
int cmd_feedback(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_flows(int argc, char **argv);
int cmd_fleet(int argc, char **argv);

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
/* The time of day, ns since the epoch (verdicts, suppression rules' expiry,
 * fleet statistics). */
uint64_t now_epoch_ns(void);

/* -Z: become user (groups, gid, uid), drop every capability, forbid new
 * privileges, and check that root cannot be regained. 0, or -1 with err. */
#include <stddef.h>
int drop_privileges(const char *user, char *err, size_t n);

/* systemd's notification protocol: sends state ("READY=1", "WATCHDOG=1")
 * to $NOTIFY_SOCKET. 1 sent, 0 not a service, -1 failed. */
int service_notify(const char *state);
/* The watchdog period systemd asks for ($WATCHDOG_USEC) in ns, or 0. */
uint64_t service_watchdog_ns(void);

/* An EVE alert file and its verdict journal (ALERTS.verdicts when journal
 * is NULL; the path read is left in used, FCAP_VERDICT_PATH_MAX bytes), as
 * `fcap alerts` and `fcap report` read them: errors and the journal's
 * warnings go to stderr prefixed "fcap CMD". 0, or -1 with nothing left
 * loaded. */
struct fcap_alert_file;
struct fcap_verdicts;
int load_alerts_with_verdicts(const char *cmd, const char *alerts, const char *journal, char *used,
			      struct fcap_alert_file *af, struct fcap_verdicts *vs);

/* The CRC-32C of a model file as 8 hex digits: the model id in alerts. */
int model_file_id(const char *path, char id[16], char *errbuf);

/* Prints "fcap CMD: MESSAGE" and a pointer to --help on stderr; returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
