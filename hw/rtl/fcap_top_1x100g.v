`default_nettype none
// fcap_top_1x100g: the card in its 1 x 100G configuration (docs/DATAPATH.md).
//
// One port with a 512-bit AXI-Stream MAC interface (a 100G CMAC, 322.265625
// MHz), a 312.5 MHz core (time step 3 + 1/5 ns), eight host rings, records
// formatted eight words a clock and written to host memory in 128-byte lines,
// and on-card FIFOs sized for 100G: 64 KiB of frames and 512 descriptors per
// port, 64 KiB of records. hw/dts/fcap_1x100g.dts describes it to the host;
// keep the two in step. The reference 4 x 10G card is fcap_top with its
// default parameters.
module fcap_top_1x100g #(
    parameter [31:0] DT_BYTES    = 32'd0,
    parameter        DT_ROM_FILE = "fcap_dt.hex"
) (
    input  wire          clk,
    input  wire          rst,

    input  wire [15:0]   s_axil_awaddr,
    input  wire          s_axil_awvalid,
    output wire          s_axil_awready,
    input  wire [31:0]   s_axil_wdata,
    input  wire [3:0]    s_axil_wstrb,
    input  wire          s_axil_wvalid,
    output wire          s_axil_wready,
    output wire [1:0]    s_axil_bresp,
    output wire          s_axil_bvalid,
    input  wire          s_axil_bready,
    input  wire [15:0]   s_axil_araddr,
    input  wire          s_axil_arvalid,
    output wire          s_axil_arready,
    output wire [31:0]   s_axil_rdata,
    output wire [1:0]    s_axil_rresp,
    output wire          s_axil_rvalid,
    input  wire          s_axil_rready,

    input  wire [0:0]    mac_clk,
    input  wire [0:0]    mac_rst,
    input  wire [511:0]  s_axis_tdata,
    input  wire [63:0]   s_axis_tkeep,
    input  wire [0:0]    s_axis_tvalid,
    input  wire [0:0]    s_axis_tlast,
    input  wire [0:0]    s_axis_tuser,

    output wire          dma_wr_valid,
    output wire [63:0]   dma_wr_addr,
    output wire [1023:0] dma_wr_data,
    output wire [127:0]  dma_wr_strb,
    input  wire          dma_wr_ready,

    input  wire          pps,
    output wire [7:0]    irq,
    output wire          idle
);
    fcap_top #(
        .NUM_PORTS        (1),
        .NUM_RINGS        (8),
        .DATA_W           (512),
        .FMT_WORDS        (8),
        .DT_BYTES         (DT_BYTES),
        .DT_ROM_FILE      (DT_ROM_FILE),
        .PORT_FIFO_ADDR_W (10),     // 1024 x 64 bytes
        .DESC_FIFO_ADDR_W (9),      // a descriptor for every frame the FIFO can hold in flight
        .TS_ADDR_W        (9),
        .REC_FIFO_ADDR_W  (9),      // 512 x 128 bytes
        .DMA_LANES        (16),
        .DMA_BURST_BYTES  (256),
        .RESET_INC_NS     (8'd3),   // 312.5 MHz: 3.2 ns
        .RESET_INC_NUM    (32'd1),
        .RESET_INC_DEN    (32'd5)
    ) card (
        .clk (clk), .rst (rst),
        .s_axil_awaddr (s_axil_awaddr), .s_axil_awvalid (s_axil_awvalid), .s_axil_awready (s_axil_awready),
        .s_axil_wdata (s_axil_wdata), .s_axil_wstrb (s_axil_wstrb), .s_axil_wvalid (s_axil_wvalid),
        .s_axil_wready (s_axil_wready), .s_axil_bresp (s_axil_bresp), .s_axil_bvalid (s_axil_bvalid),
        .s_axil_bready (s_axil_bready), .s_axil_araddr (s_axil_araddr), .s_axil_arvalid (s_axil_arvalid),
        .s_axil_arready (s_axil_arready), .s_axil_rdata (s_axil_rdata), .s_axil_rresp (s_axil_rresp),
        .s_axil_rvalid (s_axil_rvalid), .s_axil_rready (s_axil_rready),
        .mac_clk (mac_clk), .mac_rst (mac_rst),
        .s_axis_tdata (s_axis_tdata), .s_axis_tkeep (s_axis_tkeep), .s_axis_tvalid (s_axis_tvalid),
        .s_axis_tlast (s_axis_tlast), .s_axis_tuser (s_axis_tuser),
        .dma_wr_valid (dma_wr_valid), .dma_wr_addr (dma_wr_addr), .dma_wr_data (dma_wr_data),
        .dma_wr_strb (dma_wr_strb), .dma_wr_ready (dma_wr_ready),
        .pps (pps), .irq (irq), .idle (idle)
    );
endmodule
`default_nettype wire
