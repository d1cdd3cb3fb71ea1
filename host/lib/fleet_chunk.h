/*
 * fleet_chunk.h - the frame of one message of an extract answer.
 *
 * 12 bytes, then the payload: "FCX1", the type ('D' data: a piece of the
 * pcapng; 'E' end: "packets=N bytes=N chunks=N damaged=N"; 'X' error: the
 * reason, text), three zero bytes, the sequence number (u32 little-endian,
 * from 0, one per message of the answer, end or error marker included).
 */
#ifndef FCAP_FLEET_CHUNK_H
#define FCAP_FLEET_CHUNK_H

#define FLEET_CHUNK_HDR 12
#define FLEET_CHUNK_MAGIC "FCX1"
#define FLEET_CHUNK_DATA 'D'
#define FLEET_CHUNK_END 'E'
#define FLEET_CHUNK_ERROR 'X'
#define FLEET_CHUNK_MAX (512u * 1024u)   /* payload; below NATS's default 1 MB */
#define FLEET_EXTRACT_SUBJECT "fcap.%s.extract"
#define FLEET_SERVE_QUEUE "fcap-serve"

#endif
