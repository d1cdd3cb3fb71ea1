/*
 * fuzz_replay.c - replay files as the simulated card's MAC reads them
 * (sim/sim_mac.c over libpcap: the files users hand to `fcap capture -r`).
 *
 * The file is queued on a 10G port and the MAC is clocked at 156.25 MHz
 * until it has played everything or stopped on an error. Every beat must
 * be well formed (keep bits contiguous from bit 0, a frame's bytes no more
 * than it had), and a stop must carry a message. The clock loop is
 * bounded by the input size: a file cannot hold more frame bytes than it
 * has, so a replay that does not finish in time is a hang.
 */
#include "fuzz_common.h"

#include "sim_mac.h"

#define BEAT_PS 6400u   /* 156.25 MHz */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_file f;
	char err[256];

	fuzz_file_open(&f, data, size);
	struct sim_mac *mac = sim_mac_create(0);
	if (mac == NULL)
		abort();
	sim_mac_set_rate(mac, 10000000000ull);
	err[0] = '\0';
	if (sim_mac_add_file(mac, f.path, err, sizeof(err)) < 0) {
		if (err[0] == '\0')
			abort();
		goto out;
	}
	/* Each frame takes at most (len + 24 + 8) / 8 + 1 beats at line rate,
	 * and a frame of len bytes needs at least 16 + len bytes of file. */
	uint64_t bound = 64 + 2 * (uint64_t)size, now = 0, frame_bytes = 0;
	for (uint64_t i = 0; i < bound && !sim_mac_done(mac); i++, now += BEAT_PS) {
		struct sim_beat b;
		sim_mac_beat(mac, now, &b);
		if (!b.valid)
			continue;
		if (b.keep == 0 || (b.keep & (b.keep + 1u)) != 0 || (!b.last && b.keep != 0xff))
			abort();        /* keep must be 1..8 low bytes, 8 except at the end */
		frame_bytes += (uint64_t)__builtin_popcount(b.keep);
		if (frame_bytes > size)
			abort();        /* more bytes out than the file holds */
	}
	if (!sim_mac_done(mac))
		abort();                /* the replay hung */
	const char *why = sim_mac_error(mac);
	if (why != NULL && why[0] == '\0')
		abort();
out:
	sim_mac_destroy(mac);
	fuzz_file_close(&f);
	return 0;
}
