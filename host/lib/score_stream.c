/* score_stream.c - the per-packet score stream (fcap/score_stream.h). */
#include "fcap/score_stream.h"

#include <stdlib.h>
#include <string.h>

#include "fcap/labels.h"

const char *fcap_alert_name(enum fcap_alert a)
{
	static const char *const names[] = { "none", "both", "classifier", "anomaly" };
	return (unsigned)a < 4 ? names[a] : "?";
}

static struct fcap_features *new_features(const struct fcap_model *m, char *errbuf)
{
	struct fcap_feat_config fc = { m->table_entries, m->idle_ns, m->extras };
	return fcap_features_new(&fc, errbuf);
}

int fcap_score_stream_init(struct fcap_score_stream *s, const struct fcap_model *m, FILE *out, char *errbuf)
{
	memset(s, 0, sizeof(*s));
	s->m = m;
	s->out = out;
	s->feat = malloc(FCAP_SCORE_BATCH * FCAP_FEAT_MAX * sizeof(double));
	s->fx = new_features(m, errbuf);
	s->sc = s->fx ? fcap_scorer_new(m, errbuf) : NULL;
	if (!s->feat || !s->fx || !s->sc) {
		if (!s->feat)
			fcap_err(errbuf, "score stream: out of memory");
		fcap_features_free(s->fx);
		fcap_scorer_free(s->sc);
		free(s->feat);
		memset(s, 0, sizeof(*s));
		return -1;
	}
	/* the stream reports the hybrid; the plain classifier's logit is not in it */
	fcap_scorer_plain_classifier(s->sc, false);
	return 0;
}

void fcap_score_stream_header(struct fcap_score_stream *s)
{
	if (s->out)
		fprintf(s->out, "file,offset,packet,ts_ns,flow,anomaly,classifier,hybrid,alert%s\n",
			s->labels ? ",label" : "");
}

static void write_line(struct fcap_score_stream *s, size_t i)
{
	const struct fcap_score_ref *r = &s->ref[i];
	const struct fcap_feat_in *p = &s->in[i];
	const struct fcap_scores *sc = &s->scores[i];
	char flow[160];
	fcap_packet_flow_str(&p->pi, flow, sizeof(flow));
	fprintf(s->out, "%s,%llu,%llu,%llu,%s,%.6f,%.6f,%.6f,%s", r->file, (unsigned long long)r->offset,
		(unsigned long long)r->number, (unsigned long long)p->ts_ns, flow, sc->ae, sc->hyb, sc->hybrid,
		fcap_alert_name(sc->alert));
	if (s->labels)
		fprintf(s->out, ",%s", fcap_labels_kind(s->labels, fcap_labels_get(s->labels, r->number, p->ts_ns, &p->pi)));
	fputc('\n', s->out);
}

void fcap_score_stream_flush(struct fcap_score_stream *s)
{
	if (!s->n)
		return;
	fcap_features_update_batch(s->fx, s->in, s->n, s->feat, FCAP_FEAT_MAX);
	if (s->use_float)
		for (size_t i = 0; i < s->n; i++)
			fcap_score_float(s->sc, s->feat + i * FCAP_FEAT_MAX, &s->scores[i]);
	else
		fcap_score_fixed_batch(s->sc, s->feat, FCAP_FEAT_MAX, s->n, s->scores);
	for (size_t i = 0; i < s->n; i++) {
		enum fcap_alert a = s->scores[i].alert;
		s->alerts[a]++;
		if (s->out && (!s->alerts_only || a != FCAP_ALERT_NONE))
			write_line(s, i);
		if (s->on_packet)
			s->on_packet(s->on_packet_ctx, &s->ref[i], &s->in[i], &s->scores[i], s->feat + i * FCAP_FEAT_MAX);
	}
	s->packets += s->n;
	s->n = 0;
}

const struct fcap_pkt_info *fcap_score_stream_packet(struct fcap_score_stream *s, const char *file, uint64_t offset,
						     uint64_t number,
			      uint32_t linktype, uint64_t ts_ns, const uint8_t *data, uint32_t caplen,
			      uint32_t origlen)
{
	if (s->n && s->ref[s->n - 1].file != file)
		fcap_score_stream_flush(s);
	struct fcap_feat_in *p = &s->in[s->n];
	fcap_packet_decode(linktype, data, caplen, &p->pi);
	p->frame_len = origlen;
	p->ts_ns = ts_ns;
	s->ref[s->n] = (struct fcap_score_ref){ file, offset, number };
	if (++s->n == FCAP_SCORE_BATCH)
		fcap_score_stream_flush(s);   /* reads in[], leaves it as it is */
	return &p->pi;
}

int fcap_score_stream_reset(struct fcap_score_stream *s, char *errbuf)
{
	(void)errbuf;   /* kept for callers: a reset that had to map memory could fail */
	fcap_score_stream_flush(s);
	fcap_features_reset(s->fx);
	return 0;
}

void fcap_score_stream_free(struct fcap_score_stream *s)
{
	if (s->fx && s->sc)
		fcap_score_stream_flush(s);
	fcap_features_free(s->fx);
	fcap_scorer_free(s->sc);
	free(s->feat);
	s->fx = NULL;
	s->sc = NULL;
	s->feat = NULL;
}
