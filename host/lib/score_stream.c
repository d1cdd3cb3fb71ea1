/* score_stream.c - the per-packet score stream (fcap/score_stream.h). */
#include "fcap/score_stream.h"

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
	s->fx = new_features(m, errbuf);
	if (!s->fx)
		return -1;
	s->sc = fcap_scorer_new(m, errbuf);
	if (!s->sc) {
		fcap_features_free(s->fx);
		return -1;
	}
	return 0;
}

int fcap_score_stream_reset(struct fcap_score_stream *s, char *errbuf)
{
	struct fcap_features *fx = new_features(s->m, errbuf);
	if (!fx)
		return -1;
	fcap_features_free(s->fx);
	s->fx = fx;
	return 0;
}

void fcap_score_stream_free(struct fcap_score_stream *s)
{
	fcap_features_free(s->fx);
	fcap_scorer_free(s->sc);
	s->fx = NULL;
	s->sc = NULL;
}

void fcap_score_stream_header(struct fcap_score_stream *s)
{
	if (s->out)
		fprintf(s->out, "file,offset,packet,ts_ns,flow,anomaly,classifier,hybrid,alert%s\n",
			s->labels ? ",label" : "");
}

enum fcap_alert fcap_score_stream_packet(struct fcap_score_stream *s, const char *file, uint64_t offset,
					 uint64_t number, uint32_t linktype, uint64_t ts_ns, const uint8_t *data,
					 uint32_t caplen, uint32_t origlen)
{
	struct fcap_pkt_info pi;
	double x[FCAP_FEAT_MAX];
	struct fcap_scores sc;
	fcap_packet_decode(linktype, data, caplen, &pi);
	fcap_features_update(s->fx, &pi, origlen, ts_ns, x);
	if (s->use_float)
		fcap_score_float(s->sc, x, &sc);
	else
		fcap_score_fixed(s->sc, x, &sc);
	s->packets++;
	s->alerts[sc.alert]++;
	if (s->out && (!s->alerts_only || sc.alert != FCAP_ALERT_NONE)) {
		char flow[160];
		fcap_packet_flow_str(&pi, flow, sizeof(flow));
		fprintf(s->out, "%s,%llu,%llu,%llu,%s,%.6f,%.6f,%.6f,%s", file, (unsigned long long)offset,
			(unsigned long long)number, (unsigned long long)ts_ns, flow, sc.ae, sc.hyb, sc.hybrid,
			fcap_alert_name(sc.alert));
		if (s->labels)
			fprintf(s->out, ",%s", fcap_labels_kind(s->labels, fcap_labels_get(s->labels, number, ts_ns, &pi)));
		fputc('\n', s->out);
	}
	return sc.alert;
}
