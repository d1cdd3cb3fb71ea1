/*
 * fleet_spool_int.h - what the pieces of a sensor's spool and sender share
 * (internal): struct fcap_fleet, the records' and segments' bookkeeping, and
 * the functions one piece calls in another. fleet.c holds the interface and
 * the design; fleet_legacy.c the earlier one-file-per-message spool;
 * fleet_segments.c loading and appending segments; fleet_send.c the sender.
 * The segments' on-disk format is fcap/fleet_spool.h (fleet_spool.c).
 */
#ifndef FCAP_FLEET_SPOOL_INT_H
#define FCAP_FLEET_SPOOL_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include "fcap/fleet.h"
#include "fleet_int.h"

#define PUBLISH_WAIT_MS 2000
#define RETRY_PAUSE_MS 200
#define SEQ_LIMIT (1ull << 62)  /* a sequence number read from the spool beyond it is damage */
#define WINDOW 256              /* messages in flight */
#define SEG_MIN (64ull << 10)   /* a segment's least size (fleet.c); the reader's first buffer */

#define NKINDS 3
extern const char *const fleet_kinds[NKINDS];   /* "alert", "flow", "stats": the subjects' last token */

/* An earlier version's spool file, waiting to be sent. */
struct spooled {
	uint64_t seq;
	uint64_t bytes;
};

/* A message put with write_behind, waiting in memory for the writer. */
struct staged {
	struct staged *next;
	uint64_t seq;
	int kind;
	size_t len;
	char data[];
};

/* A segment file. */
struct seg {
	uint64_t id;             /* its place in the list, for ever (names may be odd) */
	char name[32];
	uint64_t size;           /* bytes written whole: the sender reads no further */
	uint64_t last;           /* the largest sequence number in it, 0 when none */
	bool closed;             /* no more appends: an earlier run's, or full */
	bool scanned;            /* read at open: its damage is said already */
	bool damaged;            /* set aside as NAME.bad, not removed, when done */
};

/* A record the sender has read: in flight, or done. */
enum { SENT, FAILED, DONE };
struct inflight {
	uint64_t seq, bytes;
	uint64_t seg;            /* its segment's id and offset, to send it again */
	size_t off;
	int state;
	bool acked, dup;         /* DONE by an acknowledgement (as a duplicate), else set aside */
	int64_t sent_ms;         /* when it was published (monotonic) */
};

struct fcap_fleet {
	char sensor[FCAP_FLEET_SENSOR_MAX + 1];
	char *dir;
	uint64_t spool_max, seg_max;
	uint64_t next_seq;
	uint64_t next_saved;     /* the "next" file says this: ids below it may be in use */
	natsConnection *nc;
	jsCtx *js;
	pthread_t sender;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool stop;
	struct spooled *q;       /* ring of an earlier version's files, oldest at head */
	size_t q_cap, q_head, q_len;
	/* segments, oldest first (lock); while wfd >= 0 the last one is appended to */
	struct seg *segs;
	size_t nsegs, segs_cap;
	uint64_t seg_ids;
	pthread_mutex_t wlock;   /* held by the appender (taken before lock): appends in order */
	int wfd;
	uint64_t wsize;
	uint8_t *wbuf;
	size_t wcap;
	/* write_behind: messages not yet in a segment, oldest first, and their writer */
	bool write_behind, writer_started, writer_stop, stopped;
	pthread_t writer;
	struct staged *sg_head, *sg_tail;
	uint64_t staged, staged_bytes;
	/* the window (lock): read records, oldest first, until done */
	struct inflight win[WINDOW];
	size_t w_head, w_len;
	int lib_pending;         /* publishes whose answer the library still owes */
	bool failed, probe;
	uint64_t progress;       /* every record up to it is done */
	/* the sender's own */
	bool cur_set;
	uint64_t cur_seg;        /* the next record to read: segment id and offset */
	size_t cur_off;
	uint64_t last_read;      /* the sequence number read last (they only grow) */
	uint64_t open_progress;  /* done by an earlier run */
	uint64_t progress_saved, pversion;
	int pfd;
	int64_t saved_at;        /* when the progress was written (mono_ms) */
	int rfd;                 /* the segment read, whole up to rlen in rbuf */
	uint64_t rseg;
	uint8_t *rbuf;
	size_t rcap, rlen;
	struct fcap_fleet_stats st;
	struct fleet_conn_err cerr;
};

