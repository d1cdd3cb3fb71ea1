`default_nettype none
`include "fcap_defs.vh"
// fcap_regs: the card's AXI4-Lite register file (docs/REGISTERS.md).
//
// One transaction at a time. Ready signals are registered: the bus pins feed
// flip-flops, not decode logic. A write takes effect one clock after its
// address and data are accepted; writes with a partial byte strobe are ignored
// and answered SLVERR. A read answers three clocks after its address is
// accepted (the device tree ROM is synchronous); unmapped addresses read zero.
//
// Counters are read through snapshots: CNT_CTRL.SNAPSHOT copies every live
// counter in the same clock, so a set of counters read afterwards is
// consistent, and the two halves of a 64-bit counter always belong together.
//
// Each ring has its own block of registers (FCAP_REG_RING_BASE + 0x40 r) and
// its own interrupt line, moderated by fcap_irq_mod.
module fcap_regs #(
    parameter        NUM_PORTS     = 1,
    parameter        NUM_RINGS     = 1,
    parameter        DT_ROM_ADDR_W = 10,
    parameter [31:0] DT_BYTES      = 32'd0,
    parameter        DT_ROM_FILE   = "fcap_dt.hex",
    parameter        TABLE_ADDR_W  = 9,
    parameter [7:0]  RESET_INC_NS  = 8'd4,
    parameter [31:0] RESET_INC_NUM = 32'd0,
    parameter [31:0] RESET_INC_DEN = 32'd0
) (
    input  wire        clk,
    input  wire        rst,

    /* verilator lint_off UNUSEDSIGNAL */ // bits 1:0: registers are word-aligned
    input  wire [15:0] s_axil_awaddr,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire        s_axil_awvalid,
    output wire        s_axil_awready,
    input  wire [31:0] s_axil_wdata,
    input  wire [3:0]  s_axil_wstrb,
    input  wire        s_axil_wvalid,
    output wire        s_axil_wready,
    output reg  [1:0]  s_axil_bresp,
    output reg         s_axil_bvalid,
    input  wire        s_axil_bready,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [15:0] s_axil_araddr,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire        s_axil_arvalid,
    output wire        s_axil_arready,
    output reg  [31:0] s_axil_rdata,
    output wire [1:0]  s_axil_rresp,
    output reg         s_axil_rvalid,
    input  wire        s_axil_rready,

    // control
    output reg         ctrl_enable,
    output reg         ctrl_flush,
    output reg         ctrl_ring_reset,
    output reg         ctrl_hash_option,
    output reg  [15:0] snaplen,
    output reg         time_set,
    output reg  [63:0] time_set_ns,
    output reg         time_adj,
    output reg  [63:0] time_adj_ns,
    output reg  [7:0]  time_inc_ns,      // in effect (TIME_CTRL.APPLY_INC loads them)
    output reg  [31:0] time_inc_num,
    output reg  [31:0] time_inc_den,
    input  wire [63:0] time_now_ns,
    input  wire [63:0] pps_time,
    input  wire [31:0] pps_count,
    output wire        table_wr_en,
    output wire [TABLE_ADDR_W-1:0] table_wr_index,
    output wire        table_wr_hi,
    output wire [31:0] table_wr_data,
    output reg  [511:0] steer,            // ring of hash[6:0] = i in bits 4i+3:4i
    output reg         cnt_clear,

    // rings, packed: ring r in bits 32r+31:32r (64r+63:64r for addresses)
    output reg  [NUM_RINGS*32-1:0] ring_blocks,
    output reg  [NUM_RINGS*32-1:0] ring_block_size,
    output reg  [NUM_RINGS*64-1:0] ring_status_addr,
    output reg  [NUM_RINGS*32-1:0] ring_cons,
    output reg  [NUM_RINGS*32-1:0] ring_timeout,
    output reg  [NUM_RINGS*32-1:0] ring_table_base,
    input  wire [NUM_RINGS*32-1:0] ring_prod,
    input  wire [NUM_RINGS-1:0]    published,      // ring r's status word left the card
    output wire [NUM_RINGS-1:0]    irq,

    // status
    input  wire        st_idle,
    input  wire        st_block_open,
    input  wire        st_ring_full,
    input  wire        st_flush_pending,
    input  wire        st_reset_pending,

    // live counters; per port, packed with port p in bits 64p+63:64p
    input  wire [63:0] cnt_records,
    input  wire [63:0] cnt_blocks,
    input  wire [NUM_PORTS*64-1:0] port_rx_frames,
    input  wire [NUM_PORTS*64-1:0] port_rx_bytes,
    input  wire [NUM_PORTS*64-1:0] port_drop_fifo,
    input  wire [NUM_PORTS*64-1:0] port_drop_ring,
    input  wire [NUM_PORTS*64-1:0] port_rx_errors,
    input  wire [NUM_PORTS*64-1:0] port_truncated
);
    localparam [31:0] RINGS32 = NUM_RINGS;

    // ---- write channel ---------------------------------------------------------
    reg         aw_ready;     // offered for one clock when address and data wait
    reg         wr_pending;   // accepted, performed next clock
    reg         wr_full;      // the accepted write had all byte strobes
    reg  [31:0] waddr;
    reg  [31:0] wdata;
    wire        wr_accept = aw_ready && s_axil_awvalid && s_axil_wvalid;
    wire        wr_do     = wr_pending && wr_full;

    assign s_axil_awready = aw_ready;
    assign s_axil_wready  = aw_ready;

    always @(posedge clk) begin
        if (rst) begin
            aw_ready   <= 1'b0;
            wr_pending <= 1'b0;
        end else begin
            aw_ready   <= !aw_ready && !wr_pending && !s_axil_bvalid
                          && s_axil_awvalid && s_axil_wvalid;
            wr_pending <= wr_accept;
        end
        if (wr_accept) begin
            waddr   <= {16'd0, s_axil_awaddr[15:2], 2'b00};
            wdata   <= s_axil_wdata;
            wr_full <= s_axil_wstrb == 4'hF;
        end
    end

    // Address windows: block table, per-ring registers, steering table.
    function in_window(input [31:0] a, input [31:0] base, input [31:0] size);
        in_window = a >= base && a < base + size;
    endfunction

    /* verilator lint_off UNUSEDSIGNAL */ // offsets: only some bits matter
    wire [31:0] table_off = waddr - `FCAP_REG_RING_TABLE;
    wire [31:0] wring_off = waddr - `FCAP_REG_RING_BASE;
    wire [31:0] wsteer_off = waddr - `FCAP_REG_STEER;
    /* verilator lint_on UNUSEDSIGNAL */
    wire        in_table  = in_window(waddr, `FCAP_REG_RING_TABLE, 32'd8 << TABLE_ADDR_W);
    wire        w_ring    = in_window(waddr, `FCAP_REG_RING_BASE, `FCAP_REG_RING_STRIDE * RINGS32);
    wire [31:0] w_r       = wring_off / `FCAP_REG_RING_STRIDE;
    wire [31:0] w_reg     = wring_off % `FCAP_REG_RING_STRIDE;
    wire        w_steer   = in_window(waddr, `FCAP_REG_STEER, `FCAP_STEER_ENTRIES * 4);

    assign table_wr_en    = wr_do && in_table;
    assign table_wr_index = table_off[TABLE_ADDR_W+2:3];
    assign table_wr_hi    = table_off[2];
    assign table_wr_data  = wdata;

    reg [NUM_RINGS-1:0] irq_enable;
    reg [NUM_RINGS-1:0] irq_status;
    reg [NUM_RINGS*32-1:0] irq_count, irq_time;
    reg [31:0] scratch;
    reg [63:0] time_snap;
    reg [7:0]  inc_ns_staged;
    reg [31:0] inc_num_staged, inc_den_staged;
    reg        cnt_snapshot;

    wire [NUM_RINGS-1:0] fire;
    genvar g;
    generate
        for (g = 0; g < NUM_RINGS; g = g + 1) begin : moderation
            fcap_irq_mod mod (
                .clk (clk), .rst (rst),
                .cfg_count (irq_count[g*32 +: 32]), .cfg_time (irq_time[g*32 +: 32]),
                .published (published[g]), .fire (fire[g])
            );
        end
    endgenerate
    assign irq = irq_enable & irq_status;

    integer r;
    always @(posedge clk) begin
        ctrl_flush      <= 1'b0;
        ctrl_ring_reset <= 1'b0;
        time_set        <= 1'b0;
        time_adj        <= 1'b0;
        cnt_snapshot    <= 1'b0;
        cnt_clear       <= 1'b0;
        if (s_axil_bvalid && s_axil_bready)
            s_axil_bvalid <= 1'b0;

        if (rst) begin
            s_axil_bvalid    <= 1'b0;
            s_axil_bresp     <= 2'b00;
            ctrl_enable      <= 1'b0;
            ctrl_hash_option <= 1'b0;
            snaplen          <= 16'd0;
            time_set_ns      <= 64'd0;
            time_inc_ns      <= RESET_INC_NS;
            time_inc_num     <= RESET_INC_NUM;
            time_inc_den     <= RESET_INC_DEN;
            inc_ns_staged    <= RESET_INC_NS;
            inc_num_staged   <= RESET_INC_NUM;
            inc_den_staged   <= RESET_INC_DEN;
            time_adj_ns      <= 64'd0;
            time_snap        <= 64'd0;
            ring_blocks      <= {NUM_RINGS*32{1'b0}};
            ring_block_size  <= {NUM_RINGS*32{1'b0}};
            ring_status_addr <= {NUM_RINGS*64{1'b0}};
            ring_cons        <= {NUM_RINGS*32{1'b0}};
            ring_timeout     <= {NUM_RINGS*32{1'b0}};
            ring_table_base  <= {NUM_RINGS*32{1'b0}};
            irq_count        <= {NUM_RINGS*32{1'b0}};
            irq_time         <= {NUM_RINGS*32{1'b0}};
            irq_enable       <= {NUM_RINGS{1'b0}};
            irq_status       <= {NUM_RINGS{1'b0}};
            steer            <= 512'd0;
            scratch          <= 32'd0;
        end else begin
            irq_status <= irq_status | fire;
            if (wr_pending) begin
                s_axil_bvalid <= 1'b1;
                s_axil_bresp  <= wr_full ? 2'b00 : 2'b10;
            end
            if (wr_do && w_ring) begin
                for (r = 0; r < NUM_RINGS; r = r + 1) begin
                    if (w_r == r) begin
                        case (w_reg)
                        `FCAP_RING_BLOCKS:     ring_blocks[r*32 +: 32] <= wdata;
                        `FCAP_RING_BLOCK_SIZE: ring_block_size[r*32 +: 32] <= wdata;
                        `FCAP_RING_STATUS_LO:  ring_status_addr[r*64 +: 32] <= wdata;
                        `FCAP_RING_STATUS_HI:  ring_status_addr[r*64+32 +: 32] <= wdata;
                        `FCAP_RING_CONS:       ring_cons[r*32 +: 32] <= wdata;
                        `FCAP_RING_TIMEOUT:    ring_timeout[r*32 +: 32] <= wdata;
                        `FCAP_RING_TABLE_BASE: ring_table_base[r*32 +: 32] <= wdata;
                        `FCAP_RING_IRQ_COUNT:  irq_count[r*32 +: 32] <= wdata;
                        `FCAP_RING_IRQ_TIME:   irq_time[r*32 +: 32] <= wdata;
                        default: ;
                        endcase
                    end
                end
            end
            if (wr_do && w_steer)
                steer[{wsteer_off[8:2], 2'b00} +: 4] <= wdata[3:0];
            if (wr_do) begin
                case (waddr)
                `FCAP_REG_CTRL: begin
                    ctrl_enable      <= (wdata & `FCAP_CTRL_ENABLE) != 32'd0;
                    ctrl_flush       <= (wdata & `FCAP_CTRL_FLUSH) != 32'd0;
                    ctrl_ring_reset  <= (wdata & `FCAP_CTRL_RING_RESET) != 32'd0;
                    ctrl_hash_option <= (wdata & `FCAP_CTRL_HASH_OPTION) != 32'd0;
                    if ((wdata & `FCAP_CTRL_RING_RESET) != 32'd0)
                        ring_cons <= {NUM_RINGS*32{1'b0}};
                end
                `FCAP_REG_SCRATCH:         scratch <= wdata;
                `FCAP_REG_TIME_SET_LO:     time_set_ns[31:0] <= wdata;
                `FCAP_REG_TIME_SET_HI:     time_set_ns[63:32] <= wdata;
                `FCAP_REG_TIME_CTRL: begin
                    time_set <= (wdata & `FCAP_TIME_CTRL_SET) != 32'd0;
                    time_adj <= (wdata & `FCAP_TIME_CTRL_ADJUST) != 32'd0;
                    if ((wdata & `FCAP_TIME_CTRL_SNAPSHOT) != 32'd0)
                        time_snap <= time_now_ns;
                    if ((wdata & `FCAP_TIME_CTRL_APPLY_INC) != 32'd0) begin
                        time_inc_ns  <= inc_ns_staged;
                        time_inc_num <= inc_num_staged;
                        time_inc_den <= inc_den_staged;
                    end
                end
                `FCAP_REG_TIME_INC_NS:     inc_ns_staged <= wdata[7:0];
                `FCAP_REG_TIME_INC_NUM:    inc_num_staged <= wdata;
                `FCAP_REG_TIME_INC_DEN:    inc_den_staged <= wdata;
                `FCAP_REG_TIME_ADJ_LO:     time_adj_ns[31:0] <= wdata;
                `FCAP_REG_TIME_ADJ_HI:     time_adj_ns[63:32] <= wdata;
                `FCAP_REG_SNAPLEN:         snaplen <= wdata[15:0];
                `FCAP_REG_IRQ_ENABLE:      irq_enable <= wdata[NUM_RINGS-1:0];
                `FCAP_REG_IRQ_STATUS:      irq_status <= (irq_status & ~wdata[NUM_RINGS-1:0]) | fire;
                `FCAP_REG_CNT_CTRL: begin
                    cnt_snapshot <= (wdata & `FCAP_CNT_CTRL_SNAPSHOT) != 32'd0;
                    cnt_clear    <= (wdata & `FCAP_CNT_CTRL_CLEAR) != 32'd0;
                end
                default: ;
                endcase
            end
        end
    end

    // ---- counter snapshots -------------------------------------------------------
    reg [63:0] snap_records, snap_blocks;
    reg [NUM_PORTS*64-1:0] snap_rx_frames, snap_rx_bytes, snap_drop_fifo, snap_drop_ring;
    reg [NUM_PORTS*64-1:0] snap_rx_errors, snap_truncated;

    always @(posedge clk) begin
        if (rst) begin
            snap_records   <= 64'd0;
            snap_blocks    <= 64'd0;
            snap_rx_frames <= {NUM_PORTS*64{1'b0}};
            snap_rx_bytes  <= {NUM_PORTS*64{1'b0}};
            snap_drop_fifo <= {NUM_PORTS*64{1'b0}};
            snap_drop_ring <= {NUM_PORTS*64{1'b0}};
            snap_rx_errors <= {NUM_PORTS*64{1'b0}};
            snap_truncated <= {NUM_PORTS*64{1'b0}};
        end else if (cnt_snapshot) begin
            snap_records   <= cnt_records;
            snap_blocks    <= cnt_blocks;
            snap_rx_frames <= port_rx_frames;
            snap_rx_bytes  <= port_rx_bytes;
            snap_drop_fifo <= port_drop_fifo;
            snap_drop_ring <= port_drop_ring;
            snap_rx_errors <= port_rx_errors;
            snap_truncated <= port_truncated;
        end
    end

    // ---- read channel ------------------------------------------------------------
    reg        ar_ready;     // offered for one clock when an address waits
    reg  [1:0] rd_stage;     // 1: address latched, 2: ROM read done
    reg [31:0] raddr;
    wire       rd_accept = ar_ready && s_axil_arvalid;

    assign s_axil_arready = ar_ready;
    assign s_axil_rresp   = 2'b00;

    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] rom_off   = raddr - `FCAP_REG_DT_ROM;
    wire [31:0] port_off  = raddr - `FCAP_REG_PORT_BASE;
    wire [31:0] rring_off = raddr - `FCAP_REG_RING_BASE;
    wire [31:0] rsteer_off = raddr - `FCAP_REG_STEER;
    /* verilator lint_on UNUSEDSIGNAL */
    wire [31:0] rom_data;
    wire        raddr_rom = in_window(raddr, `FCAP_REG_DT_ROM, 32'd4 << DT_ROM_ADDR_W);

    fcap_dt_rom #(
        .ADDR_W    (DT_ROM_ADDR_W),
        .INIT_FILE (DT_ROM_FILE)
    ) dt_rom (
        .clk     (clk),
        .rd_en   (rd_stage == 2'd1 && raddr_rom),
        .rd_addr (rom_off[DT_ROM_ADDR_W+1:2]),
        .rd_data (rom_data)
    );

    function [31:0] half(input [63:0] v, input hi);
        half = hi ? v[63:32] : v[31:0];
    endfunction

    wire        port_sel = in_window(raddr, `FCAP_REG_PORT_BASE, `FCAP_REG_PORT_STRIDE * NUM_PORTS);
    wire [31:0] port_idx = port_off / `FCAP_REG_PORT_STRIDE;
    /* verilator lint_off UNUSEDSIGNAL */ // < 64 * NUM_PORTS
    wire [31:0] port_bit = port_sel ? port_idx * 64 : 32'd0;
    /* verilator lint_on UNUSEDSIGNAL */

    reg [31:0] port_word;
    always @* begin
        case ({26'd0, port_off[5:3], 3'b000})
        `FCAP_PORT_RX_FRAMES: port_word = half(snap_rx_frames[port_bit +: 64], port_off[2]);
        `FCAP_PORT_RX_BYTES:  port_word = half(snap_rx_bytes[port_bit +: 64], port_off[2]);
        `FCAP_PORT_DROP_FIFO: port_word = half(snap_drop_fifo[port_bit +: 64], port_off[2]);
        `FCAP_PORT_DROP_RING: port_word = half(snap_drop_ring[port_bit +: 64], port_off[2]);
        `FCAP_PORT_RX_ERRORS: port_word = half(snap_rx_errors[port_bit +: 64], port_off[2]);
        `FCAP_PORT_TRUNCATED: port_word = half(snap_truncated[port_bit +: 64], port_off[2]);
        default:              port_word = 32'd0;
        endcase
    end

    wire        ring_sel = in_window(raddr, `FCAP_REG_RING_BASE, `FCAP_REG_RING_STRIDE * RINGS32);
    wire [31:0] r_r      = ring_sel ? rring_off / `FCAP_REG_RING_STRIDE : 32'd0;
    wire [31:0] r_reg    = rring_off % `FCAP_REG_RING_STRIDE;
    reg  [31:0] ring_word;
    integer q;
    always @* begin
        ring_word = 32'd0;
        for (q = 0; q < NUM_RINGS; q = q + 1) begin
            if (r_r == q) begin
                case (r_reg)
                `FCAP_RING_BLOCKS:     ring_word = ring_blocks[q*32 +: 32];
                `FCAP_RING_BLOCK_SIZE: ring_word = ring_block_size[q*32 +: 32];
                `FCAP_RING_STATUS_LO:  ring_word = ring_status_addr[q*64 +: 32];
                `FCAP_RING_STATUS_HI:  ring_word = ring_status_addr[q*64+32 +: 32];
                `FCAP_RING_PROD:       ring_word = ring_prod[q*32 +: 32];
                `FCAP_RING_CONS:       ring_word = ring_cons[q*32 +: 32];
                `FCAP_RING_TIMEOUT:    ring_word = ring_timeout[q*32 +: 32];
                `FCAP_RING_TABLE_BASE: ring_word = ring_table_base[q*32 +: 32];
                `FCAP_RING_IRQ_COUNT:  ring_word = irq_count[q*32 +: 32];
                `FCAP_RING_IRQ_TIME:   ring_word = irq_time[q*32 +: 32];
                default:               ring_word = 32'd0;
                endcase
            end
        end
    end

    wire        steer_sel  = in_window(raddr, `FCAP_REG_STEER, `FCAP_STEER_ENTRIES * 4);
    wire [31:0] steer_word = {28'd0, steer[{rsteer_off[8:2], 2'b00} +: 4]};

    wire [31:0] status_word = (ctrl_enable      ? `FCAP_STATUS_ENABLED       : 32'd0)
                            | (st_idle          ? `FCAP_STATUS_IDLE          : 32'd0)
                            | (st_block_open    ? `FCAP_STATUS_BLOCK_OPEN    : 32'd0)
                            | (st_ring_full     ? `FCAP_STATUS_RING_FULL     : 32'd0)
                            | (st_flush_pending ? `FCAP_STATUS_FLUSH_PENDING : 32'd0)
                            | (st_reset_pending ? `FCAP_STATUS_RESET_PENDING : 32'd0);

    wire [31:0] ctrl_word = (ctrl_enable      ? `FCAP_CTRL_ENABLE      : 32'd0)
                          | (ctrl_hash_option ? `FCAP_CTRL_HASH_OPTION : 32'd0);

    reg [31:0] reg_word;
    always @* begin
        case (raddr)
        `FCAP_REG_ID:              reg_word = `FCAP_ID_MAGIC;
        `FCAP_REG_VERSION:         reg_word = `FCAP_VERSION;
        `FCAP_REG_DT_BASE:         reg_word = `FCAP_REG_DT_ROM;
        `FCAP_REG_DT_SIZE:         reg_word = DT_BYTES;
        `FCAP_REG_CTRL:            reg_word = ctrl_word;
        `FCAP_REG_STATUS:          reg_word = status_word;
        `FCAP_REG_SCRATCH:         reg_word = scratch;
        `FCAP_REG_TIME_LO:         reg_word = time_snap[31:0];
        `FCAP_REG_TIME_HI:         reg_word = time_snap[63:32];
        `FCAP_REG_TIME_SET_LO:     reg_word = time_set_ns[31:0];
        `FCAP_REG_TIME_SET_HI:     reg_word = time_set_ns[63:32];
        `FCAP_REG_TIME_INC_NS:     reg_word = {24'd0, inc_ns_staged};
        `FCAP_REG_TIME_INC_NUM:    reg_word = inc_num_staged;
        `FCAP_REG_TIME_INC_DEN:    reg_word = inc_den_staged;
        `FCAP_REG_TIME_ADJ_LO:     reg_word = time_adj_ns[31:0];
        `FCAP_REG_TIME_ADJ_HI:     reg_word = time_adj_ns[63:32];
        `FCAP_REG_PPS_TIME_LO:     reg_word = pps_time[31:0];
        `FCAP_REG_PPS_TIME_HI:     reg_word = pps_time[63:32];
        `FCAP_REG_PPS_COUNT:       reg_word = pps_count;
        `FCAP_REG_RINGS:           reg_word = RINGS32;
        `FCAP_REG_SNAPLEN:         reg_word = {16'd0, snaplen};
        `FCAP_REG_IRQ_ENABLE:      reg_word = {{(32-NUM_RINGS){1'b0}}, irq_enable};
        `FCAP_REG_IRQ_STATUS:      reg_word = {{(32-NUM_RINGS){1'b0}}, irq_status};
        `FCAP_REG_CNT_RECORDS:     reg_word = snap_records[31:0];
        `FCAP_REG_CNT_RECORDS + 4: reg_word = snap_records[63:32];
        `FCAP_REG_CNT_BLOCKS:      reg_word = snap_blocks[31:0];
        `FCAP_REG_CNT_BLOCKS + 4:  reg_word = snap_blocks[63:32];
        default:                   reg_word = port_sel ? port_word
                                            : ring_sel ? ring_word
                                            : steer_sel ? steer_word : 32'd0;
        endcase
    end

    always @(posedge clk) begin
        if (s_axil_rvalid && s_axil_rready)
            s_axil_rvalid <= 1'b0;
        if (rst) begin
            ar_ready      <= 1'b0;
            rd_stage      <= 2'd0;
            s_axil_rvalid <= 1'b0;
            s_axil_rdata  <= 32'd0;
            raddr         <= 32'd0;
        end else begin
            ar_ready <= !ar_ready && rd_stage == 2'd0 && !s_axil_rvalid && s_axil_arvalid;
            if (rd_accept) begin
                rd_stage <= 2'd1;
                raddr    <= {16'd0, s_axil_araddr[15:2], 2'b00};
            end else if (rd_stage == 2'd1) begin
                rd_stage <= 2'd2;
            end else if (rd_stage == 2'd2) begin
                rd_stage      <= 2'd0;
                s_axil_rvalid <= 1'b1;
                s_axil_rdata  <= raddr_rom ? rom_data : reg_word;
            end
        end
    end
endmodule
`default_nettype wire
