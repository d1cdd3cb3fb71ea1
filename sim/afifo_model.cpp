// afifo_model.cpp - thin C wrapper around the Verilated fcap_async_fifo,
// for tests/sim/test_async_fifo.c. Clocks are driven by the test.
#include "afifo_model.h"

#include <new>

#include "Vfcap_async_fifo.h"
#include "verilated.h"

struct afifo_model {
	VerilatedContext ctx;
	Vfcap_async_fifo top{&ctx};
};

extern "C" {

struct afifo_model *afifo_create(void)
{
	afifo_model *m = new (std::nothrow) afifo_model;
	if (m)
		afifo_reset(m);
	return m;
}

void afifo_destroy(struct afifo_model *m)
{
	if (m)
		m->top.final();
	delete m;
}

void afifo_set_wr(struct afifo_model *m, const struct afifo_wr *w)
{
	m->top.wr_en = w->en;
	m->top.wr_commit = w->commit;
	m->top.wr_drop = w->drop;
	m->top.wr_data = w->data;
}

void afifo_set_rd(struct afifo_model *m, bool rd_en)
{
	m->top.rd_en = rd_en;
}

void afifo_settle(struct afifo_model *m)
{
	m->top.wr_clk = 0;
	m->top.rd_clk = 0;
	m->top.eval();
}

bool afifo_wr_full(const struct afifo_model *m)
{
	return m->top.wr_full;
}

bool afifo_rd_valid(const struct afifo_model *m)
{
	return m->top.rd_valid;
}

uint32_t afifo_rd_data(const struct afifo_model *m)
{
	return m->top.rd_data;
}

void afifo_edge(struct afifo_model *m, bool wr_edge, bool rd_edge)
{
	afifo_settle(m);
	m->top.wr_clk = wr_edge;
	m->top.rd_clk = rd_edge;
	m->top.eval();
}

void afifo_reset(struct afifo_model *m)
{
	struct afifo_wr idle = {};
	afifo_set_wr(m, &idle);
	afifo_set_rd(m, false);
	m->top.wr_rst = 1;
	m->top.rd_rst = 1;
	for (int i = 0; i < 4; i++)
		afifo_edge(m, true, true);
	m->top.wr_rst = 0;
	m->top.rd_rst = 0;
}

} // extern "C"
