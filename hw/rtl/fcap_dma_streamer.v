`default_nettype none
`include "fcap_defs.vh"
`include "fcap_dma_defs.vh"
// fcap_dma_streamer: moves records and block closes to host memory.
//
// It carries out the allocator's order entries one by one. A record entry
// names a port and a bus address: the streamer reads the record's rows from
// that port's record FIFO (up to LANES 64-bit words a clock) and writes them as
// line-aligned DMA beats of LANES words with byte strobes. Records of a block
// are contiguous, so consecutive records share beats: the partly filled line
// stays in the accumulator until the next record completes it, and a beat
// leaves only when its line is full or the stream jumps elsewhere. A close
// entry writes the padding block's head and tail, the block header (one line:
// the header is 64 bytes and lines are 64 bytes), then the status word,
// tagged so that the interrupt follows it out of the card.
//
// When no order entry has arrived for IDLE_FLUSH clocks, a partly filled
// line is written out anyway: traffic has paused, and the data must reach
// the host (and the card must be able to go idle). Under load the queue is
// rarely empty that long, so lines stay dense.
module fcap_dma_streamer #(
    parameter NUM_PORTS = 4,
    parameter LANES     = 8,      // 64-bit words per DMA beat (8: 64-byte lines)
    parameter IDLE_FLUSH = 32
) (
    input  wire                          clk,
    input  wire                          rst,

    input  wire                          ord_valid,
    input  wire [`FCAP_ORD_W-1:0]        ord_data,
    output wire                          ord_rd,
    input  wire                          close_valid,
    input  wire [`FCAP_CLOSE_W-1:0]      close_data,
    output wire                          close_rd,

    input  wire [NUM_PORTS-1:0]          rf_valid,
    input  wire [NUM_PORTS*LANES*64-1:0] rf_data,
    input  wire [NUM_PORTS*8-1:0]        rf_lanes,
    input  wire [NUM_PORTS-1:0]          rf_last,
    output wire [NUM_PORTS-1:0]          rf_rd,

    output reg                           dma_valid,
    output reg  [63:0]                   dma_addr,
    output reg  [LANES*64-1:0]           dma_data,
    output reg  [LANES*8-1:0]            dma_strb,
    output reg                           dma_status,
    output reg  [3:0]                    dma_ring,     // with dma_status: whose status word
    input  wire                          dma_ready,

    output wire                          busy
);
    localparam LINE_BYTES = LANES * 8;
    localparam OFF_W      = $clog2(LINE_BYTES);   // byte offset within a line
    localparam LANE_W     = $clog2(LANES);
    localparam SEL_W      = (NUM_PORTS > 1) ? $clog2(NUM_PORTS) : 1;

    localparam [2:0] S_IDLE  = 3'd0,
                     S_REC   = 3'd1,
                     S_FLUSH = 3'd2,
                     S_PADH  = 3'd3,
                     S_PADT  = 3'd4,
                     S_HDR   = 3'd5,
                     S_STAT  = 3'd6;

    reg  [2:0]           state;
    reg  [SEL_W-1:0]     port;
    reg  [63:0]          cur;       // bus address of the next word to write
    reg                  acc_any;   // the accumulator holds words of line(cur)
    reg  [LANES*64-1:0]  acc_data;
    reg  [LANES-1:0]     acc_mask;  // which words of the line are filled
    reg  [`FCAP_CLOSE_W-1:0] cl;    // the close being carried out

    wire advance = !dma_valid || dma_ready;
    reg  [7:0] quiet;   // clocks the order queue has been empty
    localparam [31:0] IDLE_FLUSH32 = IDLE_FLUSH;

    /* verilator lint_off UNUSEDSIGNAL */ // the offset bits are what it clears
    function [63:0] line_of(input [63:0] a);
        line_of = {a[63:OFF_W], {OFF_W{1'b0}}};
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */

    function [LANES*64-1:0] expand(input [LANES-1:0] mask);
        integer k;
        for (k = 0; k < LANES; k = k + 1)
            expand[k*64 +: 64] = {64{mask[k]}};
    endfunction

    function [LANES*8-1:0] strobes(input [LANES-1:0] mask);
        integer k;
        for (k = 0; k < LANES; k = k + 1)
            strobes[k*8 +: 8] = {8{mask[k]}};
    endfunction

    // ---- the head of the order queue ------------------------------------------------
    wire             ord_close = ord_data[`FCAP_ORD_CLOSE];
    wire [63:0]      ord_addr  = ord_data[`FCAP_ORD_ADDR];
    /* verilator lint_off UNUSEDSIGNAL */ // port numbers fit SEL_W bits; lanes are
    wire [7:0]       ord_port  = ord_data[`FCAP_ORD_PORT]; // known again from the rows
    wire [15:0]      ord_lanes = ord_data[`FCAP_ORD_LANES];
    /* verilator lint_on UNUSEDSIGNAL */
    wire             contiguous = acc_any && ord_addr == cur;
    wire             need_flush = acc_any && (ord_close || !contiguous);
    // A partial line the next entry does not continue leaves in the clock
    // that entry starts (so a jump between rings costs no clock).
    wire             can_start  = (state == S_IDLE) && ord_valid && (!need_flush || advance);
    wire             start_rec  = can_start && !ord_close;
    wire             start_cl   = can_start && ord_close && close_valid;
    assign ord_rd   = start_rec || start_cl;
    assign close_rd = start_cl;

    // ---- a row of the current record into the line accumulator ----------------------------
    wire                 row_valid = rf_valid[port];
    wire [LANES*64-1:0]  row       = rf_data[port*LANES*64 +: LANES*64];
    wire [7:0]           row_n     = rf_lanes[port*8 +: 8];
    wire                 row_last  = rf_last[port];
    wire [LANE_W-1:0]    pos       = cur[OFF_W-1:3];                 // first free word of the line
    wire [8:0]           end_pos   = {{(9-LANE_W){1'b0}}, pos} + {1'b0, row_n};
    wire                 line_done = end_pos >= LANES;               // the row reaches the line's end
    // Words past rd_lanes in a row are whatever the FIFO's RAM held: clear
    // them before they are merged into a line.
    wire [LANES-1:0]     row_words = {LANES{1'b1}} >> (LANES - row_n);
    wire [LANES*64-1:0]  row_clean = row & expand(row_words);
    wire [2*LANES*64-1:0] placed   = {{LANES*64{1'b0}}, row_clean} << {pos, 6'd0};
    wire [2*LANES-1:0]   row_mask  = {{LANES{1'b0}}, row_words} << pos;
    wire [LANES*64-1:0]  line_lo   = (acc_any ? acc_data : {LANES*64{1'b0}}) | placed[LANES*64-1:0];
    wire [LANES-1:0]     mask_lo   = (acc_any ? acc_mask : {LANES{1'b0}}) | row_mask[LANES-1:0];
    wire                 take_row  = (state == S_REC) && row_valid && advance;
    assign rf_rd = take_row ? ({{(NUM_PORTS-1){1'b0}}, 1'b1} << port) : {NUM_PORTS{1'b0}};

    // ---- the close entry's fields ------------------------------------------------------------
    wire [511:0] cl_header = cl[`FCAP_CLOSE_HEADER];
    wire [63:0]  cl_base   = cl[`FCAP_CLOSE_BASE];
    wire [31:0]  cl_used   = cl[`FCAP_CLOSE_USED];
    wire [31:0]  cl_size   = cl[`FCAP_CLOSE_SIZE];
    wire [63:0]  cl_status = cl[`FCAP_CLOSE_STATUS];
    wire [31:0]  cl_prod   = cl[`FCAP_CLOSE_PROD];
    wire [3:0]   cl_ring   = cl[`FCAP_CLOSE_RING];
    wire [31:0]  pad_len   = cl_size - cl_used;
    wire [63:0]  pad_head  = cl_base + {32'd0, cl_used};
    wire [63:0]  pad_tail  = cl_base + {32'd0, cl_size} - 64'd8;

    // One word (8 bytes, strobes strb8) at bus address a, as a beat.
    task automatic put_word(input [63:0] a, input [63:0] w, input [7:0] strb8, input status);
        begin
            dma_valid  <= 1'b1;
            dma_addr   <= line_of(a);
            dma_data   <= {{(LANES-1)*64{1'b0}}, w} << {a[OFF_W-1:3], 6'd0};
            dma_strb   <= {{(LANES-1)*8{1'b0}}, strb8} << {a[OFF_W-1:3], 3'd0};
            dma_status <= status;
        end
    endtask

    assign busy = (state != S_IDLE) || acc_any || dma_valid;

    always @(posedge clk) begin
        if (dma_valid && dma_ready)
            dma_valid <= 1'b0;
        quiet <= ord_valid ? 8'd0 : (quiet == 8'hFF ? quiet : quiet + 8'd1);
        if (rst) begin
            state     <= S_IDLE;
            dma_valid <= 1'b0;
            acc_any   <= 1'b0;
            port      <= {SEL_W{1'b0}};
        end else begin
            case (state)
            S_IDLE: if (!ord_valid) begin
                if (acc_any && {24'd0, quiet} >= IDLE_FLUSH32)
                    state <= S_FLUSH;
            end else begin
                if (need_flush && (start_rec || start_cl)) begin
                    dma_valid  <= 1'b1;
                    dma_addr   <= line_of(cur);
                    dma_data   <= acc_data;
                    dma_strb   <= strobes(acc_mask);
                    dma_status <= 1'b0;
                    acc_any    <= 1'b0;
                end
                if (start_rec) begin
                    port  <= ord_port[SEL_W-1:0];
                    cur   <= ord_addr;
                    state <= S_REC;
                end else if (start_cl) begin
                    cl    <= close_data;
                    state <= (close_data[`FCAP_CLOSE_USED] == close_data[`FCAP_CLOSE_SIZE]) ? S_HDR
                                                                                            : S_PADH;
                end
            end

            S_FLUSH: if (advance) begin
                dma_valid  <= 1'b1;
                dma_addr   <= line_of(cur);
                dma_data   <= acc_data;
                dma_strb   <= strobes(acc_mask);
                dma_status <= 1'b0;
                acc_any    <= 1'b0;
                state      <= S_IDLE;
            end

            S_REC: if (take_row) begin
                cur <= cur + {53'd0, row_n, 3'd0};
                if (line_done) begin
                    dma_valid  <= 1'b1;
                    dma_addr   <= line_of(cur);
                    dma_data   <= line_lo;
                    dma_strb   <= strobes(mask_lo);
                    dma_status <= 1'b0;
                    acc_data   <= placed[2*LANES*64-1:LANES*64];
                    acc_mask   <= row_mask[2*LANES-1:LANES];
                    acc_any    <= end_pos != LANES;
                end else begin
                    acc_data <= line_lo;
                    acc_mask <= mask_lo;
                    acc_any  <= 1'b1;
                end
                if (row_last)
                    state <= S_IDLE;
            end

            S_PADH: if (advance) begin
                put_word(pad_head, {pad_len, `FCAP_BT_PADDING}, 8'hFF, 1'b0);
                state <= S_PADT;
            end

            S_PADT: if (advance) begin
                put_word(pad_tail, {pad_len, 32'd0}, 8'hF0, 1'b0);
                state <= S_HDR;
            end

            S_HDR: if (advance) begin
                dma_valid  <= 1'b1;
                dma_addr   <= cl_base;
                dma_data   <= {{(LANES*64-512){1'b0}}, cl_header};
                dma_strb   <= {{(LANES*8-64){1'b0}}, 64'hFFFF_FFFF_FFFF_FFFF};
                dma_status <= 1'b0;
                state      <= S_STAT;
            end

            S_STAT: if (advance) begin
                put_word(cl_status, {32'd0, cl_prod}, 8'hFF, 1'b1);
                dma_ring <= cl_ring;
                state <= S_IDLE;
            end

            default: state <= S_IDLE;
            endcase
        end
    end

    // ---- checks of what this module's users promise (simulation only;
    // Yosys defines SYNTHESIS). A broken promise stops the simulation.
`ifndef SYNTHESIS
    always @(posedge clk) begin
        if (!rst && (rf_rd & ~rf_valid) != {NUM_PORTS{1'b0}}) begin
            $display("%m: read a record FIFO with nothing in it");
            $stop;
        end
        if (!rst && ord_rd && !ord_valid) begin
            $display("%m: popped an empty order queue");
            $stop;
        end
    end
`endif
endmodule
`default_nettype wire
