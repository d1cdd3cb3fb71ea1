/*
 * fcap/labels.h - packet labels for training and evaluation.
 *
 * A label file is text, one rule a line; later rules win:
 *
 *   # comment
 *   default benign                      label of packets no rule matches
 *   packets 120-450 attack:scan         packet numbers (1-based), inclusive
 *   time 1700000000.5 1700000060 10.0.0.66 attack:flood
 *                                       packets in [start, end) seconds since
 *                                       the epoch whose source or destination
 *                                       is the host (omit the host: any; a MAC
 *                                       address matches the Ethernet addresses)
 *
 * A label is "benign" or "attack", optionally ":NAME" for the kind of attack.
 */
#ifndef FCAP_LABELS_H
#define FCAP_LABELS_H

#include <stdint.h>

#include "fcap/errbuf.h"
#include "fcap/packet.h"

#define FCAP_LABELS_MAX_KINDS 64

struct fcap_labels;

/* Parses a label file; errors name the file and line. */
struct fcap_labels *fcap_labels_load(const char *path, char *errbuf);
/* The same rules from a string (lines separated by newlines); name is used in errors. */
struct fcap_labels *fcap_labels_from_text(const char *text, const char *name, char *errbuf);
/* A label set where everything is benign. */
struct fcap_labels *fcap_labels_all_benign(void);
/* 0 for benign, else the attack kind (1..). */
unsigned fcap_labels_get(const struct fcap_labels *l, uint64_t number, uint64_t ts_ns, const struct fcap_pkt_info *pi);
/* Name of kind k ("benign" for 0; "attack" for an unnamed attack). */
const char *fcap_labels_kind(const struct fcap_labels *l, unsigned k);
unsigned fcap_labels_kinds(const struct fcap_labels *l);
void fcap_labels_free(struct fcap_labels *l);

#endif
