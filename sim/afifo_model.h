/*
 * afifo_model.h - fcap_async_fifo (WIDTH 32, ADDR_W 4) alone, for its
 * clock-crossing test. Thin C API over the Verilated module.
 */
#ifndef FCAP_AFIFO_MODEL_H
#define FCAP_AFIFO_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct afifo_model;

struct afifo_wr { bool en, commit, drop; uint32_t data; };

struct afifo_model *afifo_create(void);
void afifo_destroy(struct afifo_model *m);
/* Inputs for the coming edges; they stay until changed. */
void afifo_set_wr(struct afifo_model *m, const struct afifo_wr *w);
void afifo_set_rd(struct afifo_model *m, bool rd_en);
/* Outputs as settled before the coming edges (call afifo_settle first). */
void afifo_settle(struct afifo_model *m);
bool afifo_wr_full(const struct afifo_model *m);
bool afifo_rd_valid(const struct afifo_model *m);
uint32_t afifo_rd_data(const struct afifo_model *m);
/* One event: the write clock and/or the read clock rise together. */
void afifo_edge(struct afifo_model *m, bool wr_edge, bool rd_edge);
void afifo_reset(struct afifo_model *m);

#ifdef __cplusplus
}
#endif

#endif
