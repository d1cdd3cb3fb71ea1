// fcap_desc.vh: descriptors inside the card.
`ifndef FCAP_DESC_VH
`define FCAP_DESC_VH

// Port descriptor: written by fcap_port_rx in the MAC clock domain at the end
// of every frame (kind 0) or to report frames it dropped (kind 1), read by
// fcap_port_core in the core domain. The frame's data is in the port's data
// FIFO, committed before the descriptor.
`define FCAP_PDESC_W         162
`define FCAP_PDESC_KIND      0        // 0: frame, 1: drops only
`define FCAP_PDESC_ERR       1        // MAC/FCS error seen (tuser)
`define FCAP_PDESC_CAPLEN    17:2     // bytes kept (<= snap length)
`define FCAP_PDESC_ORIGLEN   49:18    // bytes of the frame (without FCS)
`define FCAP_PDESC_DROPS     81:50    // frames dropped before this descriptor, not yet reported
`define FCAP_PDESC_DBYTES    113:82   // their bytes (saturating)
`define FCAP_PDESC_SEQ       129:114  // kind 0: the frame's SOF sequence number;
                                      // kind 1: every SOF before this number is finished
`define FCAP_PDESC_HASH      161:130  // kind 0: the frame's flow hash (fcap_flow_hash)

// Frame descriptor: from fcap_port_core to the record formatter, one per
// frame to record, with its timestamp resolved.
`define FCAP_DESC_W          177
`define FCAP_DESC_ORIGLEN    31:0    // bytes on the wire (without FCS)
`define FCAP_DESC_CAPLEN     47:32   // bytes kept (<= snap length)
`define FCAP_DESC_TS         111:48  // ns, time of the first beat
`define FCAP_DESC_ERR        112     // MAC/FCS error seen (tuser)
`define FCAP_DESC_DROPS      144:113 // frames of this port dropped just before this one
`define FCAP_DESC_HASH       176:145 // flow hash
`endif
