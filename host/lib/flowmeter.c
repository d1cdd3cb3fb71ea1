/*
 * flowmeter.c - unidirectional IP flow records (fcap/flowmeter.h).
 *
 * The table hands an entry to flow_ended() whenever it lets it go: reused
 * after an idle time, pushed out of a full set, expired by the periodic
 * sweep, or drained at the end. That is the only place flows leave, so
 * each is reported once.
 */
#include "fcap/flowmeter.h"

#include <stdlib.h>
#include <string.h>

#include "flowtab.h"

struct flow_state {
	uint64_t packets, octets;
	uint64_t start_ns, end_ns;
};

struct fcap_flowmeter {
	struct flowtab tab;
	fcap_flow_sink sink;
	void *ctx;
	uint64_t last_sweep_ns;
	uint64_t sweep_every_ns;
	struct fcap_flowmeter_stats st;
};

/* Key layout: a = source, b = destination, kind = protocol, pad[0] = IP
 * version; the ingress port in pad[1..2] (little endian, ports < 65536). */
static void make_key(struct flowkey *k, const struct fcap_pkt_info *pi, uint32_t ingress)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->a, pi->src_ip, 16);
	memcpy(k->b, pi->dst_ip, 16);
	k->pa = pi->sport;
	k->pb = pi->dport;
	k->kind = pi->ip_proto;
	k->pad[0] = pi->ip_version;
	k->pad[1] = (uint8_t)ingress;
	k->pad[2] = (uint8_t)(ingress >> 8);
}

static void flow_ended(void *ctx, const struct flowkey *k, void *payload, uint64_t seen, int why)
{
	struct fcap_flowmeter *m = ctx;
	const struct flow_state *s = payload;
	(void)seen;
	struct fcap_flow f = {
		.ip_version = k->pad[0],
		.proto = k->kind,
		.end_reason = (uint8_t)why,
		.sport = k->pa,
		.dport = k->pb,
		.ingress = (uint32_t)k->pad[1] | (uint32_t)k->pad[2] << 8,
		.packets = s->packets,
		.octets = s->octets,
		.start_ns = s->start_ns,
		.end_ns = s->end_ns,
	};
	memcpy(f.src, k->a, 16);
	memcpy(f.dst, k->b, 16);
	m->st.flows++;
	if (why >= 0 && why < 6)
		m->st.ended[why]++;
	m->sink(m->ctx, &f);
}

struct fcap_flowmeter *fcap_flowmeter_new(uint32_t entries, uint64_t idle_ns, fcap_flow_sink sink, void *ctx,
					  char *errbuf)
{
	struct fcap_flowmeter *m = calloc(1, sizeof(*m));
	if (!m) {
		fcap_err(errbuf, "flow meter: out of memory");
		return NULL;
	}
	if (!entries)
		entries = FCAP_FLOWMETER_DEFAULT_ENTRIES;
	if (!idle_ns)
		idle_ns = FCAP_FLOWMETER_DEFAULT_IDLE_NS;
	if (flowtab_init(&m->tab, entries, sizeof(struct flow_state), idle_ns) < 0) {
		free(m);
		fcap_err(errbuf, "flow meter: cannot map a table of %u entries", entries);
		return NULL;
	}
	m->tab.on_end = flow_ended;
	m->tab.on_end_ctx = m;
	m->sink = sink;
	m->ctx = ctx;
	/* Idle flows leave within 1.5 idle timeouts of their last packet,
	 * without walking the whole table at every packet. */
	m->sweep_every_ns = idle_ns / 2;
	m->st.memory_bytes = flowtab_bytes(&m->tab);
	return m;
}

void fcap_flowmeter_packet(struct fcap_flowmeter *m, const struct fcap_pkt_info *pi, uint32_t ingress,
			   uint64_t ts_ns)
{
	if (pi->ip_version != 4 && pi->ip_version != 6) {
		m->st.not_ip++;
		return;
	}
	if (!m->last_sweep_ns)
		m->last_sweep_ns = ts_ns;
	else if (ts_ns > m->last_sweep_ns && ts_ns - m->last_sweep_ns >= m->sweep_every_ns) {
		flowtab_expire(&m->tab, ts_ns);
		m->last_sweep_ns = ts_ns;
	}
	struct flowkey k;
	make_key(&k, pi, ingress);
	bool fresh;
	struct flow_state *s = flowtab_get(&m->tab, &k, ts_ns, &fresh);
	if (fresh)
		s->start_ns = ts_ns;
	s->packets++;
	s->octets += pi->ip_len;
	if (ts_ns > s->end_ns)
		s->end_ns = ts_ns;
	if (ts_ns < s->start_ns)
		s->start_ns = ts_ns;
	m->st.packets++;
}

void fcap_flowmeter_finish(struct fcap_flowmeter *m)
{
	flowtab_drain(&m->tab, FLOWTAB_END_FORCED);
}

void fcap_flowmeter_stats(const struct fcap_flowmeter *m, struct fcap_flowmeter_stats *st)
{
	*st = m->st;
}

void fcap_flowmeter_free(struct fcap_flowmeter *m)
{
	if (!m)
		return;
	flowtab_free(&m->tab);
	free(m);
}
