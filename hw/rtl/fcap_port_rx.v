`default_nettype none
`include "fcap_desc.vh"
// fcap_port_rx: a port's receive logic in its MAC clock domain.
//
// The MAC's AXI-Stream cannot be back-pressured (no tready), so every frame is
// either taken whole or dropped and counted here. A frame is taken if, at its
// first beat, capture is enabled and fewer than TS_DEPTH frames are in flight
// towards the core (the core keeps one timestamp slot per frame in flight);
// it is dropped if its words or its descriptor do not fit the FIFOs.
//
// Each taken frame gets a sequence number at its first beat. The Gray-coded
// count of sequence numbers goes to the core, which timestamps each new one
// with its own clock (fcap_port_core): the timestamp is taken in the core
// domain, within one core clock of this first beat, without ever moving a
// time value across clocks.
//
// Descriptors (fcap_desc.vh) carry each frame's lengths and flags, and the
// frames dropped before it. When frames are dropped and no frame follows, a
// drops-only descriptor reports them as soon as the descriptor FIFO has room,
// so the counters never wait for traffic.
//
// Two stages. Stage 0 looks at the MAC's pins directly but only to find
// first beats: it decides admission and hands out the sequence number in the
// same clock as the first beat, which is what the timestamp measures. Stage 1
// does everything else on a registered copy of the beat, so the MAC pins feed
// flip-flops and almost no logic (good for timing, and for simulation speed).
//
// DATA_W is the MAC's width: 64 (a 10G MAC) or 512 (a 100G CMAC). Every beat
// but a frame's last must be full, and tkeep contiguous from bit 0 (what
// AXI-Stream MACs deliver). tuser on any beat flags the frame.
// snaplen is quasi-static: change it only while capture is disabled.
module fcap_port_rx #(
    parameter DATA_W       = 64,
    parameter KEEP_W       = DATA_W / 8,
    parameter MAX_SNAP     = 16384,
    parameter SEQ_W        = 16,
    parameter TS_DEPTH     = 512
) (
    input  wire                     clk,
    input  wire                     rst,

    input  wire                     enable_async,   // from the core domain
    input  wire [15:0]              snaplen,        // 0 or > MAX_SNAP: MAX_SNAP
    input  wire [SEQ_W-1:0]         done_seq_gray,  // from the core: frames finished

    input  wire [DATA_W-1:0]        s_axis_tdata,
    input  wire [KEEP_W-1:0]        s_axis_tkeep,
    input  wire                     s_axis_tvalid,
    input  wire                     s_axis_tlast,
    input  wire                     s_axis_tuser,

    output wire                     fifo_wr_en,
    output wire [DATA_W-1:0]        fifo_wr_data,
    output wire                     fifo_commit,
    output wire                     fifo_drop,
    input  wire                     fifo_full,

    output wire                     desc_wr_en,
    output wire [`FCAP_PDESC_W-1:0] desc_wr_data,
    input  wire                     desc_full,

    output reg  [SEQ_W-1:0]         seq_gray,       // to the core: frames taken
    output wire                     busy
);
    localparam [31:0] MAX_SNAP32 = MAX_SNAP;
    localparam [31:0] TS_SLOTS = TS_DEPTH;

    function [31:0] count_keep(input [KEEP_W-1:0] keep);
        integer i;
        begin
            count_keep = 32'd0;
            for (i = 0; i < KEEP_W; i = i + 1)
                count_keep = count_keep + {31'd0, keep[i]};
        end
    endfunction

    function [SEQ_W-1:0] gray2bin(input [SEQ_W-1:0] g);
        integer i;
        begin
            gray2bin[SEQ_W-1] = g[SEQ_W-1];
            for (i = SEQ_W - 2; i >= 0; i = i - 1)
                gray2bin[i] = gray2bin[i + 1] ^ g[i];
        end
    endfunction

    wire enable;
    wire [SEQ_W-1:0] done_gray_sync;
    fcap_sync_bits #(.WIDTH(1)) sync_enable (
        .clk (clk), .rst (rst), .in (enable_async), .out (enable)
    );
    fcap_sync_bits #(.WIDTH(SEQ_W)) sync_done (
        .clk (clk), .rst (rst), .in (done_seq_gray), .out (done_gray_sync)
    );
    wire [SEQ_W-1:0] done_seq = gray2bin(done_gray_sync);

    // ---- stage 0: first beats, on the MAC's pins ---------------------------------
    reg              in_frame0;    // a frame has started on the pins and not ended
    reg  [SEQ_W-1:0] seq;          // next sequence number
    wire             sof0      = s_axis_tvalid && !in_frame0;
    wire [SEQ_W-1:0] in_flight = seq - done_seq;
    wire             admit0    = enable && ({{(32-SEQ_W){1'b0}}, in_flight} < TS_SLOTS);
    wire [SEQ_W-1:0] seq_next  = seq + {{(SEQ_W-1){1'b0}}, sof0 && admit0};

    // the beat, registered, with what stage 0 decided about it
    reg              b_valid, b_last, b_user, b_sof, b_admit, b_enabled;
    reg [DATA_W-1:0] b_data;
    reg [KEEP_W-1:0] b_keep;
    reg [SEQ_W-1:0]  b_seq;

    always @(posedge clk) begin
        if (rst) begin
            in_frame0 <= 1'b0;
            seq       <= {SEQ_W{1'b0}};
            seq_gray  <= {SEQ_W{1'b0}};
            b_valid   <= 1'b0;
        end else begin
            if (s_axis_tvalid)
                in_frame0 <= !s_axis_tlast;
            seq      <= seq_next;
            seq_gray <= seq_next ^ (seq_next >> 1);
            b_valid  <= s_axis_tvalid;
        end
        b_data    <= s_axis_tdata;
        b_keep    <= s_axis_tkeep;
        b_last    <= s_axis_tlast;
        b_user    <= s_axis_tuser;
        b_sof     <= sof0;
        b_admit   <= admit0;
        b_enabled <= enable;
        b_seq     <= seq;
    end

    // ---- stage 1: the frame ------------------------------------------------------------
    reg              in_frame;     // a frame has started and not ended
    reg              ignoring;     // it started while capture was disabled
    reg              taking;       // it was admitted at its first beat
    reg              bad;          // it lost a word to a full FIFO
    reg              err;
    reg  [31:0]      bytes;        // bytes before this beat
    reg  [SEQ_W-1:0] seq1;         // sequence numbers stage 1 has seen start
    reg  [SEQ_W-1:0] frame_seq;
    reg  [511:0]     hdr;          // the frame's first 64 bytes, for the flow hash

    // frames dropped and not yet reported in a descriptor
    reg  [31:0]      drops_pending;
    reg  [31:0]      dbytes_pending;
    reg  [1:0]       busy_hold;    // stays busy a few clocks after a descriptor

    wire        sof        = b_valid && b_sof;
    wire        ign_now    = sof ? !b_enabled : ignoring;
    wire        take_now   = sof ? b_admit : taking;
    wire [31:0] bytes_pre  = sof ? 32'd0 : bytes;
    wire [31:0] bytes_post = bytes_pre + count_keep(b_keep);
    // The snap length is taken once per frame, at its first beat, so that a
    // register write during a frame cannot split the frame's words and its
    // captured length.
    wire [31:0] snap_live  = (snaplen == 16'd0 || {16'd0, snaplen} > MAX_SNAP32) ? MAX_SNAP32
                                                                              : {16'd0, snaplen};
    reg  [31:0] snap_frame;
    wire [31:0] snap       = sof ? snap_live : snap_frame;
    wire        bad_pre    = sof ? 1'b0 : bad;
    // A beat with no bytes (tkeep all zero: AXI-Stream's null beat) writes nothing.
    wire        want_write = b_valid && take_now && (bytes_pre < snap) && !bad_pre
                             && b_keep != {KEEP_W{1'b0}};
    wire        bad_post   = bad_pre || (want_write && fifo_full);
    wire        err_post   = (sof ? 1'b0 : err) || b_user;
    wire        eof        = b_valid && b_last && !ign_now;
    wire        keep_frame = eof && take_now && !bad_post && !desc_full;
    wire        lose_frame = eof && !keep_frame;
    /* verilator lint_off UNUSEDSIGNAL */ // snap <= MAX_SNAP < 2^16
    wire [31:0] caplen     = (bytes_post < snap) ? bytes_post : snap;
    /* verilator lint_on UNUSEDSIGNAL */
    wire [SEQ_W-1:0] cur_seq = sof ? b_seq : frame_seq;
    // Every sequence number before this one is finished: the current frame's
    // if one is being taken and continues, else every number stage 1 has
    // seen start (stage 0 may have handed out a newer one already).
    wire        taking_on  = b_valid ? (take_now && !b_last) : (in_frame && taking);
    wire [SEQ_W-1:0] seq1_next = seq1 + {{(SEQ_W-1){1'b0}}, sof && b_admit};
    wire [SEQ_W-1:0] seq_done_mark = taking_on ? cur_seq : seq1_next;

    // The header window: the frame's first 64 bytes, for the flow hash. Every
    // beat but a frame's last is full, so a beat inside the window starts on
    // a whole beat of it (slot hdr_slot) and is written there in place; a new
    // frame starts from zero. The hash needs the window with this beat in it
    // only in the clock its descriptor is pushed (push_frame): hdr_cur is
    // built then and is zero otherwise, so the simulation spends nothing on
    // it in the other clocks.
    // (Slot w of the window is selected by a compare with a constant: a
    // decoder and a mux per slot in hardware, where a variable part-select
    // would build a 512-bit shifter.)
    localparam [31:0] HDR_BYTES = 64;
    localparam        HDR_SLOTS = 512 / DATA_W;
    localparam        SLOT_SH   = $clog2(KEEP_W);
    wire        in_window = bytes_pre < HDR_BYTES;
    /* verilator lint_off UNUSEDSIGNAL */ // with 512-bit beats only slot 0 exists
    wire [5:0]  hdr_slot  = bytes_pre[5:0] >> SLOT_SH;
    /* verilator lint_on UNUSEDSIGNAL */
    wire [6:0]  win_len   = bytes_post < HDR_BYTES ? bytes_post[6:0] : 7'd64;
    wire        push_frame;
    reg  [511:0] hdr_cur;
    wire [31:0]  flow_hash;
    integer      w, ws;

    always @* begin
        hdr_cur = 512'd0;
        if (push_frame) begin
            if (!sof)
                hdr_cur = hdr;
            for (w = 0; w < HDR_SLOTS; w = w + 1)
                if (in_window && hdr_slot == w[5:0])
                    hdr_cur[w*DATA_W +: DATA_W] = b_data;
        end
    end

    fcap_flow_hash hasher (
        .en (push_frame), .hdr (hdr_cur), .len (win_len), .hash (flow_hash)
    );

    assign fifo_wr_en   = want_write && !fifo_full;
    assign fifo_wr_data = b_data;
    assign fifo_commit  = keep_frame;
    assign fifo_drop    = lose_frame && take_now;
    // Busy while drops wait to be reported, and until a few clocks after the
    // last descriptor, so that the core sees this port idle only once the
    // descriptor's pointer has crossed, whatever the synchronisers resolve.
    assign busy         = in_frame0 || b_valid || in_frame || busy_hold != 2'd0
                          || drops_pending != 32'd0;

    function [31:0] sat_add(input [31:0] a, input [31:0] b);
        sat_add = (a > 32'hFFFF_FFFF - b) ? 32'hFFFF_FFFF : a + b;
    endfunction

    wire [31:0] drops_with_this  = sat_add(drops_pending, 32'd1);
    wire [31:0] dbytes_with_this = sat_add(dbytes_pending, bytes_post);

    // A descriptor is written in the same cycle as the frame's commit, so the
    // full flag it was checked against is the FIFO's current state.
    assign push_frame = keep_frame;
    wire push_lost  = lose_frame && !desc_full;
    wire push_old   = !eof && drops_pending != 32'd0 && !desc_full;
    wire [31:0] rep_drops  = push_lost ? drops_with_this : drops_pending;
    wire [31:0] rep_dbytes = push_lost ? dbytes_with_this : dbytes_pending;

    assign desc_wr_en   = push_frame || push_lost || push_old;
    assign desc_wr_data = push_frame
        ? {flow_hash, cur_seq, dbytes_pending, drops_pending, bytes_post, caplen[15:0], err_post, 1'b0}
        : {32'd0, seq_done_mark, rep_dbytes, rep_drops, 32'd0, 16'd0, 1'b0, 1'b1};

    always @(posedge clk) begin
        if (rst) begin
            in_frame       <= 1'b0;
            ignoring       <= 1'b0;
            taking         <= 1'b0;
            bad            <= 1'b0;
            err            <= 1'b0;
            bytes          <= 32'd0;
            seq1           <= {SEQ_W{1'b0}};
            frame_seq      <= {SEQ_W{1'b0}};
            drops_pending  <= 32'd0;
            dbytes_pending <= 32'd0;
            busy_hold      <= 2'd0;
        end else begin
            busy_hold <= desc_wr_en ? 2'd3 : busy_hold - {1'b0, busy_hold != 2'd0};
            if (b_valid) begin
                in_frame  <= !b_last;
                snap_frame <= snap;
                if (sof)
                    hdr <= 512'd0;
                for (ws = 0; ws < HDR_SLOTS; ws = ws + 1)
                    if (in_window && hdr_slot == ws[5:0])
                        hdr[ws*DATA_W +: DATA_W] <= b_data;
                ignoring  <= ign_now;
                taking    <= take_now;
                bad       <= bad_post;
                err       <= err_post;
                bytes     <= bytes_post;
                frame_seq <= cur_seq;
            end
            seq1 <= seq1_next;

            if (desc_wr_en) begin
                drops_pending  <= 32'd0;
                dbytes_pending <= 32'd0;
            end else if (lose_frame) begin
                drops_pending  <= drops_with_this;
                dbytes_pending <= dbytes_with_this;
            end
        end
    end
endmodule
`default_nettype wire
