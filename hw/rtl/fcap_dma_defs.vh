// fcap_dma_defs.vh: entries from the ring allocator to the DMA streamer.
`ifndef FCAP_DMA_DEFS_VH
`define FCAP_DMA_DEFS_VH

// Order entry: one per formatted record, one per closed block, in the order
// the streamer must write them.
`define FCAP_ORD_W           93
`define FCAP_ORD_CLOSE       92       // 1: close a block (details in the close FIFO)
`define FCAP_ORD_RING        91:88    // record: the ring it goes to
`define FCAP_ORD_PORT        87:80    // record: the port whose record FIFO holds it
`define FCAP_ORD_ADDR        79:16    // record: bus address of its first byte
`define FCAP_ORD_LANES       15:0     // record: length in 64-bit words

// A formatted record, from its formatter to the order queue (the allocator
// adds the port).
`define FCAP_DONE_W          84
`define FCAP_DONE_RING       83:80
`define FCAP_DONE_ADDR       79:16
`define FCAP_DONE_LANES      15:0

// Close entry: what the streamer writes to finish a block and publish it.
`define FCAP_CLOSE_W         740
`define FCAP_CLOSE_HEADER    511:0    // the 64-byte block header, ready to write
`define FCAP_CLOSE_BASE      575:512  // bus address of the block
`define FCAP_CLOSE_USED      607:576  // bytes used: the padding block starts here
`define FCAP_CLOSE_SIZE      639:608  // block size
`define FCAP_CLOSE_STATUS    703:640  // bus address of the status word
`define FCAP_CLOSE_PROD      735:704  // producer index to publish
`define FCAP_CLOSE_RING      739:736  // the ring, for its interrupt
`endif
