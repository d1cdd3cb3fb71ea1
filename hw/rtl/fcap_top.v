`default_nettype none
`include "fcap_desc.vh"
// fcap_top: the capture card, one port, 64-bit AXI-Stream from the MAC.
//
//   MAC --AXIS--> fcap_ingress --> packet FIFO + descriptor FIFO
//                 (timestamp, snap length, FIFO overflow drops)
//       --> fcap_epb_formatter (pcapng EPB records)
//       --> fcap_block_writer  (ring blocks, DMA writes, publish)  --> host
//   host --AXI4-Lite--> fcap_regs (registers, counters, DT ROM, block table)
//
// Single clock domain: the MAC interface is presented in the core clock (the
// simulated MAC paces beats at the line rate). The DMA port writes 8 bytes per
// beat to a 64-bit bus address with byte strobes, in order.
module fcap_top #(
    parameter        DT_ROM_ADDR_W    = 10,
    parameter [31:0] DT_BYTES         = 32'd0,
    parameter        DT_ROM_FILE      = "fcap_dt.hex",
    parameter        PKT_FIFO_ADDR_W  = 12,
    parameter        DESC_FIFO_ADDR_W = 6,
    parameter        MAX_SNAP         = 16384,
    parameter        TABLE_ADDR_W     = 9,
    parameter [7:0]  RESET_INC_NS     = 8'd3,
    parameter [31:0] RESET_INC_NUM    = 32'd1,
    parameter [31:0] RESET_INC_DEN    = 32'd5
) (
    input  wire        clk,
    input  wire        rst,

    input  wire [15:0] s_axil_awaddr,
    input  wire        s_axil_awvalid,
    output wire        s_axil_awready,
    input  wire [31:0] s_axil_wdata,
    input  wire [3:0]  s_axil_wstrb,
    input  wire        s_axil_wvalid,
    output wire        s_axil_wready,
    output wire [1:0]  s_axil_bresp,
    output wire        s_axil_bvalid,
    input  wire        s_axil_bready,
    input  wire [15:0] s_axil_araddr,
    input  wire        s_axil_arvalid,
    output wire        s_axil_arready,
    output wire [31:0] s_axil_rdata,
    output wire [1:0]  s_axil_rresp,
    output wire        s_axil_rvalid,
    input  wire        s_axil_rready,

    input  wire [63:0] s_axis_tdata,
    input  wire [7:0]  s_axis_tkeep,
    input  wire        s_axis_tvalid,
    input  wire        s_axis_tlast,
    input  wire        s_axis_tuser,

    output wire        dma_wr_valid,
    output wire [63:0] dma_wr_addr,
    output wire [63:0] dma_wr_data,
    output wire [7:0]  dma_wr_strb,
    input  wire        dma_wr_ready,

    output wire        irq,
    output wire        idle
);
    // ---- registers -------------------------------------------------------------
    wire        ctrl_enable, ctrl_flush, ctrl_ring_reset, cnt_clear;
    wire [15:0] snaplen;
    wire        time_set;
    wire [63:0] time_set_ns, now_ns;
    wire [7:0]  time_inc_ns;
    wire [31:0] time_inc_num, time_inc_den;
    wire [31:0] ring_blocks, ring_block_size, ring_cons, ring_timeout, ring_prod;
    wire [63:0] ring_status_addr;
    wire        table_wr_en, table_wr_hi;
    wire [TABLE_ADDR_W-1:0] table_wr_index;
    wire [31:0] table_wr_data;
    wire        block_open, ring_full, flush_pending, published;
    wire [63:0] cnt_records, cnt_blocks;
    wire [63:0] cnt_frames, cnt_bytes, cnt_drop_fifo, cnt_drop_ring, cnt_errors, cnt_truncated;

    fcap_regs #(
        .DT_ROM_ADDR_W (DT_ROM_ADDR_W),
        .DT_BYTES      (DT_BYTES),
        .DT_ROM_FILE   (DT_ROM_FILE),
        .TABLE_ADDR_W  (TABLE_ADDR_W),
        .RESET_INC_NS  (RESET_INC_NS),
        .RESET_INC_NUM (RESET_INC_NUM),
        .RESET_INC_DEN (RESET_INC_DEN)
    ) regs (
        .clk (clk), .rst (rst),
        .s_axil_awaddr (s_axil_awaddr), .s_axil_awvalid (s_axil_awvalid),
        .s_axil_awready (s_axil_awready),
        .s_axil_wdata (s_axil_wdata), .s_axil_wstrb (s_axil_wstrb),
        .s_axil_wvalid (s_axil_wvalid), .s_axil_wready (s_axil_wready),
        .s_axil_bresp (s_axil_bresp), .s_axil_bvalid (s_axil_bvalid),
        .s_axil_bready (s_axil_bready),
        .s_axil_araddr (s_axil_araddr), .s_axil_arvalid (s_axil_arvalid),
        .s_axil_arready (s_axil_arready),
        .s_axil_rdata (s_axil_rdata), .s_axil_rresp (s_axil_rresp),
        .s_axil_rvalid (s_axil_rvalid), .s_axil_rready (s_axil_rready),
        .ctrl_enable (ctrl_enable), .ctrl_flush (ctrl_flush),
        .ctrl_ring_reset (ctrl_ring_reset), .snaplen (snaplen),
        .time_set (time_set), .time_set_ns (time_set_ns),
        .time_inc_ns (time_inc_ns), .time_inc_num (time_inc_num),
        .time_inc_den (time_inc_den), .time_now_ns (now_ns),
        .ring_blocks (ring_blocks), .ring_block_size (ring_block_size),
        .ring_status_addr (ring_status_addr), .ring_cons (ring_cons),
        .ring_timeout (ring_timeout),
        .table_wr_en (table_wr_en), .table_wr_index (table_wr_index),
        .table_wr_hi (table_wr_hi), .table_wr_data (table_wr_data),
        .cnt_clear (cnt_clear), .irq (irq),
        .ring_prod (ring_prod), .st_idle (idle), .st_block_open (block_open),
        .st_ring_full (ring_full), .st_flush_pending (flush_pending),
        .block_published (published),
        .cnt_records (cnt_records), .cnt_blocks (cnt_blocks),
        .port_rx_frames (cnt_frames), .port_rx_bytes (cnt_bytes),
        .port_drop_fifo (cnt_drop_fifo), .port_drop_ring (cnt_drop_ring),
        .port_rx_errors (cnt_errors), .port_truncated (cnt_truncated)
    );

    fcap_time time_unit (
        .clk (clk), .rst (rst),
        .set_en (time_set), .set_ns (time_set_ns),
        .inc_ns (time_inc_ns), .inc_num (time_inc_num), .inc_den (time_inc_den),
        .now_ns (now_ns)
    );

    // ---- port 0 ingress ------------------------------------------------------------
    wire        pkt_wr_en, pkt_commit, pkt_drop, pkt_full, pkt_empty;
    wire [63:0] pkt_wr_data;
    wire        pkt_rd, pkt_valid;
    wire [63:0] pkt_data;
    wire        desc_wr_en, desc_full, desc_rd, desc_valid;
    wire [`FCAP_DESC_W-1:0] desc_wr_data, desc_data;
    wire        ingress_busy, ingress_drop;

    fcap_ingress #(
        .DATA_W   (64),
        .MAX_SNAP (MAX_SNAP)
    ) ingress (
        .clk (clk), .rst (rst),
        .enable (ctrl_enable), .snaplen (snaplen), .now_ns (now_ns), .cnt_clear (cnt_clear),
        .s_axis_tdata (s_axis_tdata), .s_axis_tkeep (s_axis_tkeep),
        .s_axis_tvalid (s_axis_tvalid), .s_axis_tlast (s_axis_tlast),
        .s_axis_tuser (s_axis_tuser),
        .fifo_wr_en (pkt_wr_en), .fifo_wr_data (pkt_wr_data),
        .fifo_commit (pkt_commit), .fifo_drop (pkt_drop), .fifo_full (pkt_full),
        .desc_wr_en (desc_wr_en), .desc_wr_data (desc_wr_data), .desc_full (desc_full),
        .busy (ingress_busy), .drop_pulse (ingress_drop),
        .cnt_frames (cnt_frames), .cnt_bytes (cnt_bytes), .cnt_drop_fifo (cnt_drop_fifo),
        .cnt_errors (cnt_errors), .cnt_truncated (cnt_truncated)
    );

    fcap_pkt_fifo #(
        .WIDTH  (64),
        .ADDR_W (PKT_FIFO_ADDR_W)
    ) pkt_fifo (
        .clk (clk), .rst (rst),
        .wr_en (pkt_wr_en), .wr_data (pkt_wr_data),
        .wr_commit (pkt_commit), .wr_drop (pkt_drop), .wr_full (pkt_full),
        .rd_en (pkt_rd), .rd_data (pkt_data), .rd_valid (pkt_valid), .empty (pkt_empty)
    );

    fcap_fifo #(
        .WIDTH  (`FCAP_DESC_W),
        .ADDR_W (DESC_FIFO_ADDR_W)
    ) desc_fifo (
        .clk (clk), .rst (rst),
        .wr_en (desc_wr_en), .wr_data (desc_wr_data), .full (desc_full),
        .rd_en (desc_rd), .rd_data (desc_data), .rd_valid (desc_valid)
    );

    // ---- record formatter and block writer -----------------------------------------
    wire        alloc_req, alloc_grant, alloc_reject;
    wire [31:0] alloc_len;
    wire [63:0] alloc_ts;
    wire        rec_valid, rec_last, rec_ready;
    wire [63:0] rec_data;
    wire        formatter_busy, writer_busy;
    wire        table_rd_en;
    wire [TABLE_ADDR_W-1:0] table_rd_index;
    wire [63:0] table_rd_data;

    fcap_epb_formatter #(
        .PORT_ID (0)
    ) formatter (
        .clk (clk), .rst (rst), .cnt_clear (cnt_clear),
        .desc_valid (desc_valid), .desc_data (desc_data), .desc_rd (desc_rd),
        .pkt_valid (pkt_valid), .pkt_data (pkt_data), .pkt_rd (pkt_rd),
        .alloc_req (alloc_req), .alloc_len (alloc_len), .alloc_ts (alloc_ts),
        .alloc_grant (alloc_grant), .alloc_reject (alloc_reject),
        .rec_valid (rec_valid), .rec_data (rec_data), .rec_last (rec_last),
        .rec_ready (rec_ready),
        .busy (formatter_busy), .cnt_drop_ring (cnt_drop_ring)
    );

    fcap_block_table #(
        .ADDR_W (TABLE_ADDR_W)
    ) block_table (
        .clk (clk),
        .wr_en (table_wr_en), .wr_index (table_wr_index), .wr_hi (table_wr_hi),
        .wr_data (table_wr_data),
        .rd_en (table_rd_en), .rd_index (table_rd_index), .rd_data (table_rd_data)
    );

    wire [1:0] drop_events = {1'b0, ingress_drop} + {1'b0, alloc_reject && alloc_req};

    fcap_block_writer #(
        .TABLE_ADDR_W (TABLE_ADDR_W),
        .RING_ID      (0)
    ) writer (
        .clk (clk), .rst (rst), .cnt_clear (cnt_clear),
        .cfg_blocks (ring_blocks), .cfg_block_size (ring_block_size),
        .cfg_status_addr (ring_status_addr), .cfg_timeout (ring_timeout),
        .cons_idx (ring_cons), .ring_reset (ctrl_ring_reset),
        .flush_req (ctrl_flush), .flush_pending (flush_pending),
        .table_rd_en (table_rd_en), .table_rd_index (table_rd_index),
        .table_rd_data (table_rd_data),
        .alloc_req (alloc_req), .alloc_len (alloc_len), .alloc_ts (alloc_ts),
        .alloc_grant (alloc_grant), .alloc_reject (alloc_reject),
        .rec_valid (rec_valid), .rec_data (rec_data), .rec_last (rec_last),
        .rec_ready (rec_ready),
        .drop_events (drop_events),
        .dma_valid (dma_wr_valid), .dma_addr (dma_wr_addr), .dma_data (dma_wr_data),
        .dma_strb (dma_wr_strb), .dma_ready (dma_wr_ready),
        .prod_idx (ring_prod), .published (published),
        .block_open (block_open), .ring_full (ring_full), .busy (writer_busy),
        .cnt_records (cnt_records), .cnt_blocks (cnt_blocks)
    );

    assign idle = !ingress_busy && pkt_empty && !desc_valid && !formatter_busy && !writer_busy;
endmodule
`default_nettype wire
