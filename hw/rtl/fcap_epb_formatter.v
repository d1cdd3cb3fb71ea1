`default_nettype none
`include "fcap_defs.vh"
`include "fcap_desc.vh"
// fcap_epb_formatter: turns one port's frames into pcapng Enhanced Packet Blocks.
//
// For each descriptor it works out the record's length, asks the block writer
// for room (alloc), then streams the record as 64-bit little-endian words:
//
//   word 0  block type 6          | block total length
//   word 1  interface id (port)   | timestamp high
//   word 2  timestamp low         | captured length
//   word 3  original length       | data bytes 0..3
//   ...     data, shifted by 4 bytes (the EPB header is 28 bytes), zero padded
//   tail    [epb_flags] [epb_dropcount] [epb_hash] [opt_endofopt] block total length
//
// Options appear only when they carry something: epb_flags when the MAC flagged
// an error, epb_dropcount when frames of this port were lost since its previous
// record, epb_hash (algorithm 5, Toeplitz; the hash big-endian) when the host
// asked for it (CTRL.HASH_OPTION). The record goes to the ring that the
// steering table names for the frame's hash (low 7 bits). opt_endofopt is
// added exactly when needed to make the record a multiple of 8 bytes, so
// every record starts 8-byte aligned.
//
// The data path thinks in 32-bit units: `carry` holds the unit that waits for
// its partner to make a 64-bit word.
//
// The record goes into the port's record FIFO (fcap_rec_fifo) first; only
// when it is complete does the formatter ask the ring allocator for room. On a
// grant it commits the record (the DMA streamer will move it); on a reject (no
// free ring block) it discards it and counts the frame, and the count travels
// in the port's next record. Formatting before asking means the streamer only
// ever sees complete records, so the DMA path never waits on a formatter.
module fcap_epb_formatter #(
    parameter PORT_ID   = 0,
    parameter NUM_RINGS = 1
) (
    input  wire                   clk,
    input  wire                   rst,
    input  wire                   cnt_clear,
    input  wire                   hash_option,   // write epb_hash in every record
    input  wire [511:0]           steer,         // ring of hash[6:0] in bits 4h+3:4h

    input  wire                   desc_valid,
    input  wire [`FCAP_DESC_W-1:0] desc_data,
    output wire                   desc_rd,

    input  wire                   pkt_valid,
    input  wire [63:0]            pkt_data,
    output wire                   pkt_rd,

    output wire                   alloc_req,
    output wire [3:0]             alloc_ring,
    output wire [31:0]            alloc_len,
    output wire [63:0]            alloc_ts,
    input  wire                   alloc_grant,
    input  wire                   alloc_reject,

    output reg                    rec_valid,
    output reg  [63:0]            rec_data,
    output reg                    rec_last,
    input  wire                   rec_ready,
    output wire                   rec_commit,
    output wire                   rec_drop,

    output wire                   busy,
    output reg  [63:0]            cnt_drop_ring
);
    localparam [2:0] S_IDLE    = 3'd0,
                     S_HDR     = 3'd2,
                     S_DATA    = 3'd3,
                     S_TAIL    = 3'd4,
                     S_FLUSH   = 3'd5,   // last word leaving the output register
                     S_REQ     = 3'd6;

    localparam [31:0] PORT       = PORT_ID;
    localparam [31:0] OPT_FLAGS  = `FCAP_OPT_EPB_FLAGS;
    localparam [31:0] OPT_DROPS  = `FCAP_OPT_EPB_DROPCOUNT;
    localparam [31:0] OPT_HASH   = `FCAP_OPT_EPB_HASH;
    localparam [7:0]  HASH_TOEPLITZ = 8'd5;  // pcapng epb_hash algorithm number
    localparam [31:0] EPB_FLAGS_ERR = `FCAP_EPB_FLAG_CRC_ERROR | `FCAP_EPB_FLAG_INBOUND;

    reg [2:0]   state;

    // Latched descriptor
    reg [31:0]  origlen;
    reg [15:0]  caplen;
    reg [63:0]  ts;
    reg [3:0]   ring;

    // Record geometry, loaded with the descriptor
    reg [31:0]  rec_len;       // bytes
    reg [383:0] tail;          // tail units, first unit in bits 31:0
    reg [3:0]   tail_units;
    reg         last_hi_valid; // does the last data word's upper unit hold data?
    reg [63:0]  last_mask;     // zeroes the bytes past caplen in the last word

    // Streaming state
    reg [1:0]   hdr_idx;
    reg [12:0]  words_left;
    reg [31:0]  carry;
    reg [383:0] tail_sr;
    reg [3:0]   tail_left;     // units left in tail_sr
    reg [31:0]  ring_pending;  // frames this port lost at the ring since its last record

    wire advance = !rec_valid || rec_ready;

    // ---- record geometry, from the descriptor at the head of the queue ------
    // (worked out in the clock the descriptor is taken, which is also the
    // clock the previous record is granted or rejected: no clock is spent
    // between records)
    wire [15:0] d_caplen      = desc_data[`FCAP_DESC_CAPLEN];
    wire [31:0] d_drops       = desc_data[`FCAP_DESC_DROPS];
    wire [31:0] d_hash        = desc_data[`FCAP_DESC_HASH];
    wire        d_err         = desc_data[`FCAP_DESC_ERR];
    // ring drops not yet reported, counting this clock's reject
    wire [31:0] ring_sat_inc  = ring_pending == 32'hFFFF_FFFF ? ring_pending : ring_pending + 32'd1;
    wire [31:0] pending_now   = (state == S_REQ && alloc_grant) ? 32'd0
                              : (state == S_REQ && alloc_reject) ? ring_sat_inc : ring_pending;
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
    wire [2:0]  last_bytes    = d_caplen[2:0];

    reg [383:0] tail_calc;
    reg [3:0]   tail_calc_units;
    always @* begin
        tail_calc       = 384'd0;
        tail_calc_units = 4'd0;
        if (has_flags) begin
            tail_calc[63:0] = {EPB_FLAGS_ERR, 16'd4, OPT_FLAGS[15:0]};
            tail_calc_units = 4'd2;
        end
        if (has_drops) begin
            tail_calc = tail_calc | ({288'd0, 32'd0, dropcount, 16'd8, OPT_DROPS[15:0]}
                                     << {tail_calc_units, 5'd0});
            tail_calc_units = tail_calc_units + 4'd3;
        end
        if (has_hash) begin
            tail_calc = tail_calc | ({288'd0, 24'd0, d_hash[7:0],
                                      d_hash[15:8], d_hash[23:16], d_hash[31:24], HASH_TOEPLITZ,
                                      16'd5, OPT_HASH[15:0]} << {tail_calc_units, 5'd0});
            tail_calc_units = tail_calc_units + 4'd3;
        end
        if (need_eoo)
            tail_calc_units = tail_calc_units + 4'd1; // opt_endofopt is all zeroes
        tail_calc = tail_calc | ({352'd0, total_len} << {tail_calc_units, 5'd0});
        tail_calc_units = tail_calc_units + 4'd1;
    end

    // ---- handshakes ----------------------------------------------------------
    wire   rec_done  = (state == S_REQ) && (alloc_grant || alloc_reject);
    assign desc_rd   = ((state == S_IDLE) || rec_done) && desc_valid;
    assign alloc_req  = (state == S_REQ);
    assign alloc_ring = ring;
    assign alloc_len = rec_len;
    assign alloc_ts  = ts;
    assign busy      = (state != S_IDLE) || rec_valid;

    wire data_beat    = (state == S_DATA) && advance && pkt_valid;
    assign pkt_rd     = data_beat;
    assign rec_commit = (state == S_REQ) && alloc_grant;
    assign rec_drop   = (state == S_REQ) && alloc_reject;

    wire        last_data   = words_left == 13'd1;
    wire [63:0] data_masked = last_data ? (pkt_data & last_mask) : pkt_data;
    wire        carry_next_valid = !last_data || last_hi_valid;

    // The tail begins with the carried unit when it holds data. A tail has
    // at most 10 units, so shifting one more in loses nothing.
    wire [4:0] steered = {1'b0, steer[{d_hash[6:0], 2'b00} +: 4]};

    always @(posedge clk) begin
        if (rst) begin
            state        <= S_IDLE;
            rec_valid    <= 1'b0;
            rec_last     <= 1'b0;
            rec_data     <= 64'd0;
            ring_pending <= 32'd0;
            hdr_idx      <= 2'd0;
            words_left   <= 13'd0;
            carry        <= 32'd0;
            tail_sr      <= 384'd0;
            tail_left    <= 4'd0;
        end else begin
            if (rec_valid && rec_ready)
                rec_valid <= 1'b0;

            case (state)
            S_IDLE: ;   // a descriptor is taken below

            S_FLUSH: if (!rec_valid || rec_ready)
                state <= S_REQ;

            S_REQ: if (rec_done) begin
                ring_pending <= pending_now;
                state        <= S_IDLE;
            end

            S_HDR: if (advance) begin
                rec_valid <= 1'b1;
                rec_last  <= 1'b0;
                case (hdr_idx)
                2'd0:    rec_data <= {rec_len, `FCAP_PCAPNG_EPB};
                2'd1:    rec_data <= {ts[63:32], PORT};
                default: rec_data <= {16'd0, caplen, ts[31:0]};
                endcase
                hdr_idx <= hdr_idx + 2'd1;
                if (hdr_idx == 2'd2) begin
                    carry <= origlen;
                    if (words_left == 13'd0) begin
                        tail_sr   <= {tail[351:0], origlen};
                        tail_left <= tail_units + 4'd1;
                        state     <= S_TAIL;
                    end else begin
                        state <= S_DATA;
                    end
                end
            end

            S_DATA: if (data_beat) begin
                rec_valid  <= 1'b1;
                rec_last   <= 1'b0;
                rec_data   <= {data_masked[31:0], carry};
                carry      <= data_masked[63:32];
                words_left <= words_left - 13'd1;
                if (last_data) begin
                    tail_sr   <= carry_next_valid ? {tail[351:0], data_masked[63:32]} : tail;
                    tail_left <= tail_units + {3'd0, carry_next_valid};
                    state     <= S_TAIL;
                end
            end

            S_TAIL: if (advance) begin
                rec_valid <= 1'b1;
                rec_data  <= tail_sr[63:0];
                rec_last  <= tail_left == 4'd2;
                tail_sr   <= tail_sr >> 64;
                tail_left <= tail_left - 4'd2;
                if (tail_left == 4'd2)
                    state <= S_FLUSH;
            end

            default: state <= S_IDLE;
            endcase
            if (desc_rd) begin
                origlen       <= desc_data[`FCAP_DESC_ORIGLEN];
                caplen        <= d_caplen;
                ts            <= desc_data[`FCAP_DESC_TS];
                ring          <= steered < NUM_RINGS[4:0] ? steered[3:0] : 4'd0;
                rec_len       <= total_len;
                words_left    <= d_caplen[15:3] + {12'd0, d_caplen[2:0] != 3'd0};
                hdr_idx       <= 2'd0;
                tail          <= tail_calc;
                tail_units    <= tail_calc_units;
                last_hi_valid <= (last_bytes == 3'd0) || (last_bytes > 3'd4);
                last_mask     <= (last_bytes == 3'd0) ? {64{1'b1}}
                                 : ~({64{1'b1}} << {last_bytes, 3'd0});
                state         <= S_HDR;
            end
            // A new counting session forgets drops not yet reported.
            if (cnt_clear)
                ring_pending <= 32'd0;
        end
    end

    always @(posedge clk) begin
        if (rst || cnt_clear)
            cnt_drop_ring <= 64'd0;
        else if (state == S_REQ && alloc_reject)
            cnt_drop_ring <= cnt_drop_ring + 64'd1;
    end
endmodule
`default_nettype wire
