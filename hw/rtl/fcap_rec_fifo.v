`default_nettype none
// fcap_rec_fifo: a port's records as a stream of 64-bit words: up to WR_W
// words in a clock, a window of LANES words out.
//
// The formatter writes records back to back with no gap (a record's first
// words may share a clock with the previous record's last ones), and only
// records the ring allocator has granted, so there is nothing to commit or
// roll back here. The DMA streamer sees the oldest LANES words (rd_data,
// word 0 the oldest), how many of them are there (rd_avail), and takes any
// number of them (rd_pop). Because neither side is tied to rows, a record
// costs its length in words, not a whole number of rows: that is what lets
// one 512-bit formatter keep a 100G port's 148.8 Mpps of records dense.
//
// Storage: one RAM per lane (LANES of them). Word i lives in lane i % LANES,
// row i / LANES, so any LANES consecutive words sit in distinct lanes and
// each lane RAM is written and read at most once a clock, each with its own
// address (simple dual-port block RAM). Reads are registered: the window
// shown in a clock is the one addressed at the previous edge, and counts
// only words written before that edge (vis), so a word is never shown
// before the RAM holds it.
module fcap_rec_fifo #(
    parameter LANES      = 8,     // window width in words; a power of two
    parameter WR_W       = 2,     // words written per clock at most (<= LANES)
    parameter ROW_ADDR_W = 9      // depth: 2^ROW_ADDR_W rows of LANES words
) (
    input  wire                  clk,
    input  wire                  rst,

    input  wire [CW_W-1:0]       wr_n,       // words written this clock (0..WR_W)
    input  wire [WR_W*64-1:0]    wr_data,    // word 0 first
    output wire                  wr_ready,   // room for WR_W more words

    output wire [LANES*64-1:0]   rd_data,    // the oldest LANES words, word 0 first
    output wire [CR_W-1:0]       rd_avail,   // how many of them are valid
    input  wire [CR_W-1:0]       rd_pop,     // words taken this clock (<= rd_avail)
    output wire                  empty
);
    localparam CW_W   = $clog2(WR_W + 1);
    localparam CR_W   = $clog2(LANES + 1);
    localparam LW     = $clog2(LANES);   // LANES >= 2
    localparam PTR_W  = ROW_ADDR_W + LW + 1;
    localparam [PTR_W-1:0] DEPTH_WORDS = {1'b1, {(ROW_ADDR_W + LW){1'b0}}};
    localparam [31:0]      WR_W32      = WR_W;
    localparam [31:0]      LANES32     = LANES;
    localparam [PTR_W-1:0] WR_W_P      = WR_W32[PTR_W-1:0];
    localparam [PTR_W-1:0] LANES_P     = LANES32[PTR_W-1:0];

    reg  [PTR_W-1:0] wr_ptr;    // words written
    reg  [PTR_W-1:0] rd_ptr;    // words taken
    reg  [PTR_W-1:0] vis;       // words written before the edge that loaded the window
    reg  [LW-1:0]    rot;       // lane of the window's word 0

    wire [PTR_W-1:0] used = wr_ptr - rd_ptr;
    assign wr_ready = used <= DEPTH_WORDS - WR_W_P;
    assign empty    = used == {PTR_W{1'b0}};

    wire [PTR_W-1:0] shown = vis - rd_ptr;
    assign rd_avail = (shown >= LANES_P) ? LANES_P[CR_W-1:0] : shown[CR_W-1:0];

    wire [PTR_W-1:0] rd_next = rd_ptr + {{(PTR_W-CR_W){1'b0}}, rd_pop};
    wire [PTR_W-1:0] wr_next = wr_ptr + {{(PTR_W-CW_W){1'b0}}, wr_n};

    /* verilator lint_off UNUSEDSIGNAL */ // the top pointer bit only tells laps apart
    wire [LW-1:0]         wr_lo  = wr_ptr[LW-1:0];
    wire [ROW_ADDR_W-1:0] wr_row = wr_ptr[LW +: ROW_ADDR_W];
    wire [LW-1:0]         rn_lo  = rd_next[LW-1:0];
    wire [ROW_ADDR_W-1:0] rn_row = rd_next[LW +: ROW_ADDR_W];
    /* verilator lint_on UNUSEDSIGNAL */

    // Word j of the input (j may exceed WR_W - 1 where no lane needs it).
    function [63:0] in_word(input [WR_W*64-1:0] d, input [LW-1:0] j);
        integer k;
        begin
            in_word = 64'd0;
            for (k = 0; k < WR_W; k = k + 1)
                if (j == k[LW-1:0])
                    in_word = d[k*64 +: 64];
        end
    endfunction

    wire [LANES*64-1:0] q_all;
    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : lane
            localparam [LW-1:0] L = l;
            reg [63:0] mem [0:(1<<ROW_ADDR_W)-1];
            reg [63:0] q;
            // the input word this lane takes, and the row it goes to
            wire [LW-1:0]         j     = L - wr_lo;
            wire                  we    = {{(32-LW){1'b0}}, j} < {{(32-CW_W){1'b0}}, wr_n};
            /* verilator lint_off CMPCONST */ // constant for lane 0 (never behind)
            wire [ROW_ADDR_W-1:0] waddr = wr_row + {{(ROW_ADDR_W-1){1'b0}}, L < wr_lo};
            wire [ROW_ADDR_W-1:0] raddr = rn_row + {{(ROW_ADDR_W-1){1'b0}}, L < rn_lo};
            /* verilator lint_on CMPCONST */
            always @(posedge clk) begin
                if (we)
                    mem[waddr] <= in_word(wr_data, j);
                q <= mem[raddr];
            end
            assign q_all[l*64 +: 64] = q;
        end
    endgenerate

    // The window, rotated so that word 0 is the oldest.
    genvar w;
    generate
        for (w = 0; w < LANES; w = w + 1) begin : window
            localparam [LW-1:0] W = w;
            wire [LW-1:0] src = rot + W;
            assign rd_data[w*64 +: 64] = q_all[src*64 +: 64];
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            wr_ptr <= {PTR_W{1'b0}};
            rd_ptr <= {PTR_W{1'b0}};
            vis    <= {PTR_W{1'b0}};
            rot    <= {LW{1'b0}};
        end else begin
            wr_ptr <= wr_next;
            rd_ptr <= rd_next;
            vis    <= wr_ptr;
            rot    <= rn_lo;
        end
    end

    // ---- checks of what this module's users promise (simulation only;
    // Yosys defines SYNTHESIS). A broken promise stops the simulation.
`ifndef SYNTHESIS
    always @(posedge clk) begin
        if (!rst && rd_pop > rd_avail) begin
            $display("%m: took %0d words, %0d were shown", rd_pop, rd_avail);
            $stop;
        end
        if (!rst && wr_n != {CW_W{1'b0}} && !wr_ready) begin
            $display("%m: written without room");
            $stop;
        end
        if (!rst && {{(32-CW_W){1'b0}}, wr_n} > WR_W32) begin
            $display("%m: %0d words written in a clock, at most %0d", wr_n, WR_W);
            $stop;
        end
    end
`endif
endmodule
`default_nettype wire
