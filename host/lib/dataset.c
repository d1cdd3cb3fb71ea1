/*
 * dataset.c - a capture file to labelled feature vectors, for training and
 * evaluation (fcap/model.h).
 */
#include <stdlib.h>

#include "fcap/labels.h"
#include "fcap/model.h"
#include "fcap/pcap_reader.h"

int fcap_dataset_read(struct fcap_dataset *ds, const char *path, const struct fcap_labels *labels,
		      const struct fcap_split *split, const struct fcap_feat_config *fc, char *errbuf)
{
	struct fcap_pcap_reader *r = fcap_pcap_open(path, errbuf);
	if (!r)
		return -1;
	struct fcap_features *fx = fcap_features_new(fc, errbuf);
	if (!fx) {
		fcap_pcap_close(r);
		return -1;
	}
	if (ds->nfeat == 0)
		ds->nfeat = fcap_features_count(fx);
	int rc;
	if (ds->nfeat != fcap_features_count(fx)) {
		rc = fcap_err(errbuf, "%s: feature count differs from the dataset's", path);
		goto out;
	}
	double x[FCAP_FEAT_MAX];
	struct fcap_pkt p;
	while ((rc = fcap_pcap_next(r, &p, errbuf)) > 0) {
		struct fcap_pkt_info pi;
		fcap_packet_decode(p.linktype, p.data, p.caplen, &pi);
		fcap_features_update(fx, &pi, p.origlen, p.ts_ns, x);
		unsigned kind = labels ? fcap_labels_get(labels, p.number, p.ts_ns, &pi) : 0;
		bool train = (!split->until_ns || p.ts_ns < split->until_ns) && (!split->packets || p.number <= split->packets);
		if (fcap_dataset_add(ds, x, (uint8_t)kind, train) < 0) {
			rc = fcap_err(errbuf, "%s: out of memory at packet %llu", path, (unsigned long long)p.number);
			break;
		}
	}
out:
	fcap_features_free(fx);
	fcap_pcap_close(r);
	return rc < 0 ? -1 : 0;
}

int fcap_dataset_read_packets(struct fcap_dataset *ds, const char *path, const uint64_t *numbers, size_t n,
			      const struct fcap_feat_config *fc, char *errbuf)
{
	struct fcap_pcap_reader *r = fcap_pcap_open(path, errbuf);
	if (!r)
		return -1;
	struct fcap_features *fx = fcap_features_new(fc, errbuf);
	if (!fx) {
		fcap_pcap_close(r);
		return -1;
	}
	if (ds->nfeat == 0)
		ds->nfeat = fcap_features_count(fx);
	int rc = 0;
	size_t next = 0;
	if (ds->nfeat != fcap_features_count(fx)) {
		rc = fcap_err(errbuf, "%s: feature count differs from the dataset's", path);
		goto out;
	}
	double x[FCAP_FEAT_MAX];
	struct fcap_pkt p;
	while (next < n && (rc = fcap_pcap_next(r, &p, errbuf)) > 0) {
		struct fcap_pkt_info pi;
		fcap_packet_decode(p.linktype, p.data, p.caplen, &pi);
		fcap_features_update(fx, &pi, p.origlen, p.ts_ns, x);
		if (p.number != numbers[next])
			continue;
		while (next < n && numbers[next] == p.number)
			next++;
		if (fcap_dataset_add(ds, x, 0, 1) < 0) {
			rc = fcap_err(errbuf, "%s: out of memory at packet %llu", path, (unsigned long long)p.number);
			break;
		}
	}
	if (rc >= 0 && next < n)
		rc = fcap_err(errbuf, "%s: has no packet %llu (the file changed since it was scored?)", path,
			      (unsigned long long)numbers[next]);
out:
	fcap_features_free(fx);
	fcap_pcap_close(r);
	return rc < 0 ? -1 : 0;
}