/* fleet.c: helpers every piece uses */

/* The index of kind in fleet_kinds, -1 when it is none. */
int fleet_kind_index(const char *kind);
/* DIR/name of a segment into buf. */
void fleet_seg_path(const struct fcap_fleet *f, const char *name, char *buf, size_t n);
/* A problem for the stats (through spool_problem and publish_problem below). */
void fleet_note_problem(struct fcap_fleet *f, char *dst, size_t n, bool corrupt, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
#define spool_problem(f, corrupt, ...) \
	fleet_note_problem(f, (f)->st.spool_error, sizeof((f)->st.spool_error), corrupt, __VA_ARGS__)
#define publish_problem(f, ...) \
	fleet_note_problem(f, (f)->st.publish_error, sizeof((f)->st.publish_error), false, __VA_ARGS__)
/* write(2) of all n bytes, through EINTR and short writes; false with errno. */
bool fleet_write_all(int fd, const void *p, size_t n);
/* A file written whole under a temporary name and renamed in place (durable: fsynced); -1 with errno. */
int fleet_write_file(const char *path, const void *a, size_t alen, const void *b, size_t blen, bool durable);
/* The pause between attempts, cut short only by a stop. */
void fleet_sleep_ms(struct fcap_fleet *f, int ms);

/* fleet_legacy.c: an earlier version's spool, one file per message */

/* Queues the %020llu.msg files left in the spool, in order (at open). */
int fleet_load_msg_files(struct fcap_fleet *f, char *errbuf);
/* Sends them, one synchronous publish at a time: 0 when done, -1 when stopped. */
int fleet_send_msg_files(struct fcap_fleet *f);

/* fleet_segments.c: loading and appending segments */

/* The segment files' names in dir, sorted (*n of them; each and the array malloc'd). */
char **fleet_list_segs(const char *dir, size_t *n, char *errbuf);
/* A whole file in a new buffer (*n bytes); NULL with errno. */
uint8_t *fleet_read_whole(const char *path, size_t *n);
/* A damaged stretch [off, end) of segment name: said and counted. */
void fleet_seg_damage(struct fcap_fleet *f, const char *name, size_t off, size_t end, const char *why);
/* Everything an earlier run left in the spool (at open, before the threads). */
int fleet_load_spool(struct fcap_fleet *f, char *errbuf);
/* No more appends to the current segment (wlock held). */
void fleet_close_segment(struct fcap_fleet *f);
/* Records [first..last] appended to the spool and handed to the sender (wlock held); -1 (said) when lost. */
int fleet_append_records(struct fcap_fleet *f, const uint8_t *buf, size_t n, uint64_t first, uint64_t last,
			 uint64_t count, bool from_staged);
/* Room for n bytes in wbuf (wlock held); false when out of memory. */
bool fleet_wbuf_room(struct fcap_fleet *f, size_t n);
/* write_behind's thread: staged messages into the spool, until stopped and empty. */
void *fleet_writer(void *arg);

/* fleet_send.c: the sender */

/* The library's answer to an asynchronous publish (jsOptions.PublishAsync.AckHandler). */
void fleet_on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure);
/* Removes (or sets aside) the segments sent whose messages the saved progress covers. */
void fleet_drop_segments(struct fcap_fleet *f);
/* Writes the progress when due (or force), then drops what it covers. */
void fleet_save_progress(struct fcap_fleet *f, bool force);
/* The sender thread: the earlier version's files, then the segments, until stopped. */
void *fleet_sender(void *arg);

#endif
