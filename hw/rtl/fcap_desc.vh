// fcap_desc.vh: the frame descriptor passed from a port's ingress to the record
// formatter, one per committed frame (the frame's bytes are in the packet FIFO).
`ifndef FCAP_DESC_VH
`define FCAP_DESC_VH
`define FCAP_DESC_W          145
`define FCAP_DESC_ORIGLEN    31:0    // bytes on the wire (without FCS)
`define FCAP_DESC_CAPLEN     47:32   // bytes kept (<= snap length)
`define FCAP_DESC_TS         111:48  // ns, time of the first beat
`define FCAP_DESC_ERR        112     // MAC/FCS error seen (tuser)
`define FCAP_DESC_DROPS      144:113 // frames of this port dropped just before this one
`endif
