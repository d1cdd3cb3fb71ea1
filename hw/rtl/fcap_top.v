`default_nettype none
`include "fcap_desc.vh"
// fcap_top: the capture card.
//
//   port p (own MAC clock):  MAC --AXIS--> fcap_port --(async FIFOs)--> core clock:
//   core clock:  fcap_port_core (timestamps, counters)
//                 --> fcap_epb_formatter (pcapng EPB records, one per port)
//                 --> fcap_rec_arbiter   (round robin over ports)
//                 --> fcap_block_writer  (ring blocks, DMA writes, publish) --> host
//   host --AXI4-Lite--> fcap_regs (registers, counters, DT ROM, block table)
//
// Each port has its own MAC clock and reset; everything else runs on the core
// clock. The DMA port writes 8 bytes per beat to a 64-bit bus address with
// byte strobes, in order. docs/ARCHITECTURE.md follows one frame through.
module fcap_top #(
    parameter        NUM_PORTS        = 4,
    parameter        DT_ROM_ADDR_W    = 10,
    parameter [31:0] DT_BYTES         = 32'd0,
    parameter        DT_ROM_FILE      = "fcap_dt.hex",
    parameter        PORT_FIFO_ADDR_W = 11,
    parameter        DESC_FIFO_ADDR_W = 5,
    parameter        TS_ADDR_W        = 9,
    parameter        MAX_SNAP         = 16384,
    parameter        TABLE_ADDR_W     = 9,
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
    input  wire [NUM_PORTS*64-1:0] s_axis_tdata,
    input  wire [NUM_PORTS*8-1:0]  s_axis_tkeep,
    input  wire [NUM_PORTS-1:0]    s_axis_tvalid,
    input  wire [NUM_PORTS-1:0]    s_axis_tlast,
    input  wire [NUM_PORTS-1:0]    s_axis_tuser,

    output wire                   dma_wr_valid,
    output wire [63:0]            dma_wr_addr,
    output wire [63:0]            dma_wr_data,
    output wire [7:0]             dma_wr_strb,
    input  wire                   dma_wr_ready,

    output wire                   irq,
    output wire                   idle
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
    wire [NUM_PORTS*64-1:0] cnt_frames, cnt_bytes, cnt_drop_fifo, cnt_drop_ring;
    wire [NUM_PORTS*64-1:0] cnt_errors, cnt_truncated;

    fcap_regs #(
        .NUM_PORTS     (NUM_PORTS),
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

    // ---- ports and their record formatters ---------------------------------------
    wire [NUM_PORTS-1:0]    f_alloc_req, f_alloc_grant, f_alloc_reject;
    wire [NUM_PORTS*32-1:0] f_alloc_len;
    wire [NUM_PORTS*64-1:0] f_alloc_ts;
    wire [NUM_PORTS-1:0]    f_rec_valid, f_rec_last, f_rec_ready;
    wire [NUM_PORTS*64-1:0] f_rec_data;
    wire [NUM_PORTS-1:0]    port_busy, formatter_busy;
    wire [NUM_PORTS*32-1:0] port_drops;

    genvar p;
    generate
        for (p = 0; p < NUM_PORTS; p = p + 1) begin : port
            wire                    desc_valid, desc_rd, data_valid, data_rd;
            wire [`FCAP_DESC_W-1:0] desc_data;
            wire [63:0]             data;

            /* verilator lint_off PINCONNECTEMPTY */
            fcap_port #(
                .DATA_W      (64),
                .MAX_SNAP    (MAX_SNAP),
                .FIFO_ADDR_W (PORT_FIFO_ADDR_W),
                .DESC_ADDR_W (DESC_FIFO_ADDR_W),
                .TS_ADDR_W   (TS_ADDR_W)
            ) rx (
                .mac_clk (mac_clk[p]), .mac_rst (mac_rst[p]),
                .s_axis_tdata (s_axis_tdata[p*64 +: 64]), .s_axis_tkeep (s_axis_tkeep[p*8 +: 8]),
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
                .PORT_ID (p)
            ) formatter (
                .clk (clk), .rst (rst), .cnt_clear (cnt_clear),
                .desc_valid (desc_valid), .desc_data (desc_data), .desc_rd (desc_rd),
                .pkt_valid (data_valid), .pkt_data (data), .pkt_rd (data_rd),
                .alloc_req (f_alloc_req[p]), .alloc_len (f_alloc_len[p*32 +: 32]),
                .alloc_ts (f_alloc_ts[p*64 +: 64]),
                .alloc_grant (f_alloc_grant[p]), .alloc_reject (f_alloc_reject[p]),
                .rec_valid (f_rec_valid[p]), .rec_data (f_rec_data[p*64 +: 64]),
                .rec_last (f_rec_last[p]), .rec_ready (f_rec_ready[p]),
                .busy (formatter_busy[p]), .cnt_drop_ring (cnt_drop_ring[p*64 +: 64])
            );
        end
    endgenerate

    // ---- arbiter and block writer -------------------------------------------------
    wire        alloc_req, alloc_grant, alloc_reject;
    wire [31:0] alloc_len;
    wire [63:0] alloc_ts;
    wire        rec_valid, rec_last, rec_ready;
    wire [63:0] rec_data;
    wire        writer_busy;
    wire        w_dma_valid, w_dma_ready, w_dma_status;
    wire [63:0] w_dma_addr, w_dma_data;
    wire [7:0]  w_dma_strb;
    wire        table_rd_en;
    wire [TABLE_ADDR_W-1:0] table_rd_index;
    wire [63:0] table_rd_data;

    fcap_rec_arbiter #(
        .N (NUM_PORTS)
    ) arbiter (
        .clk (clk), .rst (rst),
        .in_alloc_req (f_alloc_req), .in_alloc_len (f_alloc_len), .in_alloc_ts (f_alloc_ts),
        .in_alloc_grant (f_alloc_grant), .in_alloc_reject (f_alloc_reject),
        .in_rec_valid (f_rec_valid), .in_rec_data (f_rec_data), .in_rec_last (f_rec_last),
        .in_rec_ready (f_rec_ready),
        .alloc_req (alloc_req), .alloc_len (alloc_len), .alloc_ts (alloc_ts),
        .alloc_grant (alloc_grant), .alloc_reject (alloc_reject),
        .rec_valid (rec_valid), .rec_data (rec_data), .rec_last (rec_last), .rec_ready (rec_ready)
    );

    fcap_block_table #(
        .ADDR_W (TABLE_ADDR_W)
    ) block_table (
        .clk (clk),
        .wr_en (table_wr_en), .wr_index (table_wr_index), .wr_hi (table_wr_hi),
        .wr_data (table_wr_data),
        .rd_en (table_rd_en), .rd_index (table_rd_index), .rd_data (table_rd_data)
    );

    // Frames dropped anywhere on the card this clock: FIFO drops reported by the
    // ports, plus the record the writer just refused (at most one per clock).
    reg [31:0] drop_events;
    integer i;
    always @* begin
        drop_events = {31'd0, alloc_req && alloc_reject};
        for (i = 0; i < NUM_PORTS; i = i + 1)
            drop_events = drop_events + port_drops[i*32 +: 32];
    end

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
        .dma_valid (w_dma_valid), .dma_addr (w_dma_addr), .dma_data (w_dma_data),
        .dma_strb (w_dma_strb), .dma_status (w_dma_status), .dma_ready (w_dma_ready),
        .prod_idx (ring_prod),
        .block_open (block_open), .ring_full (ring_full), .busy (writer_busy),
        .cnt_records (cnt_records), .cnt_blocks (cnt_blocks)
    );

    // The DMA port leaves through a register slice: the bus's ready signal
    // reaches two gates, not the writer's datapath.
    // The interrupt follows the status write out of the card: raised in the
    // clock the bus accepts that write, never before the host can see it.
    wire dma_is_status;
    fcap_skid #(
        .WIDTH (1 + 8 + 64 + 64)
    ) dma_slice (
        .clk (clk), .rst (rst),
        .in_valid (w_dma_valid), .in_data ({w_dma_status, w_dma_strb, w_dma_addr, w_dma_data}),
        .in_ready (w_dma_ready),
        .out_valid (dma_wr_valid),
        .out_data ({dma_is_status, dma_wr_strb, dma_wr_addr, dma_wr_data}),
        .out_ready (dma_wr_ready)
    );
    assign published = dma_wr_valid && dma_wr_ready && dma_is_status;

    assign idle = (port_busy == {NUM_PORTS{1'b0}}) && (formatter_busy == {NUM_PORTS{1'b0}})
                  && !writer_busy && !w_dma_valid && w_dma_ready && !dma_wr_valid;
endmodule
`default_nettype wire
