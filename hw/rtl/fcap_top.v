`default_nettype none
`include "fcap_desc.vh"
`include "fcap_dma_defs.vh"
// fcap_top: the capture card.
//
//   port p (own MAC clock):  MAC --AXIS--> fcap_port --(async FIFOs)--> core clock:
//   core clock, per port:  fcap_port_core (timestamps, counters)
//                           --> fcap_epb_formatter (pcapng EPB records, FMT_WORDS words a clock)
//                           --> fcap_rec_fifo (a word stream: FMT_WORDS in, DMA_LANES out)
//   shared:  fcap_ring_alloc (where each record goes; block closes)
//             --> order and close queues --> fcap_dma_streamer (DMA_LANES-word beats)
//             --> fcap_dma_burst (TLP-sized bursts) --> fcap_skid --> host
//   host --AXI4-Lite--> fcap_regs (registers, counters, DT ROM, block table)
//
// Each port has its own MAC clock and reset; everything else runs on the core
// clock. The DMA port writes one line of DMA_LANES 64-bit words per beat
// (line-aligned bus address, byte strobes), in order. docs/ARCHITECTURE.md
// follows one frame; docs/DATAPATH.md gives the two shipped parameter sets:
//   4 x 10G:  the defaults below (64-bit MACs at 156.25 MHz, 250 MHz core)
//   1 x 100G: NUM_PORTS 1, NUM_RINGS 8, DATA_W 512 (CMAC at 322.265625 MHz),
//             FMT_WORDS 8, DMA_LANES 16, 312.5 MHz core (RESET_INC 3 + 1/5 ns),
//             PORT_FIFO_ADDR_W 10, DESC_FIFO_ADDR_W 9 (hw/dts/fcap_1x100g.dts)
module fcap_top #(
    parameter        NUM_PORTS        = 4,
    parameter        NUM_RINGS        = 4,
    parameter        DATA_W           = 64,   // MAC beat, bits: 64 (10G) or 512 (100G)
    parameter        FMT_WORDS        = 2,    // 64-bit words a formatter writes per clock
    parameter        DT_ROM_ADDR_W    = 10,
    parameter [31:0] DT_BYTES         = 32'd0,
    parameter        DT_ROM_FILE      = "fcap_dt.hex",
    parameter        PORT_FIFO_ADDR_W = 11,   // packet FIFO depth in DATA_W words
    parameter        DESC_FIFO_ADDR_W = 5,
    parameter        TS_ADDR_W        = 9,
    parameter        MAX_SNAP         = 16384,
    parameter        TABLE_ADDR_W     = 9,
    parameter        REC_FIFO_ADDR_W  = 9,    // record FIFO depth in rows of DMA_LANES words
    parameter        DMA_LANES        = 8,    // 64-bit words per DMA beat
    parameter        DMA_BURST_BYTES  = 256,  // TLP max payload the DMA bursts fill
    parameter [7:0]  RESET_INC_NS     = 8'd4,
    parameter [31:0] RESET_INC_NUM    = 32'd0,
    parameter [31:0] RESET_INC_DEN    = 32'd0
) (
    input  wire                   clk,
    input  wire                   rst,

    input  wire [15:0]            s_axil_awaddr,
    input  wire                   s_axil_awvalid,
    output wire                   s_axil_awready,
    input  wire [31:0]            s_axil_wdata,
    input  wire [3:0]             s_axil_wstrb,
    input  wire                   s_axil_wvalid,
    output wire                   s_axil_wready,
    output wire [1:0]             s_axil_bresp,
    output wire                   s_axil_bvalid,
    input  wire                   s_axil_bready,
    input  wire [15:0]            s_axil_araddr,
    input  wire                   s_axil_arvalid,
    output wire                   s_axil_arready,
    output wire [31:0]            s_axil_rdata,
    output wire [1:0]             s_axil_rresp,
    output wire                   s_axil_rvalid,
    input  wire                   s_axil_rready,

    input  wire [NUM_PORTS-1:0]    mac_clk,
    input  wire [NUM_PORTS-1:0]    mac_rst,
    input  wire [NUM_PORTS*DATA_W-1:0]     s_axis_tdata,
    input  wire [NUM_PORTS*DATA_W/8-1:0]   s_axis_tkeep,
    input  wire [NUM_PORTS-1:0]    s_axis_tvalid,
    input  wire [NUM_PORTS-1:0]    s_axis_tlast,
    input  wire [NUM_PORTS-1:0]    s_axis_tuser,

    output wire                   dma_wr_valid,
    output wire [63:0]            dma_wr_addr,
    output wire [DMA_LANES*64-1:0] dma_wr_data,
    output wire [DMA_LANES*8-1:0] dma_wr_strb,
    input  wire                   dma_wr_ready,

    input  wire                   pps,         // pulse per second (any clock)
    output wire [NUM_RINGS-1:0]   irq,
    output wire                   idle
);
    // ---- registers -------------------------------------------------------------
    wire        ctrl_enable, ctrl_flush, ctrl_ring_reset, ctrl_hash_option, cnt_clear;
    wire [15:0] snaplen;
    wire        time_set, time_adj;
    wire [63:0] time_set_ns, time_adj_ns, now_ns, pps_time;
    wire [31:0] pps_count;
    wire [7:0]  time_inc_ns;
    wire [31:0] time_inc_num, time_inc_den;
    wire [NUM_RINGS*32-1:0] ring_blocks, ring_block_size, ring_cons, ring_timeout, ring_prod;
    wire [NUM_RINGS*32-1:0] ring_table_base;
    wire [NUM_RINGS*64-1:0] ring_status_addr;
    wire [511:0]            steer;
    wire [NUM_RINGS-1:0]    ring_open, ring_is_full, published;
    wire        table_wr_en, table_wr_hi;
    wire [TABLE_ADDR_W-1:0] table_wr_index;
    wire [31:0] table_wr_data;
    wire        flush_pending, reset_pending;
    wire [63:0] cnt_records, cnt_blocks;
    wire [NUM_PORTS*64-1:0] cnt_frames, cnt_bytes, cnt_drop_fifo, cnt_drop_ring;
    wire [NUM_PORTS*64-1:0] cnt_errors, cnt_truncated;

    fcap_regs #(
        .NUM_PORTS     (NUM_PORTS),
        .NUM_RINGS     (NUM_RINGS),
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
        .ctrl_ring_reset (ctrl_ring_reset), .ctrl_hash_option (ctrl_hash_option),
        .snaplen (snaplen),
        .time_set (time_set), .time_set_ns (time_set_ns),
        .time_adj (time_adj), .time_adj_ns (time_adj_ns),
        .time_inc_ns (time_inc_ns), .time_inc_num (time_inc_num),
        .time_inc_den (time_inc_den), .time_now_ns (now_ns),
        .pps_time (pps_time), .pps_count (pps_count),
        .table_wr_en (table_wr_en), .table_wr_index (table_wr_index),
        .table_wr_hi (table_wr_hi), .table_wr_data (table_wr_data),
        .steer (steer), .cnt_clear (cnt_clear),
        .ring_blocks (ring_blocks), .ring_block_size (ring_block_size),
        .ring_status_addr (ring_status_addr), .ring_cons (ring_cons),
        .ring_timeout (ring_timeout), .ring_table_base (ring_table_base),
        .ring_prod (ring_prod), .published (published), .irq (irq),
        .st_idle (idle), .st_block_open (|ring_open),
        .st_ring_full (|ring_is_full), .st_flush_pending (flush_pending),
        .st_reset_pending (reset_pending),
        .cnt_records (cnt_records), .cnt_blocks (cnt_blocks),
        .port_rx_frames (cnt_frames), .port_rx_bytes (cnt_bytes),
        .port_drop_fifo (cnt_drop_fifo), .port_drop_ring (cnt_drop_ring),
        .port_rx_errors (cnt_errors), .port_truncated (cnt_truncated)
    );

    fcap_time time_unit (
        .clk (clk), .rst (rst),
        .set_en (time_set), .set_ns (time_set_ns),
        .adj_en (time_adj), .adj_ns (time_adj_ns),
        .inc_ns (time_inc_ns), .inc_num (time_inc_num), .inc_den (time_inc_den),
        .now_ns (now_ns)
    );

    fcap_pps pps_latch (
        .clk (clk), .rst (rst), .pps_async (pps), .now_ns (now_ns),
        .pps_time (pps_time), .pps_count (pps_count)
    );

    // ---- ports, their record formatters and record FIFOs ---------------------------
    wire [NUM_PORTS-1:0]    f_alloc_req, f_alloc_grant, f_alloc_reject;
    wire [NUM_PORTS*4-1:0]  f_alloc_ring;
    wire [NUM_PORTS*32-1:0] f_alloc_len;
    wire [NUM_PORTS*64-1:0] f_alloc_ts;
    wire [63:0]             f_alloc_addr;
    wire [NUM_PORTS-1:0]    f_done_valid, f_done_rd;
    wire [NUM_PORTS*`FCAP_DONE_W-1:0] f_done_data;
    wire [NUM_PORTS-1:0]    port_busy, formatter_busy, rf_empty;
    wire [NUM_PORTS*32-1:0] port_drops;
    localparam RF_CNT_W = $clog2(DMA_LANES + 1);
    localparam FMT_CNT_W = $clog2(FMT_WORDS + 1);
    wire [NUM_PORTS*DMA_LANES*64-1:0] rf_data;
    wire [NUM_PORTS*RF_CNT_W-1:0]     rf_avail, rf_pop;

    genvar p;
    generate
        for (p = 0; p < NUM_PORTS; p = p + 1) begin : port
            wire                    desc_valid, desc_rd, data_valid, data_rd;
            wire [`FCAP_DESC_W-1:0] desc_data;
            wire [DATA_W-1:0]       data;
            wire [FMT_CNT_W-1:0]    rec_n;
            wire [FMT_WORDS*64-1:0] rec_data;
            wire                    rec_ready;

            /* verilator lint_off PINCONNECTEMPTY */
            fcap_port #(
                .DATA_W      (DATA_W),
                .MAX_SNAP    (MAX_SNAP),
                .FIFO_ADDR_W (PORT_FIFO_ADDR_W),
                .DESC_ADDR_W (DESC_FIFO_ADDR_W),
                .TS_ADDR_W   (TS_ADDR_W)
            ) rx (
                .mac_clk (mac_clk[p]), .mac_rst (mac_rst[p]),
                .s_axis_tdata (s_axis_tdata[p*DATA_W +: DATA_W]),
                .s_axis_tkeep (s_axis_tkeep[p*DATA_W/8 +: DATA_W/8]),
                .s_axis_tvalid (s_axis_tvalid[p]), .s_axis_tlast (s_axis_tlast[p]),
                .s_axis_tuser (s_axis_tuser[p]),
                .clk (clk), .rst (rst), .enable (ctrl_enable), .snaplen (snaplen),
                .cnt_clear (cnt_clear), .now_ns (now_ns),
                .desc_valid (desc_valid), .desc_data (desc_data), .desc_rd (desc_rd),
                .data_valid (data_valid), .data (data), .data_rd (data_rd),
                .drop_events (port_drops[p*32 +: 32]), .busy (port_busy[p]), .ts_overrun (),
                .cnt_frames (cnt_frames[p*64 +: 64]), .cnt_bytes (cnt_bytes[p*64 +: 64]),
                .cnt_drop_fifo (cnt_drop_fifo[p*64 +: 64]), .cnt_errors (cnt_errors[p*64 +: 64]),
                .cnt_truncated (cnt_truncated[p*64 +: 64])
            );
            /* verilator lint_on PINCONNECTEMPTY */

            fcap_epb_formatter #(
                .PORT_ID   (p),
                .NUM_RINGS (NUM_RINGS),
                .IN_W      (DATA_W),
                .OUT_WORDS (FMT_WORDS)
            ) formatter (
                .clk (clk), .rst (rst), .cnt_clear (cnt_clear),
                .hash_option (ctrl_hash_option), .steer (steer),
                .desc_valid (desc_valid), .desc_data (desc_data), .desc_rd (desc_rd),
                .pkt_valid (data_valid), .pkt_data (data), .pkt_rd (data_rd),
                .alloc_req (f_alloc_req[p]), .alloc_ring (f_alloc_ring[p*4 +: 4]),
                .alloc_len (f_alloc_len[p*32 +: 32]),
                .alloc_ts (f_alloc_ts[p*64 +: 64]),
                .alloc_grant (f_alloc_grant[p]), .alloc_reject (f_alloc_reject[p]),
                .alloc_addr (f_alloc_addr),
                .done_valid (f_done_valid[p]), .done_data (f_done_data[p*`FCAP_DONE_W +: `FCAP_DONE_W]),
                .done_rd (f_done_rd[p]),
                .rec_wr_n (rec_n), .rec_wr_data (rec_data), .rec_ready (rec_ready),
                .busy (formatter_busy[p]), .cnt_drop_ring (cnt_drop_ring[p*64 +: 64])
            );

            fcap_rec_fifo #(
                .LANES      (DMA_LANES),
                .WR_W       (FMT_WORDS),
                .ROW_ADDR_W (REC_FIFO_ADDR_W)
            ) rec_fifo (
                .clk (clk), .rst (rst),
                .wr_n (rec_n), .wr_data (rec_data), .wr_ready (rec_ready),
                .rd_data (rf_data[p*DMA_LANES*64 +: DMA_LANES*64]),
                .rd_avail (rf_avail[p*RF_CNT_W +: RF_CNT_W]), .rd_pop (rf_pop[p*RF_CNT_W +: RF_CNT_W]),
                .empty (rf_empty[p])
            );
        end
    endgenerate

    // ---- ring allocator, queues, DMA streamer ------------------------------------------
    wire        table_rd_en;
    wire [TABLE_ADDR_W-1:0] table_rd_index;
    wire [63:0] table_rd_data;

    fcap_block_table #(
        .ADDR_W (TABLE_ADDR_W)
    ) block_table (
        .clk (clk),
        .wr_en (table_wr_en), .wr_index (table_wr_index), .wr_hi (table_wr_hi),
        .wr_data (table_wr_data),
        .rd_en (table_rd_en), .rd_index (table_rd_index), .rd_data (table_rd_data)
    );

    // FIFO drops are reported per port (counters, epb_dropcount); ring refusals
    // are counted by the ring that refused (its block header).
    wire [NUM_PORTS*32-1:0] unused_port_drops = port_drops;

    wire                     ord_wr_en, ord_full, ord_valid, ord_rd;
    wire [`FCAP_ORD_W-1:0]   ord_wr_data, ord_data;
    wire                     close_wr_en, close_full, close_valid, close_rd;
    wire [`FCAP_CLOSE_W-1:0] close_wr_data, close_data;
    wire                     alloc_busy, streamer_busy, dp_idle;

    fcap_ring_alloc #(
        .NUM_PORTS    (NUM_PORTS),
        .NUM_RINGS    (NUM_RINGS),
        .TABLE_ADDR_W (TABLE_ADDR_W)
    ) alloc (
        .clk (clk), .rst (rst), .cnt_clear (cnt_clear),
        .cfg_blocks (ring_blocks), .cfg_block_size (ring_block_size),
        .cfg_status_addr (ring_status_addr), .cfg_timeout (ring_timeout),
        .cfg_table_base (ring_table_base), .cons_idx (ring_cons),
        .ring_reset (ctrl_ring_reset), .dp_idle (dp_idle), .reset_pending (reset_pending),
        .flush_req (ctrl_flush), .flush_pending (flush_pending),
        .table_rd_en (table_rd_en), .table_rd_index (table_rd_index),
        .table_rd_data (table_rd_data),
        .alloc_req (f_alloc_req), .alloc_ring (f_alloc_ring), .alloc_len (f_alloc_len),
        .alloc_ts (f_alloc_ts), .alloc_grant (f_alloc_grant), .alloc_reject (f_alloc_reject),
        .alloc_addr (f_alloc_addr),
        .done_valid (f_done_valid), .done_data (f_done_data), .done_rd (f_done_rd),
        .ord_wr_en (ord_wr_en), .ord_wr_data (ord_wr_data), .ord_full (ord_full),
        .close_wr_en (close_wr_en), .close_wr_data (close_wr_data), .close_full (close_full),
        .prod_idx (ring_prod), .block_open (ring_open), .ring_full (ring_is_full),
        .busy (alloc_busy), .cnt_records (cnt_records), .cnt_blocks (cnt_blocks)
    );

    fcap_fifo #(
        .WIDTH  (`FCAP_ORD_W),
        .ADDR_W (4)
    ) ord_fifo (
        .clk (clk), .rst (rst),
        .wr_en (ord_wr_en), .wr_data (ord_wr_data), .full (ord_full),
        .rd_en (ord_rd), .rd_data (ord_data), .rd_valid (ord_valid)
    );

    fcap_fifo #(
        .WIDTH  (`FCAP_CLOSE_W),
        .ADDR_W (2)
    ) close_fifo (
        .clk (clk), .rst (rst),
        .wr_en (close_wr_en), .wr_data (close_wr_data), .full (close_full),
        .rd_en (close_rd), .rd_data (close_data), .rd_valid (close_valid)
    );

    wire                      s_dma_valid, s_dma_ready, s_dma_status;
    wire [3:0]                s_dma_ring;
    wire [63:0]               s_dma_addr;
    wire [DMA_LANES*64-1:0]   s_dma_data;
    wire [DMA_LANES*8-1:0]    s_dma_strb;

    fcap_dma_streamer #(
        .NUM_PORTS (NUM_PORTS),
        .NUM_RINGS (NUM_RINGS),
        .LANES     (DMA_LANES)
    ) streamer (
        .clk (clk), .rst (rst),
        .ord_valid (ord_valid), .ord_data (ord_data), .ord_rd (ord_rd),
        .close_valid (close_valid), .close_data (close_data), .close_rd (close_rd),
        .rf_data (rf_data), .rf_avail (rf_avail), .rf_pop (rf_pop),
        .dma_valid (s_dma_valid), .dma_addr (s_dma_addr), .dma_data (s_dma_data),
        .dma_strb (s_dma_strb), .dma_status (s_dma_status), .dma_ring (s_dma_ring),
        .dma_ready (s_dma_ready),
        .busy (streamer_busy)
    );

    // Lines gather into TLP-sized bursts (fcap_dma_burst.v says why).
    wire                      b_dma_valid, b_dma_ready, b_dma_status;
    wire [3:0]                b_dma_ring;
    wire [63:0]               b_dma_addr;
    wire [DMA_LANES*64-1:0]   b_dma_data;
    wire [DMA_LANES*8-1:0]    b_dma_strb;
    wire                      burst_busy;
    fcap_dma_burst #(
        .LANES       (DMA_LANES),
        .BURST_BYTES (DMA_BURST_BYTES),
        .SLOTS       (2 * NUM_RINGS + 2)
    ) dma_burst (
        .clk (clk), .rst (rst),
        .in_valid (s_dma_valid), .in_addr (s_dma_addr), .in_data (s_dma_data),
        .in_strb (s_dma_strb), .in_seal (s_dma_status), .in_tag ({s_dma_status, s_dma_ring}),
        .in_ready (s_dma_ready),
        .out_valid (b_dma_valid), .out_addr (b_dma_addr), .out_data (b_dma_data),
        .out_strb (b_dma_strb), .out_tag ({b_dma_status, b_dma_ring}),
        .out_ready (b_dma_ready),
        .busy (burst_busy)
    );

    // The DMA port leaves through a register slice: the bus's ready signal
    // reaches two gates, not the burst buffer. The interrupt follows the
    // status write out of the card: raised in the clock the bus accepts that
    // write, never before the host can see it.
    wire       dma_is_status;
    wire [3:0] dma_status_ring;
    fcap_skid #(
        .WIDTH (5 + DMA_LANES*8 + 64 + DMA_LANES*64)
    ) dma_slice (
        .clk (clk), .rst (rst),
        .in_valid (b_dma_valid),
        .in_data ({b_dma_status, b_dma_ring, b_dma_strb, b_dma_addr, b_dma_data}),
        .in_ready (b_dma_ready),
        .out_valid (dma_wr_valid),
        .out_data ({dma_is_status, dma_status_ring, dma_wr_strb, dma_wr_addr, dma_wr_data}),
        .out_ready (dma_wr_ready)
    );
    genvar q;
    generate
        for (q = 0; q < NUM_RINGS; q = q + 1) begin : publish
            assign published[q] = dma_wr_valid && dma_wr_ready && dma_is_status && dma_status_ring == q;
        end
    endgenerate

    // Everything ordered has reached the bus.
    assign dp_idle = !ord_valid && !close_valid && !streamer_busy && !burst_busy && b_dma_ready
                     && !dma_wr_valid;

    assign idle = (port_busy == {NUM_PORTS{1'b0}}) && (formatter_busy == {NUM_PORTS{1'b0}})
                  && (&rf_empty) && !alloc_busy
                  && dp_idle;
endmodule
`default_nettype wire
