/*
 * fuzz_replay.c - replay files as the simulated card's MAC reads them
 * (sim/sim_mac.c over libpcap: the files users hand to `fcap capture -r`).
 *
 * The file is queued on a 10G port (8-byte beats, 156.25 MHz) and on a
 * 100G port (64-byte beats, 322.27 MHz), each clocked until it has played
 * everything or stopped on an error. Every beat must
 * be well formed (keep bits contiguous from bit 0, bytes past the frame
 * zero, a frame's bytes no more than it had), and a stop must carry a message. The clock loop is
 * bounded by the input size: a file cannot hold more frame bytes than it
 * has, so a replay that does not finish in time is a hang.
 */
#include "fuzz_common.h"

#include "sim_mac.h"

/* One MAC: 10G with 8-byte beats at 156.25 MHz, or 100G with 64-byte beats
 * at the CMAC's 322.265625 MHz (a 3103 ps period). */
static void replay(const struct fuzz_file *f, size_t size, unsigned beat_bytes, uint64_t bps, uint64_t period_ps)
{
	char err[256];
	struct sim_mac *mac = sim_mac_create(0, beat_bytes, bps);
	if (mac == NULL)
		abort();
	err[0] = '\0';
	if (sim_mac_add_file(mac, f->path, err, sizeof(err)) < 0) {
		if (err[0] == '\0')
			abort();
		sim_mac_destroy(mac);
		return;
	}
	/* A frame of len bytes needs at least 16 + len bytes of file and at
	 * most (len + 84) bytes of wire time, under one clock per beat. */
	uint64_t full = beat_bytes == 64 ? ~0ull : (1ull << beat_bytes) - 1u;
	uint64_t bound = 64 + 2 * (uint64_t)size, now = 0, frame_bytes = 0;
	for (uint64_t i = 0; i < bound && !sim_mac_done(mac); i++, now += period_ps) {
		struct sim_beat b;
		sim_mac_beat(mac, now, &b);
		if (!b.valid)
			continue;
		/* keep: 1..beat_bytes low bytes, all of them except at the end */
		if (b.keep == 0 || (b.keep & (b.keep + 1u)) != 0 || (b.keep & ~full) || (!b.last && b.keep != full))
			abort();
		unsigned n = (unsigned)__builtin_popcountll(b.keep);
		for (unsigned k = n; k < beat_bytes; k++)
			if (b.data[k] != 0)
				abort();        /* bytes past the frame are zero */
		frame_bytes += n;
		if (frame_bytes > size)
			abort();        /* more bytes out than the file holds */
	}
	if (!sim_mac_done(mac))
		abort();                /* the replay hung */
	const char *why = sim_mac_error(mac);
	if (why != NULL && why[0] == '\0')
		abort();
	sim_mac_destroy(mac);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_file f;
	fuzz_file_open(&f, data, size);
	replay(&f, size, 8, 10000000000ull, 6400);
	replay(&f, size, 64, 100000000000ull, 3103);
	fuzz_file_close(&f);
	return 0;
}
