`default_nettype none
`include "fcap_desc.vh"
// fcap_port: one capture port, from the MAC's clock domain into the core's.
//
//   MAC clock:  fcap_port_rx ──► data FIFO (async, frame commit) ──┐
//                            └─► descriptor FIFO (async) ─────────┤
//                            └─► sequence count (Gray) ───────────┤
//   core clock:                       fcap_port_core ◄─────────────┘
//                                     ├─► frame descriptors (with timestamps)
//                                     └─► frame data (data FIFO read side)
module fcap_port #(
    parameter DATA_W      = 64,
    parameter MAX_SNAP    = 16384,
    parameter FIFO_ADDR_W = 11,   // data FIFO depth in DATA_W words
    parameter DESC_ADDR_W = 5,
    parameter SEQ_W       = 16,
    parameter TS_ADDR_W   = 9
) (
    input  wire                     mac_clk,
    input  wire                     mac_rst,
    input  wire [DATA_W-1:0]        s_axis_tdata,
    input  wire [DATA_W/8-1:0]      s_axis_tkeep,
    input  wire                     s_axis_tvalid,
    input  wire                     s_axis_tlast,
    input  wire                     s_axis_tuser,

    input  wire                     clk,
    input  wire                     rst,
    input  wire                     enable,
    input  wire [15:0]              snaplen,
    input  wire                     cnt_clear,
    input  wire [63:0]              now_ns,

    output wire                     desc_valid,
    output wire [`FCAP_DESC_W-1:0]  desc_data,
    input  wire                     desc_rd,
    output wire                     data_valid,
    output wire [DATA_W-1:0]        data,
    input  wire                     data_rd,

    output wire [31:0]              drop_events,
    output wire                     busy,
    output wire                     ts_overrun,
    output wire [63:0]              cnt_frames,
    output wire [63:0]              cnt_bytes,
    output wire [63:0]              cnt_drop_fifo,
    output wire [63:0]              cnt_errors,
    output wire [63:0]              cnt_truncated
);
    localparam TS_DEPTH = 1 << TS_ADDR_W;

    wire                     fifo_wr_en, fifo_commit, fifo_drop, fifo_full;
    wire [DATA_W-1:0]        fifo_wr_data;
    wire                     pdesc_wr_en, pdesc_full;
    wire [`FCAP_PDESC_W-1:0] pdesc_wr_data;
    wire [SEQ_W-1:0]         seq_gray, done_seq_gray;
    wire                     mac_busy;

    fcap_port_rx #(
        .DATA_W   (DATA_W),
        .MAX_SNAP (MAX_SNAP),
        .SEQ_W    (SEQ_W),
        .TS_DEPTH (TS_DEPTH)
    ) rx (
        .clk (mac_clk), .rst (mac_rst),
        .enable_async (enable), .snaplen (snaplen), .done_seq_gray (done_seq_gray),
        .s_axis_tdata (s_axis_tdata), .s_axis_tkeep (s_axis_tkeep),
        .s_axis_tvalid (s_axis_tvalid), .s_axis_tlast (s_axis_tlast),
        .s_axis_tuser (s_axis_tuser),
        .fifo_wr_en (fifo_wr_en), .fifo_wr_data (fifo_wr_data),
        .fifo_commit (fifo_commit), .fifo_drop (fifo_drop), .fifo_full (fifo_full),
        .desc_wr_en (pdesc_wr_en), .desc_wr_data (pdesc_wr_data), .desc_full (pdesc_full),
        .seq_gray (seq_gray), .busy (mac_busy)
    );

    wire data_empty, pdesc_empty;
    /* verilator lint_off PINCONNECTEMPTY */
    fcap_async_fifo #(
        .WIDTH  (DATA_W),
        .ADDR_W (FIFO_ADDR_W)
    ) data_fifo (
        .wr_clk (mac_clk), .wr_rst (mac_rst),
        .wr_en (fifo_wr_en), .wr_data (fifo_wr_data),
        .wr_commit (fifo_commit), .wr_drop (fifo_drop), .wr_full (fifo_full), .wr_used (),
        .rd_clk (clk), .rd_rst (rst),
        .rd_en (data_rd), .rd_data (data), .rd_valid (data_valid), .rd_empty (data_empty)
    );

    wire                     pdesc_valid, pdesc_rd;
    wire [`FCAP_PDESC_W-1:0] pdesc_data;
    fcap_async_fifo #(
        .WIDTH  (`FCAP_PDESC_W),
        .ADDR_W (DESC_ADDR_W)
    ) desc_fifo (
        .wr_clk (mac_clk), .wr_rst (mac_rst),
        .wr_en (pdesc_wr_en), .wr_data (pdesc_wr_data),
        .wr_commit (pdesc_wr_en), .wr_drop (1'b0), .wr_full (pdesc_full), .wr_used (),
        .rd_clk (clk), .rd_rst (rst),
        .rd_en (pdesc_rd), .rd_data (pdesc_data), .rd_valid (pdesc_valid), .rd_empty (pdesc_empty)
    );
    /* verilator lint_on PINCONNECTEMPTY */

    wire core_busy;
    fcap_port_core #(
        .SEQ_W     (SEQ_W),
        .TS_ADDR_W (TS_ADDR_W)
    ) core (
        .clk (clk), .rst (rst), .cnt_clear (cnt_clear), .now_ns (now_ns),
        .seq_gray_async (seq_gray), .done_seq_gray (done_seq_gray),
        .pdesc_valid (pdesc_valid), .pdesc_data (pdesc_data), .pdesc_rd (pdesc_rd),
        .desc_valid (desc_valid), .desc_data (desc_data), .desc_rd (desc_rd),
        .drop_events (drop_events), .busy (core_busy), .ts_overrun (ts_overrun),
        .cnt_frames (cnt_frames), .cnt_bytes (cnt_bytes), .cnt_drop_fifo (cnt_drop_fifo),
        .cnt_errors (cnt_errors), .cnt_truncated (cnt_truncated)
    );

    wire mac_busy_sync;
    fcap_sync_bits #(.WIDTH(1)) sync_busy (
        .clk (clk), .rst (rst), .in (mac_busy), .out (mac_busy_sync)
    );

    // Not idle while the MAC side is inside a frame or has just written a
    // descriptor (fcap_port_rx holds busy until its pointers have crossed), or
    // anything waits in the FIFOs or the core pipeline.
    assign busy = mac_busy_sync || !data_empty || !pdesc_empty || core_busy;
endmodule
`default_nettype wire
