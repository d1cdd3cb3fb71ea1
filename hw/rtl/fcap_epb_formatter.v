`default_nettype none
`include "fcap_defs.vh"
`include "fcap_desc.vh"
`include "fcap_dma_defs.vh"
// fcap_epb_formatter: turns one port's frames into pcapng Enhanced Packet Blocks.
//
// A record is a stream of 32-bit units:
//
//   header (7 units)   block type 6, block total length, interface id (port),
//                      timestamp high, timestamp low, captured length, original length
//   data               the captured bytes, zero padded to a whole unit
//   tail               [epb_flags] [epb_dropcount] [epb_hash] [opt_endofopt] block total length
//
// Options appear only when they carry something: epb_flags when the MAC flagged
// an error, epb_dropcount when frames of this port were lost since its previous
// record, epb_hash (algorithm 5, Toeplitz; the hash big-endian) when the host
// asked for it (CTRL.HASH_OPTION). opt_endofopt is added exactly when needed
// to make the record a multiple of 8 bytes, so every record starts 8-byte
// aligned. The record goes to the ring that the steering table names for the
// frame's hash (low 7 bits).
//
// Two stages, so that records follow each other with no clock lost:
//
//   1. allocation: the descriptor at the head of the queue gives the record's
//      length, ring and options; the formatter asks the ring allocator for room
//      (alloc_req) in the clock after it took the descriptor, and takes the next
//      descriptor in the clock the answer comes. A refusal (no free ring block)
//      is counted here, and the count travels in the port's next record; that
//      record's options are worked out in the clock of the refusal, so the
//      count is always exact.
//   2. streaming: for a granted record, the header, the frame's words from the
//      packet FIFO (IN_W bits a clock) and the tail go as chunks of units into a
//      gearbox that writes OUT_WORDS 64-bit words a clock into the record FIFO,
//      with no gap between records: a 28-byte header shifts the data by half a
//      word, and one record's last words share a clock with the next one's
//      first. For a refused record it reads the frame's words and drops them.
//
// Deciding before formatting means the record FIFO only ever holds records
// that will be written. A record is handed to the DMA path (done_*: its ring,
// bus address and length, for the order queue) once its last chunk is in the
// gearbox, a few clocks before its last word is in the FIFO: so the DMA
// streamer, which serves all ports, never waits on a formatter for long.
module fcap_epb_formatter #(
    parameter PORT_ID   = 0,
    parameter NUM_RINGS = 1,
    parameter IN_W      = 64,    // bits per packet FIFO word (the MAC's beat): 64 or 512
    parameter OUT_WORDS = 2      // 64-bit words written to the record FIFO per clock
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire                     cnt_clear,
    input  wire                     hash_option,   // write epb_hash in every record
    input  wire [511:0]             steer,         // ring of hash[6:0] in bits 4h+3:4h

    input  wire                     desc_valid,
    input  wire [`FCAP_DESC_W-1:0]  desc_data,
    output wire                     desc_rd,

    input  wire                     pkt_valid,
    input  wire [IN_W-1:0]          pkt_data,
    output wire                     pkt_rd,

    output wire                     alloc_req,
    output wire [3:0]               alloc_ring,
    output wire [31:0]              alloc_len,
    output wire [63:0]              alloc_ts,
    input  wire                     alloc_grant,
    input  wire                     alloc_reject,
    input  wire [63:0]              alloc_addr,    // with alloc_grant: the record's bus address

    output wire                     done_valid,    // a granted record is (nearly) in the FIFO
    output wire [`FCAP_DONE_W-1:0]  done_data,     // {ring, bus address, length in words}
    input  wire                     done_rd,

    output wire [OCW-1:0]           rec_wr_n,      // words written this clock
    output wire [OUT_WORDS*64-1:0]  rec_wr_data,
    input  wire                     rec_ready,     // room for OUT_WORDS words

    output wire                     busy,
    output reg  [63:0]              cnt_drop_ring
);
    localparam IN_B    = IN_W / 8;               // bytes per packet word
    localparam IN_U    = IN_W / 32;              // units per packet word
    localparam IB_W    = $clog2(IN_B);
    localparam BEATS_W = 17 - IB_W;              // packet words of a frame, up to 65535 bytes
    localparam HDR_U   = 7;
    localparam TAIL_U  = 10;                     // flags 2, dropcount 3, hash 3, endofopt 1, length 1
    localparam CH_U    = HDR_U + IN_U + TAIL_U;  // the largest chunk
    localparam OUT_U   = 2 * OUT_WORDS;
    localparam ACC_U   = OUT_U + CH_U;           // gearbox capacity: one chunk behind a full output
    localparam AC_W    = $clog2(ACC_U + 1);
    localparam OCW     = $clog2(OUT_WORDS + 1);

    localparam [31:0] PORT       = PORT_ID;
    localparam [31:0] OPT_FLAGS  = `FCAP_OPT_EPB_FLAGS;
    localparam [31:0] OPT_DROPS  = `FCAP_OPT_EPB_DROPCOUNT;
    localparam [31:0] OPT_HASH   = `FCAP_OPT_EPB_HASH;
    localparam [7:0]  HASH_TOEPLITZ = 8'd5;  // pcapng epb_hash algorithm number
    localparam [31:0] EPB_FLAGS_ERR = `FCAP_EPB_FLAG_CRC_ERROR | `FCAP_EPB_FLAG_INBOUND;
    localparam [31:0] IN_B32     = IN_B;
    localparam [31:0] ACC_U32    = ACC_U;
    localparam [31:0] OUT_U32    = OUT_U;
    localparam [AC_W-1:0] ACC_UC = ACC_U32[AC_W-1:0];
    localparam [AC_W-1:0] OUT_UC = OUT_U32[AC_W-1:0];

    // ================= stage 1: the record's geometry, and its allocation =================
    reg [31:0] ring_pending;  // frames this port lost at the ring since its last record

    wire        verdict      = alloc_grant || alloc_reject;
    // ring drops not yet reported, counting this clock's refusal
    wire [31:0] ring_sat_inc = ring_pending == 32'hFFFF_FFFF ? ring_pending : ring_pending + 32'd1;
    wire [31:0] pending_now  = alloc_grant ? 32'd0 : (alloc_reject ? ring_sat_inc : ring_pending);

    wire [15:0] d_caplen      = desc_data[`FCAP_DESC_CAPLEN];
    wire [31:0] d_drops       = desc_data[`FCAP_DESC_DROPS];
    wire [31:0] d_hash        = desc_data[`FCAP_DESC_HASH];
    wire        d_err         = desc_data[`FCAP_DESC_ERR];
    wire [32:0] dropcount_sum = {1'b0, d_drops} + {1'b0, pending_now};
    wire [31:0] dropcount     = dropcount_sum[32] ? 32'hFFFF_FFFF : dropcount_sum[31:0];
    wire        has_flags     = d_err;
    wire        has_drops     = dropcount != 32'd0;
    wire        has_hash      = hash_option;
    wire [31:0] data_units    = ({16'd0, d_caplen} + 32'd3) >> 2;
    wire [31:0] units_no_eoo  = 32'd8 + data_units + (has_flags ? 32'd2 : 32'd0)
                                                   + (has_drops ? 32'd3 : 32'd0)
                                                   + (has_hash ? 32'd3 : 32'd0);
    wire        need_eoo      = units_no_eoo[0];
    wire [31:0] total_units   = units_no_eoo + {31'd0, need_eoo};
    wire [31:0] total_len     = total_units << 2;
    /* verilator lint_off UNUSEDSIGNAL */ // caplen < 2^16: the low bits are enough
    wire [31:0] d_beats32     = ({16'd0, d_caplen} + IN_B32 - 32'd1) >> IB_W;
    // bytes of the frame in its last packet word (1..IN_B), 0 for no data
    wire [15:0] d_cap_m1      = d_caplen - 16'd1;
    /* verilator lint_on UNUSEDSIGNAL */
    wire [IB_W:0] d_lastb     = (d_caplen == 16'd0) ? {(IB_W+1){1'b0}}
                                                    : {1'b0, d_cap_m1[IB_W-1:0]} + 1'b1;

    // The tail is worked out only in the clock a descriptor is taken (its
    // wide shifts cost the simulation every clock they are evaluated).
    reg [319:0] tail_calc;
    reg [3:0]   tail_calc_units;
    always @* begin
        tail_calc       = 320'd0;
        tail_calc_units = 4'd0;
        if (desc_rd) begin
            if (has_flags) begin
                tail_calc[63:0] = {EPB_FLAGS_ERR, 16'd4, OPT_FLAGS[15:0]};
                tail_calc_units = 4'd2;
            end
            if (has_drops) begin
                tail_calc = tail_calc | ({224'd0, 32'd0, dropcount, 16'd8, OPT_DROPS[15:0]}
                                         << {tail_calc_units, 5'd0});
                tail_calc_units = tail_calc_units + 4'd3;
            end
            if (has_hash) begin
                tail_calc = tail_calc | ({224'd0, 24'd0, d_hash[7:0],
                                          d_hash[15:8], d_hash[23:16], d_hash[31:24], HASH_TOEPLITZ,
                                          16'd5, OPT_HASH[15:0]} << {tail_calc_units, 5'd0});
                tail_calc_units = tail_calc_units + 4'd3;
            end
            if (need_eoo)
                tail_calc_units = tail_calc_units + 4'd1; // opt_endofopt is all zeroes
            tail_calc = tail_calc | ({288'd0, total_len} << {tail_calc_units, 5'd0});
            tail_calc_units = tail_calc_units + 4'd1;
        end
    end
    wire [4:0] steered = {1'b0, steer[{d_hash[6:0], 2'b00} +: 4]};

    // the record waiting for the allocator's answer
    reg                s1_valid;
    reg [31:0]         s1_len;
    reg [3:0]          s1_ring;
    reg [63:0]         s1_ts;
    reg [15:0]         s1_cap;
    reg [31:0]         s1_orig;
    reg [319:0]        s1_tail;
    reg [3:0]          s1_tail_u;
    reg [BEATS_W-1:0]  s1_beats;
    reg [IB_W:0]       s1_lastb;

    // answered records on their way to stage 2
    localparam Q_W = 1 + 4 + 64 + 32 + 64 + 16 + 32 + 320 + 4 + BEATS_W + IB_W + 1;
    wire           q_full, q_valid, q_rd;
    wire [Q_W-1:0] q_data;
    fcap_fifo #(
        .WIDTH  (Q_W),
        .ADDR_W (1)
    ) answered (
        .clk (clk), .rst (rst),
        .wr_en (s1_valid && verdict),
        .wr_data ({alloc_grant, s1_ring, alloc_addr, s1_len, s1_ts, s1_cap, s1_orig, s1_tail, s1_tail_u,
                   s1_beats, s1_lastb}),
        .full (q_full),
        .rd_en (q_rd), .rd_data (q_data), .rd_valid (q_valid)
    );

    assign alloc_req  = s1_valid && !q_full;
    assign alloc_ring = s1_ring;
    assign alloc_len  = s1_len;
    assign alloc_ts   = s1_ts;
    assign desc_rd    = desc_valid && (!s1_valid || verdict);

    always @(posedge clk) begin
        if (rst) begin
            s1_valid     <= 1'b0;
            ring_pending <= 32'd0;
        end else begin
            if (verdict)
                ring_pending <= pending_now;
            if (desc_rd) begin
                s1_valid  <= 1'b1;
                s1_len    <= total_len;
                s1_ring   <= steered < NUM_RINGS[4:0] ? steered[3:0] : 4'd0;
                s1_ts     <= desc_data[`FCAP_DESC_TS];
                s1_cap    <= d_caplen;
                s1_orig   <= desc_data[`FCAP_DESC_ORIGLEN];
                s1_tail   <= tail_calc;
                s1_tail_u <= tail_calc_units;
                s1_beats  <= d_beats32[BEATS_W-1:0];
                s1_lastb  <= d_lastb;
            end else if (verdict) begin
                s1_valid <= 1'b0;
            end
            // A new counting session forgets drops not yet reported.
            if (cnt_clear)
                ring_pending <= 32'd0;
        end
    end

    always @(posedge clk) begin
        if (rst || cnt_clear)
            cnt_drop_ring <= 64'd0;
        else if (alloc_reject)
            cnt_drop_ring <= cnt_drop_ring + 64'd1;
    end

    // ================= stage 2: header, data and tail into the gearbox ======================
    wire               h_grant;
    wire [3:0]         h_ring;
    wire [63:0]        h_addr;
    wire [31:0]        h_len;
    wire [63:0]        h_ts;
    wire [15:0]        h_cap;
    wire [31:0]        h_orig;
    wire [319:0]       h_tail;
    wire [3:0]         h_tail_u;
    wire [BEATS_W-1:0] h_beats;
    wire [IB_W:0]      h_lastb;
    assign {h_grant, h_ring, h_addr, h_len, h_ts, h_cap, h_orig, h_tail, h_tail_u, h_beats, h_lastb} = q_data;

    reg                started;     // the head record's header is in
    reg [BEATS_W-1:0]  beats_left;  // after the head record's chunks so far

    wire [BEATS_W-1:0] bl       = started ? beats_left : h_beats;
    wire               has_hdr  = !started;
    wire               has_beat = bl != {BEATS_W{1'b0}};
    wire               is_last  = bl <= {{(BEATS_W-1){1'b0}}, 1'b1};
    wire               last_beat = bl == {{(BEATS_W-1){1'b0}}, 1'b1};

    /* verilator lint_off UNUSEDSIGNAL */ // small counts in 32-bit arithmetic
    wire [31:0]        lastb32  = {{(31-IB_W){1'b0}}, h_lastb};
    wire [31:0]        beat_u   = !has_beat ? 32'd0 : (last_beat ? (lastb32 + 32'd3) >> 2 : IN_U);
    wire [31:0]        tail_off = (has_hdr ? HDR_U : 32'd0) + beat_u;
    wire [31:0]        chunk_n  = tail_off + (is_last ? {28'd0, h_tail_u} : 32'd0);
    /* verilator lint_on UNUSEDSIGNAL */
    wire [AC_W-1:0]    chunk_u  = chunk_n[AC_W-1:0];
    wire [223:0]       hdr      = {h_orig, 16'd0, h_cap, h_ts[31:0], h_ts[63:32], PORT, h_len,
                                   `FCAP_PCAPNG_EPB};

    // the gearbox: units in order from bit 0; bits past acc_n units are zero
    reg  [ACC_U*32-1:0] acc;
    reg  [AC_W-1:0]     acc_n;
    wire [AC_W-1:0]     even_n  = {acc_n[AC_W-1:1], 1'b0};
    wire [AC_W-1:0]     out_u   = !rec_ready ? {AC_W{1'b0}} : (even_n > OUT_UC ? OUT_UC : even_n);
    wire [AC_W-1:0]     rest_u  = acc_n - out_u;
    wire                fits    = {1'b0, rest_u} + {1'b0, chunk_u} <= {1'b0, ACC_UC};

    wire done_full;
    wire go_data = q_valid && h_grant && (!has_beat || pkt_valid) && fits && !(is_last && done_full);
    wire go_drop = q_valid && !h_grant && (!has_beat || pkt_valid);
    wire step    = go_data || go_drop;
    assign pkt_rd = step && has_beat;
    assign q_rd   = step && is_last;

    /* verilator lint_off UNUSEDSIGNAL */ // out_u is even: its low bit is not a word
    wire [AC_W-1:0] out_words = out_u >> 1;
    /* verilator lint_on UNUSEDSIGNAL */
    assign rec_wr_n    = out_words[OCW-1:0];
    assign rec_wr_data = acc[OUT_U*32-1:0];
    assign busy        = s1_valid || q_valid || acc_n != {AC_W{1'b0}} || done_valid;

    // records handed on to the order queue
    fcap_fifo #(
        .WIDTH  (`FCAP_DONE_W),
        .ADDR_W (1)
    ) done_q (
        .clk (clk), .rst (rst),
        .wr_en (go_data && is_last), .wr_data ({h_ring, h_addr, h_len[18:3]}), .full (done_full),
        .rd_en (done_rd), .rd_data (done_data), .rd_valid (done_valid)
    );

    // The chunk, [header] [beat] [tail] in units from bit 0, placed behind
    // the units staying in the gearbox. Built only in a clock that takes it
    // (go_data; zero otherwise): its wide shifts are most of what simulating
    // the formatter costs.
    reg  [IN_W-1:0]      beat;
    reg  [CH_U*32-1:0]   chunk;
    reg  [ACC_U*32-1:0]  chunk_at;
    integer b;
    always @* begin
        beat     = {IN_W{1'b0}};
        chunk    = {CH_U*32{1'b0}};
        chunk_at = {ACC_U*32{1'b0}};
        if (go_data) begin
            if (has_beat)
                beat = pkt_data;
            if (last_beat)   // the last word's bytes past the captured length are zero
                for (b = 0; b < IN_B; b = b + 1)
                    if (b[IB_W:0] >= h_lastb)
                        beat[b*8 +: 8] = 8'h00;
            chunk[IN_W-1:0] = beat;
            if (has_hdr)
                chunk = {chunk[CH_U*32-225:0], hdr};
            if (is_last)
                chunk = chunk | ({{(CH_U*32-320){1'b0}}, h_tail} << {tail_off[AC_W-1:0], 5'd0});
            chunk_at[CH_U*32-1:0] = chunk;
            chunk_at = chunk_at << {rest_u, 5'd0};
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            started    <= 1'b0;
            beats_left <= {BEATS_W{1'b0}};
            acc        <= {ACC_U*32{1'b0}};
            acc_n      <= {AC_W{1'b0}};
        end else begin
            if (step) begin
                started    <= !is_last;
                beats_left <= bl - {{(BEATS_W-1){1'b0}}, has_beat};
            end
            // (an idle gearbox is left alone: nothing to shift)
            if (out_u != {AC_W{1'b0}} || go_data)
                acc <= (acc >> {out_u, 5'd0}) | chunk_at;
            acc_n <= rest_u + (go_data ? chunk_u : {AC_W{1'b0}});
        end
    end
endmodule
`default_nettype wire
