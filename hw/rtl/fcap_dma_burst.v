`default_nettype none
// fcap_dma_burst: a write-combining buffer that turns DMA lines into bursts
// the size of a PCIe TLP.
//
// Why: a PCIe write TLP costs about 24 bytes of header, framing and CRC
// whatever its payload, so 64-byte writes waste a quarter of the link where
// full 256-byte ones waste under a tenth. With several rings the streamer's
// lines interleave (consecutive records go to different rings' blocks), and
// lines are often written in parts (a record ends mid-line; the rest comes
// with a later record), so merely delaying lines would not make them
// contiguous. This stage gathers them by address instead.
//
// SLOTS slots each hold one aligned BURST_BYTES window: its lines and their
// byte strobes. A line merges into the slot holding its window (later bytes
// win), or takes a free slot. A slot is sealed when every byte of its window
// is written, when a free slot is needed and all are open, when no line has
// come for QUIET clocks, or before a status write. Sealed slots are sent one
// at a time, their written lines back to back, so that the PCIe core makes
// one TLP of them; then the slot is free again.
//
// Order: the ring protocol needs only that a block's status word reaches
// the host after the block's data. A status line (in_seal) therefore seals
// every open slot, waits until all sealed slots have been sent, and goes out
// alone; no line is taken meanwhile. Data windows may leave in any order
// among themselves: each byte is written once per use of a block, and the
// host reads a block only after its status word.
module fcap_dma_burst #(
    parameter LANES       = 8,     // 64-bit words per line
    parameter BURST_BYTES = 256,   // the TLP max payload; a power of two, >= a line
    parameter SLOTS       = 6,     // windows gathered at once (rings + a couple)
    parameter QUIET       = 64,    // clocks without a line that seal every slot
    parameter TAG_W       = 5      // side-band bits carried with a status line
) (
    input  wire                 clk,
    input  wire                 rst,

    input  wire                 in_valid,
    input  wire [63:0]          in_addr,     // line-aligned
    input  wire [LANES*64-1:0]  in_data,
    input  wire [LANES*8-1:0]   in_strb,
    input  wire                 in_seal,     // a status write: goes out after everything before it
    input  wire [TAG_W-1:0]     in_tag,
    output wire                 in_ready,

    output reg                  out_valid,
    output reg  [63:0]          out_addr,
    output reg  [LANES*64-1:0]  out_data,
    output reg  [LANES*8-1:0]   out_strb,
    output reg  [TAG_W-1:0]     out_tag,
    input  wire                 out_ready,

    output wire                 busy
);
    localparam LINE_BYTES = LANES * 8;
    localparam LINE_W     = $clog2(LINE_BYTES);
    localparam BURST      = BURST_BYTES / LINE_BYTES;      // lines per window
    localparam WIN_W      = $clog2(BURST_BYTES);
    localparam LIDX_W     = (BURST > 1) ? $clog2(BURST) : 1;
    localparam SLOT_W     = (SLOTS > 1) ? $clog2(SLOTS) : 1;
    localparam TAGA_W     = 64 - WIN_W;                     // window number bits
    localparam Q_W        = $clog2(QUIET + 1);
    localparam [31:0] QUIET32 = QUIET;
    localparam [Q_W-1:0] QUIET_C = QUIET32[Q_W-1:0];

    // ---- slot state -----------------------------------------------------------
    reg [SLOTS-1:0]        used;     // holds a window
    reg [SLOTS-1:0]        sealed;   // waiting to be sent (or being sent)
    reg [TAGA_W-1:0]       win [0:SLOTS-1];
    reg [LANES*64-1:0]     data [0:SLOTS*BURST-1];
    reg [LANES*8-1:0]      strb [0:SLOTS*BURST-1];

    // ---- the status line held back until everything before it has left ----
    reg                    st_pending;
    reg [63:0]             st_addr;
    reg [LANES*64-1:0]     st_data;
    reg [LANES*8-1:0]      st_strb;
    reg [TAG_W-1:0]        st_tag;

    reg [Q_W-1:0]          quiet;

    /* verilator lint_off UNUSEDSIGNAL */ // the byte offset bits of a line address
    wire [TAGA_W-1:0]  in_win  = in_addr[63:WIN_W];
    wire [LIDX_W-1:0]  in_line = (BURST > 1) ? in_addr[WIN_W-1:LINE_W] : {LIDX_W{1'b0}};
    /* verilator lint_on UNUSEDSIGNAL */

    // ---- lookup: the open slot holding this window, else the first free one ---
    reg [SLOTS-1:0]  hit_vec;
    reg              hit, free_any;
    reg [SLOT_W-1:0] hit_slot, free_slot;
    integer i;
    always @(*) begin
        hit = 1'b0;
        free_any = 1'b0;
        hit_slot = {SLOT_W{1'b0}};
        free_slot = {SLOT_W{1'b0}};
        for (i = 0; i < SLOTS; i = i + 1) begin
            hit_vec[i] = used[i] && !sealed[i] && win[i] == in_win;
            if (hit_vec[i] && !hit) begin
                hit = 1'b1;
                hit_slot = i[SLOT_W-1:0];
            end
            if (!used[i] && !free_any) begin
                free_any = 1'b1;
                free_slot = i[SLOT_W-1:0];
            end
        end
    end

    wire [SLOTS-1:0] open_slots = used & ~sealed;
    wire             data_line  = in_valid && !in_seal;
    assign in_ready  = !st_pending && (in_seal || hit || free_any);
    wire             take_data  = data_line && in_ready;
    wire             take_stat  = in_valid && in_seal && in_ready;
    wire [SLOT_W-1:0] w_slot    = hit ? hit_slot : free_slot;
    wire [SLOT_W+LIDX_W-1:0] w_idx = {w_slot, in_line};

    // The line merged with what the slot already holds of it.
    function [LANES*64-1:0] merge(input [LANES*64-1:0] old_d, input [LANES*64-1:0] new_d,
                                  input [LANES*8-1:0] new_s);
        integer b;
        for (b = 0; b < LANES * 8; b = b + 1)
            merge[b*8 +: 8] = new_s[b] ? new_d[b*8 +: 8] : old_d[b*8 +: 8];
    endfunction

    // Every byte of the window written once this line is in.
    reg full_after;
    integer l;
    always @(*) begin
        full_after = 1'b1;
        for (l = 0; l < BURST; l = l + 1) begin
            if (l[LIDX_W-1:0] == in_line)
                full_after = full_after && &(in_strb | (hit ? strb[w_idx] : {LANES*8{1'b0}}));
            else
                full_after = full_after && hit && &strb[{w_slot, l[LIDX_W-1:0]}];
        end
    end

    // Seal every open slot: a status line waits, the input has gone quiet, or
    // a new window needs a slot and every slot is open (when some are sealed,
    // the line waits for one of them to be sent instead: sealing windows
    // early would shrink the TLPs just when the link is the bottleneck).
    wire seal_all = take_stat || (!in_valid && quiet == QUIET_C && |open_slots)
                    || (data_line && !hit && !free_any && !(|sealed));

    // ---- the sender: one sealed slot at a time, its written lines in order ----
    reg                sending;      // in the middle of slot s_slot
    reg [SLOT_W-1:0]   s_slot;
    reg [LIDX_W-1:0]   s_line;       // its next line
    reg                next_any;
    reg [SLOT_W-1:0]   next_slot;
    always @(*) begin
        next_any = 1'b0;
        next_slot = {SLOT_W{1'b0}};
        for (i = 0; i < SLOTS; i = i + 1) begin
            if (sealed[i] && !next_any) begin
                next_any = 1'b1;
                next_slot = i[SLOT_W-1:0];
            end
        end
    end

    // The slot and line the sender looks at this clock: a new slot starts at
    // once, so that windows leave back to back.
    wire                     out_free = !out_valid || out_ready;
    wire                     active   = sending || next_any;
    wire [SLOT_W-1:0]        c_slot   = sending ? s_slot : next_slot;
    wire [LIDX_W-1:0]        c_line   = sending ? s_line : {LIDX_W{1'b0}};
    wire [SLOT_W+LIDX_W-1:0] c_idx    = {c_slot, c_line};
    localparam [31:0]        BURST32  = BURST;
    wire                     c_last   = c_line == BURST32[LIDX_W-1:0] - 1'b1 || BURST == 1;

    assign busy = |used || st_pending || out_valid;

    always @(posedge clk) begin
        if (take_data) begin
            data[w_idx] <= merge(hit ? data[w_idx] : {LANES*64{1'b0}}, in_data, in_strb);
            strb[w_idx] <= (hit ? strb[w_idx] : {LANES*8{1'b0}}) | in_strb;
            if (!hit) begin
                // a fresh slot: the other lines of its window hold nothing yet
                for (l = 0; l < BURST; l = l + 1)
                    if (l[LIDX_W-1:0] != in_line)
                        strb[{free_slot, l[LIDX_W-1:0]}] <= {LANES*8{1'b0}};
                win[free_slot] <= in_win;
            end
        end
        if (take_stat) begin
            st_addr <= in_addr;
            st_data <= in_data;
            st_strb <= in_strb;
            st_tag  <= in_tag;
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            used       <= {SLOTS{1'b0}};
            sealed     <= {SLOTS{1'b0}};
            st_pending <= 1'b0;
            sending    <= 1'b0;
            s_slot     <= {SLOT_W{1'b0}};
            s_line     <= {LIDX_W{1'b0}};
            out_valid  <= 1'b0;
            quiet      <= {Q_W{1'b0}};
        end else begin
            quiet <= (in_valid || !(|open_slots)) ? {Q_W{1'b0}}
                   : (quiet == QUIET_C ? quiet : quiet + 1'b1);

            if (take_data) begin
                used[w_slot] <= 1'b1;
                if (full_after)
                    sealed[w_slot] <= 1'b1;
            end
            if (seal_all)
                sealed <= sealed | open_slots;
            if (take_stat)
                st_pending <= 1'b1;

            if (out_free) begin
                out_valid <= 1'b0;
                if (active) begin
                    // lines of the window nothing wrote are skipped
                    if (|strb[c_idx]) begin
                        out_valid <= 1'b1;
                        out_addr  <= {win[c_slot], c_line, {LINE_W{1'b0}}};
                        out_data  <= data[c_idx];
                        out_strb  <= strb[c_idx];
                        out_tag   <= {TAG_W{1'b0}};
                    end
                    s_slot  <= c_slot;
                    s_line  <= c_line + 1'b1;
                    sending <= !c_last;
                    if (c_last) begin
                        used[c_slot]   <= 1'b0;
                        sealed[c_slot] <= 1'b0;
                    end
                end else if (st_pending && !(|used)) begin
                    out_valid  <= 1'b1;
                    out_addr   <= st_addr;
                    out_data   <= st_data;
                    out_strb   <= st_strb;
                    out_tag    <= st_tag;
                    st_pending <= 1'b0;
                end
            end
        end
    end

    // ---- checks of what this module's users promise (simulation only;
    // Yosys defines SYNTHESIS). A broken promise stops the simulation.
`ifndef SYNTHESIS
    always @(posedge clk) begin
        if (!rst && (sealed & ~used) != {SLOTS{1'b0}}) begin
            $display("%m: a slot sealed but not in use");
            $stop;
        end
        if (!rst && take_data && take_stat) begin
            $display("%m: a data line and a status line in one clock");
            $stop;
        end
    end
`endif
endmodule
`default_nettype wire
