`default_nettype none
`include "fcap_defs.vh"
`include "fcap_dma_defs.vh"
// fcap_dma_streamer: moves records and block closes to host memory.
//
// It carries out the order entries one by one. A record entry names a port,
// a ring, a bus address and a length: the streamer takes the record's words
// from that port's record FIFO, up to LANES a clock, and writes them as
// line-aligned DMA beats of LANES words with byte strobes.
//
// Each ring has its own line accumulator. The records of a ring's block are
// contiguous, so a record that ends inside a line leaves that partial line in
// its ring's accumulator, where the ring's next record completes it; a record
// for another ring meanwhile goes to that ring's accumulator. So, with flows
// steered over several rings, records still leave as whole lines (about
// length / line beats per record, not one partial line per record end), and
// a record follows the previous one in the next clock, or, when the previous
// one's last words were taken, in the same clock. A line leaves when it is
// full; a partial one when its ring's block closes, when the ring's next
// record does not continue it (records of one ring from several ports may be
// ordered out of address order), or when no order entry has come for
// IDLE_FLUSH clocks (traffic has paused, and the data must reach the host,
// and the card must be able to go idle).
//
// A close entry first writes out its ring's partial line, then the padding
// block's head and tail, the block header (one 64-byte write), then the
// status word, tagged so that the interrupt follows it out of the card.
module fcap_dma_streamer #(
    parameter NUM_PORTS  = 4,
    parameter NUM_RINGS  = 4,
    parameter LANES      = 8,      // 64-bit words per DMA beat (8: 64-byte lines)
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

    input  wire [NUM_PORTS*LANES*64-1:0] rf_data,    // each port's oldest LANES record words
    input  wire [NUM_PORTS*CNT_W-1:0]    rf_avail,   // how many of them are there
    output wire [NUM_PORTS*CNT_W-1:0]    rf_pop,     // words taken

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
    localparam LINE_BITS  = LANES * 64;
    localparam OFF_W      = $clog2(LINE_BYTES);   // byte offset within a line
    localparam LANE_W     = $clog2(LANES);
    localparam CNT_W      = $clog2(LANES + 1);
    localparam LA_W       = 64 - OFF_W;           // line number bits
    localparam SEL_W      = (NUM_PORTS > 1) ? $clog2(NUM_PORTS) : 1;
    localparam RING_W     = (NUM_RINGS > 1) ? $clog2(NUM_RINGS) : 1;
    localparam [31:0]      LANES32 = LANES;
    localparam [CNT_W-1:0] LANES_C = LANES32[CNT_W-1:0];

    localparam [2:0] S_IDLE  = 3'd0,
                     S_REC   = 3'd1,
                     S_PADH  = 3'd3,
                     S_PADT  = 3'd4,
                     S_HDR   = 3'd5,
                     S_STAT  = 3'd6;

    reg  [2:0]               state;
    reg  [SEL_W-1:0]         port;
    reg  [RING_W-1:0]        ring;
    reg  [63:0]              cur;       // bus address of the record's next word
    reg  [15:0]              rem;       // its words still to take
    reg  [`FCAP_CLOSE_W-1:0] cl;        // the close being carried out

    // per ring: the partial line waiting for the ring's next words
    reg  [NUM_RINGS-1:0]           acc_any;
    reg  [NUM_RINGS*LA_W-1:0]      acc_line;
    reg  [NUM_RINGS*LINE_BITS-1:0] acc_data;
    reg  [NUM_RINGS*LANES-1:0]     acc_mask;  // which words of the line are filled

    wire advance = !dma_valid || dma_ready;
    reg  [7:0] quiet;   // clocks the order queue has been empty
    localparam [31:0] IDLE_FLUSH32 = IDLE_FLUSH;

    /* verilator lint_off UNUSEDSIGNAL */ // the offset bits are what it drops
    function [LA_W-1:0] line_of(input [63:0] a);
        line_of = a[63:OFF_W];
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */

    function [LINE_BITS-1:0] expand(input [LANES-1:0] mask);
        integer k;
        for (k = 0; k < LANES; k = k + 1)
            expand[k*64 +: 64] = {64{mask[k]}};
    endfunction

    function [LANES*8-1:0] strobes(input [LANES-1:0] mask);
        integer k;
        for (k = 0; k < LANES; k = k + 1)
            strobes[k*8 +: 8] = {8{mask[k]}};
    endfunction

    function [LANES-1:0] first_n(input [CNT_W-1:0] cnt);
        integer k;
        for (k = 0; k < LANES; k = k + 1)
            first_n[k] = k[CNT_W-1:0] < cnt;
    endfunction

    function [RING_W-1:0] ring_index(input [3:0] r4);
        ring_index = ({28'd0, r4} < NUM_RINGS) ? r4[RING_W-1:0] : {RING_W{1'b0}};
    endfunction

    // ---- the head of the order queue ------------------------------------------------
    wire              o_close = ord_data[`FCAP_ORD_CLOSE];
    wire [63:0]       o_addr  = ord_data[`FCAP_ORD_ADDR];
    wire [RING_W-1:0] o_ring  = ring_index(ord_data[`FCAP_ORD_RING]);
    wire [RING_W-1:0] c_ring  = ring_index(close_data[`FCAP_CLOSE_RING]);
    /* verilator lint_off UNUSEDSIGNAL */ // port numbers fit SEL_W bits
    wire [7:0]        o_port  = ord_data[`FCAP_ORD_PORT];
    /* verilator lint_on UNUSEDSIGNAL */
    wire [15:0]       o_words = ord_data[`FCAP_ORD_LANES];
    wire              o_rec   = ord_valid && !o_close;
    // The head record's ring holds a partial line that the record does not
    // continue: that line leaves first.
    wire              o_stale = acc_any[o_ring] && acc_line[o_ring*LA_W +: LA_W] != line_of(o_addr);

    // ---- the current record's words into its ring's accumulator ---------------------------
    wire [CNT_W-1:0]     avail     = rf_avail[port*CNT_W +: CNT_W];
    wire [LINE_BITS-1:0] row       = rf_data[port*LINE_BITS +: LINE_BITS];
    wire [CNT_W-1:0]     n         = (rem < {{(16-CNT_W){1'b0}}, LANES_C}) ? rem[CNT_W-1:0] : LANES_C;
    // whole LANES (or the rest) at once: a record costs length / LANES clocks
    wire                 take      = (state == S_REC) && advance && avail >= n;
    wire                 last_take = take && rem == {{(16-CNT_W){1'b0}}, n};
    wire [LANE_W-1:0]    pos       = cur[OFF_W-1:3];                 // first free word of the line
    wire [CNT_W:0]       end_pos   = {1'b0, {{(CNT_W-LANE_W){1'b0}}, pos}} + {1'b0, n};
    wire                 line_done = end_pos >= {1'b0, LANES_C};     // the words reach the line's end
    wire [LANES-1:0]     words     = first_n(n);
    wire [2*LINE_BITS-1:0] placed  = {{LINE_BITS{1'b0}}, row & expand(words)} << {pos, 6'd0};
    wire [2*LANES-1:0]   row_mask  = {{LANES{1'b0}}, words} << pos;
    wire                 r_any     = acc_any[ring];
    wire [LINE_BITS-1:0] line_lo   = (r_any ? acc_data[ring*LINE_BITS +: LINE_BITS] : {LINE_BITS{1'b0}})
                                     | placed[LINE_BITS-1:0];
    wire [LANES-1:0]     mask_lo   = (r_any ? acc_mask[ring*LANES +: LANES] : {LANES{1'b0}})
                                     | row_mask[LANES-1:0];
    wire [63:0]          cur_next  = cur + {{(61-CNT_W){1'b0}}, n, 3'b000};

    // The next record starts in the clock this one's last words are taken
    // when nothing has to be flushed for it.
    wire nx_ok = (o_ring == ring) ? (o_addr == cur_next) : !o_stale;
    wire chain = last_take && o_rec && nx_ok;

    // ---- starting entries from idle --------------------------------------------------------
    wire idle      = state == S_IDLE;
    wire start_rec = idle && o_rec && (!o_stale || advance);
    wire c_any     = acc_any[c_ring];
    wire start_cl  = idle && ord_valid && o_close && close_valid && (!c_any || advance);
    // a pause in the traffic: partial lines leave, one ring a clock
    reg              q_any;
    reg [RING_W-1:0] q_ring;
    integer r;
    always @* begin
        q_any  = 1'b0;
        q_ring = {RING_W{1'b0}};
        for (r = NUM_RINGS - 1; r >= 0; r = r - 1) begin
            if (acc_any[r]) begin
                q_any  = 1'b1;
                q_ring = r[RING_W-1:0];
            end
        end
    end
    wire quiet_flush = idle && !ord_valid && q_any && {24'd0, quiet} >= IDLE_FLUSH32 && advance;

    // a partial line leaving on its own (before a record or a close, or in a pause)
    wire              flush      = (start_rec && o_stale) || (start_cl && c_any) || quiet_flush;
    wire [RING_W-1:0] flush_ring = start_rec ? o_ring : (start_cl ? c_ring : q_ring);

    assign ord_rd   = start_rec || start_cl || chain;
    assign close_rd = start_cl;
    assign rf_pop   = take ? ({{(NUM_PORTS*CNT_W-CNT_W){1'b0}}, n} << (port * CNT_W))
                           : {NUM_PORTS*CNT_W{1'b0}};

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
            dma_addr   <= {line_of(a), {OFF_W{1'b0}}};
            dma_data   <= {{(LANES-1)*64{1'b0}}, w} << {a[OFF_W-1:3], 6'd0};
            dma_strb   <= {{(LANES-1)*8{1'b0}}, strb8} << {a[OFF_W-1:3], 3'd0};
            dma_status <= status;
        end
    endtask

    assign busy = !idle || (acc_any != {NUM_RINGS{1'b0}}) || dma_valid;

    // ---- the accumulators: at most one changes a clock ------------------------------------------
    wire                 keep_part = line_done ? (end_pos != {1'b0, LANES_C}) : 1'b1;
    wire [LA_W-1:0]      keep_line = line_done ? line_of(cur) + 1'b1 : line_of(cur);
    wire [LINE_BITS-1:0] keep_data = line_done ? placed[2*LINE_BITS-1:LINE_BITS] : line_lo;
    wire [LANES-1:0]     keep_mask = line_done ? row_mask[2*LANES-1:LANES] : mask_lo;

    genvar g;
    generate
        for (g = 0; g < NUM_RINGS; g = g + 1) begin : acc
            always @(posedge clk) begin
                if (rst) begin
                    acc_any[g] <= 1'b0;
                end else if (take && ring == g) begin
                    acc_any[g]                          <= keep_part;
                    acc_line[g*LA_W +: LA_W]            <= keep_line;
                    acc_data[g*LINE_BITS +: LINE_BITS] <= keep_data;
                    acc_mask[g*LANES +: LANES]          <= keep_mask;
                end else if (flush && flush_ring == g) begin
                    acc_any[g] <= 1'b0;
                end
            end
        end
    endgenerate

    always @(posedge clk) begin
        if (dma_valid && dma_ready)
            dma_valid <= 1'b0;
        quiet <= ord_valid ? 8'd0 : (quiet == 8'hFF ? quiet : quiet + 8'd1);
        if (rst) begin
            state     <= S_IDLE;
            dma_valid <= 1'b0;
            port      <= {SEL_W{1'b0}};
            ring      <= {RING_W{1'b0}};
        end else begin
            if (flush) begin
                dma_valid  <= 1'b1;
                dma_addr   <= {acc_line[flush_ring*LA_W +: LA_W], {OFF_W{1'b0}}};
                dma_data   <= acc_data[flush_ring*LINE_BITS +: LINE_BITS];
                dma_strb   <= strobes(acc_mask[flush_ring*LANES +: LANES]);
                dma_status <= 1'b0;
            end
            case (state)
            S_REC: if (take) begin
                cur <= cur_next;
                rem <= rem - {{(16-CNT_W){1'b0}}, n};
                if (line_done) begin
                    dma_valid  <= 1'b1;
                    dma_addr   <= {line_of(cur), {OFF_W{1'b0}}};
                    dma_data   <= line_lo;
                    dma_strb   <= strobes(mask_lo);
                    dma_status <= 1'b0;
                end
                if (last_take && !chain)
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
                dma_data   <= {{(LINE_BITS-512){1'b0}}, cl_header};
                dma_strb   <= {{(LANES*8-64){1'b0}}, 64'hFFFF_FFFF_FFFF_FFFF};
                dma_status <= 1'b0;
                state      <= S_STAT;
            end

            S_STAT: if (advance) begin
                put_word(cl_status, {32'd0, cl_prod}, 8'hFF, 1'b1);
                dma_ring <= cl_ring;
                state <= S_IDLE;
            end

            default: ;
            endcase
            // A new entry (after the case: a record chained to the previous
            // one takes over its position and length).
            if (start_rec || chain) begin
                port  <= o_port[SEL_W-1:0];
                ring  <= o_ring;
                cur   <= o_addr;
                rem   <= o_words;
                state <= S_REC;
            end else if (start_cl) begin
                cl    <= close_data;
                state <= (close_data[`FCAP_CLOSE_USED] == close_data[`FCAP_CLOSE_SIZE]) ? S_HDR
                                                                                        : S_PADH;
            end
        end
    end

    // ---- checks of what this module's users promise (simulation only;
    // Yosys defines SYNTHESIS). A broken promise stops the simulation.
`ifndef SYNTHESIS
    // (fcap_rec_fifo checks that no more words are taken than it shows.)
    always @(posedge clk) begin
        if (!rst && close_rd && !close_valid) begin
            $display("%m: popped an empty close queue");
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
