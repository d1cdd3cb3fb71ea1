`default_nettype none
`include "fcap_desc.vh"
// fcap_port_core: a port's receive logic in the core clock domain.
//
// Timestamps. fcap_port_rx counts the frames it takes (a Gray-coded sequence
// number). This module synchronises the count (two flops) and, for each new
// number, stores the core time of the clock edge at which the first
// synchroniser flop caught it: now_ns delayed by the synchroniser's two
// stages. That edge is the first core edge after the frame's first beat, so
// the timestamp is at most one core clock late. Sequence numbers are stored
// in two banks (even, odd) so that two frames starting within one core clock
// are both stamped.
//
// Descriptors from the MAC domain: drops-only ones update the counters and
// the count of frames this port lost; frame ones wait until their timestamp
// is stored, then go through a two-stage pipeline (timestamp RAM read, output)
// to the record formatter, carrying the frames lost just before them.
// Every descriptor returns its finished sequence numbers to the MAC domain
// (done_seq_gray), which is how the MAC side knows a timestamp slot is free.
module fcap_port_core #(
    parameter SEQ_W     = 16,
    parameter TS_ADDR_W = 9
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire                     cnt_clear,
    input  wire [63:0]              now_ns,

    input  wire [SEQ_W-1:0]         seq_gray_async,
    output reg  [SEQ_W-1:0]         done_seq_gray,

    input  wire                     pdesc_valid,
    input  wire [`FCAP_PDESC_W-1:0] pdesc_data,
    output wire                     pdesc_rd,

    output reg                      desc_valid,
    output wire [`FCAP_DESC_W-1:0]  desc_data,
    input  wire                     desc_rd,

    output wire [31:0]              drop_events,  // frames reported dropped this clock
    output wire                     busy,
    output reg                      ts_overrun,   // sticky: more than two frames in one clock
    output reg  [63:0]              cnt_frames,
    output reg  [63:0]              cnt_bytes,
    output reg  [63:0]              cnt_drop_fifo,
    output reg  [63:0]              cnt_errors,
    output reg  [63:0]              cnt_truncated
);
    localparam BANK_W = TS_ADDR_W - 1;

    function [SEQ_W-1:0] gray2bin(input [SEQ_W-1:0] g);
        integer i;
        begin
            gray2bin[SEQ_W-1] = g[SEQ_W-1];
            for (i = SEQ_W - 2; i >= 0; i = i - 1)
                gray2bin[i] = gray2bin[i + 1] ^ g[i];
        end
    endfunction

    // ---- stamping -----------------------------------------------------------------
    wire [SEQ_W-1:0] seq_gray_sync;
    fcap_sync_bits #(.WIDTH(SEQ_W)) sync_seq (
        .clk (clk), .rst (rst), .in (seq_gray_async), .out (seq_gray_sync)
    );
    wire [SEQ_W-1:0] seq_now = gray2bin(seq_gray_sync);
    reg  [SEQ_W-1:0] stamped;        // sequence numbers below this are stamped
    reg  [63:0]      now_d1, now_d2; // now_ns one and two clocks ago
    wire [SEQ_W-1:0] new_count = seq_now - stamped;
    wire             stamp_one = new_count != {SEQ_W{1'b0}};
    wire             stamp_two = new_count > {{(SEQ_W-1){1'b0}}, 1'b1};
    wire [SEQ_W-1:0] stamped_1 = stamped + 1'b1;

    reg [63:0] ts_even [0:(1<<BANK_W)-1];
    reg [63:0] ts_odd  [0:(1<<BANK_W)-1];
    reg [63:0] ts_even_rd, ts_odd_rd;

    wire             write_even = (stamp_one && !stamped[0]) || (stamp_two && !stamped_1[0]);
    wire             write_odd  = (stamp_one && stamped[0])  || (stamp_two && stamped_1[0]);
    /* verilator lint_off UNUSEDSIGNAL */ // a bank is addressed by bits BANK_W:1
    wire [SEQ_W-1:0] even_seq   = stamped[0] ? stamped_1 : stamped;
    wire [SEQ_W-1:0] odd_seq    = stamped[0] ? stamped : stamped_1;
    /* verilator lint_on UNUSEDSIGNAL */

    // ---- descriptor intake ------------------------------------------------------------
    wire             kind_drop  = pdesc_data[`FCAP_PDESC_KIND];
    wire [SEQ_W-1:0] head_seq   = pdesc_data[`FCAP_PDESC_SEQ];
    wire [SEQ_W-1:0] ahead      = stamped - head_seq;
    wire             head_ready = ahead != {SEQ_W{1'b0}} && !ahead[SEQ_W-1];
    reg              s1_valid;
    wire             s1_move    = s1_valid && (!desc_valid || desc_rd);
    wire             take_frame = pdesc_valid && !kind_drop && head_ready && (!s1_valid || s1_move);
    wire             take_drops = pdesc_valid && kind_drop;
    assign pdesc_rd = take_frame || take_drops;

    wire [31:0] p_drops  = pdesc_data[`FCAP_PDESC_DROPS];
    wire [31:0] p_dbytes = pdesc_data[`FCAP_PDESC_DBYTES];
    wire [31:0] p_orig   = pdesc_data[`FCAP_PDESC_ORIGLEN];
    wire [15:0] p_cap    = pdesc_data[`FCAP_PDESC_CAPLEN];
    wire        p_err    = pdesc_data[`FCAP_PDESC_ERR];

    reg  [31:0] lost_pending;  // frames lost since the last frame sent on
    wire [31:0] lost_sum   = (lost_pending > 32'hFFFF_FFFF - p_drops) ? 32'hFFFF_FFFF
                                                                      : lost_pending + p_drops;
    assign drop_events = pdesc_rd ? p_drops : 32'd0;

    reg  [31:0] s1_orig;
    reg  [15:0] s1_cap;
    reg         s1_err;
    reg  [31:0] s1_drops;
    reg  [31:0] s1_hash;
    reg         s1_odd;
    reg  [31:0] out_orig;
    reg  [15:0] out_cap;
    reg         out_err;
    reg  [31:0] out_drops;
    reg  [31:0] out_hash;
    reg  [63:0] out_ts;

    assign desc_data = {out_hash, out_drops, out_err, out_ts, out_cap, out_orig};
    assign busy      = pdesc_valid || s1_valid || desc_valid;

    always @(posedge clk) begin
        if (write_even)
            ts_even[even_seq[BANK_W:1]] <= now_d2;
        if (write_odd)
            ts_odd[odd_seq[BANK_W:1]] <= now_d2;
        if (take_frame) begin
            ts_even_rd <= ts_even[head_seq[BANK_W:1]];
            ts_odd_rd  <= ts_odd[head_seq[BANK_W:1]];
        end
    end

    always @(posedge clk) begin
        now_d1 <= now_ns;
        now_d2 <= now_d1;
        if (rst) begin
            stamped       <= {SEQ_W{1'b0}};
            ts_overrun    <= 1'b0;
            done_seq_gray <= {SEQ_W{1'b0}};
            lost_pending  <= 32'd0;
            s1_valid      <= 1'b0;
            desc_valid    <= 1'b0;
        end else begin
            stamped <= stamped + {{(SEQ_W-2){1'b0}}, stamp_two, stamp_one && !stamp_two};
            if (new_count > {{(SEQ_W-2){1'b0}}, 2'd2})
                ts_overrun <= 1'b1;

            if (take_drops) begin
                lost_pending  <= lost_sum;
                done_seq_gray <= head_seq ^ (head_seq >> 1);
            end else if (take_frame) begin
                lost_pending  <= 32'd0;
                done_seq_gray <= (head_seq + 1'b1) ^ ((head_seq + 1'b1) >> 1);
            end
            if (cnt_clear)
                lost_pending <= 32'd0;   // a new counting session forgets unreported drops

            if (desc_valid && desc_rd)
                desc_valid <= 1'b0;
            if (s1_move) begin
                desc_valid <= 1'b1;
                out_orig   <= s1_orig;
                out_cap    <= s1_cap;
                out_err    <= s1_err;
                out_drops  <= s1_drops;
                out_hash   <= s1_hash;
                out_ts     <= s1_odd ? ts_odd_rd : ts_even_rd;
                s1_valid   <= 1'b0;
            end
            if (take_frame) begin
                s1_valid <= 1'b1;
                s1_orig  <= p_orig;
                s1_cap   <= p_cap;
                s1_err   <= p_err;
                s1_drops <= lost_sum;
                s1_hash  <= pdesc_data[`FCAP_PDESC_HASH];
                s1_odd   <= head_seq[0];
            end
        end
    end

    function [63:0] add64(input [63:0] a, input [31:0] b);
        add64 = a + {32'd0, b};
    endfunction

    always @(posedge clk) begin
        if (rst || cnt_clear) begin
            cnt_frames    <= 64'd0;
            cnt_bytes     <= 64'd0;
            cnt_drop_fifo <= 64'd0;
            cnt_errors    <= 64'd0;
            cnt_truncated <= 64'd0;
        end else if (pdesc_rd) begin
            cnt_frames    <= add64(cnt_frames, p_drops) + {63'd0, !kind_drop};
            cnt_bytes     <= add64(add64(cnt_bytes, p_dbytes), kind_drop ? 32'd0 : p_orig);
            cnt_drop_fifo <= add64(cnt_drop_fifo, p_drops);
            if (!kind_drop && p_err)
                cnt_errors <= cnt_errors + 64'd1;
            if (!kind_drop && {16'd0, p_cap} != p_orig)
                cnt_truncated <= cnt_truncated + 64'd1;
        end
    end
endmodule
`default_nettype wire
