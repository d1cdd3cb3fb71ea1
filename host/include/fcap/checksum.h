/*
 * fcap/checksum.h - the one place a stored checksum is compared.
 *
 * Fuzzing builds define FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION (the
 * libFuzzer/OSS-Fuzz convention; only `make fuzz` does): there a checksum
 * mismatch is ignored, so that mutated inputs reach the structural checks
 * behind the checksum instead of all stopping at it. No build anyone runs
 * defines it.
 */
#ifndef FCAP_CHECKSUM_H
#define FCAP_CHECKSUM_H

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define FCAP_CHECKSUM_BAD(want, got) ((void)(want), (void)(got), 0)
#else
#define FCAP_CHECKSUM_BAD(want, got) ((want) != (got))
#endif

#endif
