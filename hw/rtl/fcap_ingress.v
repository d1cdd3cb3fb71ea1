`default_nettype none
`include "fcap_desc.vh"
// fcap_ingress: one port's receive side.
//
// Takes frames from the MAC's AXI-Stream (which cannot be back-pressured: there
// is no tready), timestamps each at its first beat, keeps the first SNAPLEN
// bytes in the packet FIFO and, at the last beat, either commits the frame with
// a descriptor or drops it. A frame is dropped only when the packet FIFO or the
// descriptor FIFO has no room, and every such drop is counted and carried in the
// next descriptor (drops_before) so that the port's next record reports it.
//
// Frames that start while `enable` is low are ignored entirely (not counted):
// capture is off. A frame that started while enabled is finished normally.
//
// tkeep must be contiguous from bit 0 (the AXI-Stream rule for MACs).
// tuser on any beat marks the frame as errored (bad FCS or MAC error); such
// frames are still recorded, flagged in epb_flags.
module fcap_ingress #(
    parameter DATA_W     = 64,
    parameter KEEP_W     = DATA_W / 8,
    parameter SNAP_W     = 16,
    parameter MAX_SNAP   = 16384
) (
    input  wire                clk,
    input  wire                rst,

    input  wire                enable,
    input  wire [SNAP_W-1:0]   snaplen,      // 0 or > MAX_SNAP means MAX_SNAP
    input  wire [63:0]         now_ns,
    input  wire                cnt_clear,

    input  wire [DATA_W-1:0]   s_axis_tdata,
    input  wire [KEEP_W-1:0]   s_axis_tkeep,
    input  wire                s_axis_tvalid,
    input  wire                s_axis_tlast,
    input  wire                s_axis_tuser,

    output wire                fifo_wr_en,
    output wire [DATA_W-1:0]   fifo_wr_data,
    output wire                fifo_commit,
    output wire                fifo_drop,
    input  wire                fifo_full,

    output wire                desc_wr_en,
    output wire [`FCAP_DESC_W-1:0] desc_wr_data,
    input  wire                desc_full,

    output wire                busy,
    output wire                drop_pulse,
    output reg  [63:0]         cnt_frames,
    output reg  [63:0]         cnt_bytes,
    output reg  [63:0]         cnt_drop_fifo,
    output reg  [63:0]         cnt_errors,
    output reg  [63:0]         cnt_truncated
);
    localparam [31:0] MAX_SNAP32 = MAX_SNAP;

    function [31:0] count_keep(input [KEEP_W-1:0] keep);
        integer i;
        begin
            count_keep = 32'd0;
            for (i = 0; i < KEEP_W; i = i + 1)
                count_keep = count_keep + {31'd0, keep[i]};
        end
    endfunction

    reg         in_frame;      // a frame has started and not ended
    reg         capturing;     // the current frame started while enabled
    reg         frame_bad;     // the current frame has lost a word to overflow
    reg         frame_err;     // tuser seen during the current frame
    reg  [31:0] frame_bytes;   // bytes of the current frame before this beat
    reg  [63:0] frame_ts;
    reg  [31:0] drops_pending; // frames dropped since the last committed descriptor

    wire        sof        = s_axis_tvalid && !in_frame;
    wire        beat_cap   = sof ? enable : capturing;
    wire [31:0] bytes_pre  = sof ? 32'd0 : frame_bytes;
    wire [31:0] bytes_post = bytes_pre + count_keep(s_axis_tkeep);
    wire [31:0] snap       = (snaplen == {SNAP_W{1'b0}} || {{(32-SNAP_W){1'b0}}, snaplen} > MAX_SNAP32)
                             ? MAX_SNAP32 : {{(32-SNAP_W){1'b0}}, snaplen};
    wire        bad_pre    = sof ? 1'b0 : frame_bad;
    wire        want_write = s_axis_tvalid && beat_cap && (bytes_pre < snap) && !bad_pre;
    wire        overflow   = want_write && fifo_full;
    wire        bad_post   = bad_pre || overflow;
    wire        err_post   = (sof ? 1'b0 : frame_err) || s_axis_tuser;
    wire [63:0] ts         = sof ? now_ns : frame_ts;
    wire        eof        = s_axis_tvalid && s_axis_tlast && beat_cap;
    wire        keep_frame = eof && !bad_post && !desc_full;
    wire        lose_frame = eof && !keep_frame;
    wire [31:0] caplen     = (bytes_post < snap) ? bytes_post : snap;

    assign fifo_wr_en   = want_write && !fifo_full;
    assign fifo_wr_data = s_axis_tdata;
    assign fifo_commit  = keep_frame;
    assign fifo_drop    = lose_frame;
    assign desc_wr_en   = keep_frame;
    assign desc_wr_data = {drops_pending, err_post, ts, caplen[15:0], bytes_post};
    assign busy         = in_frame;
    assign drop_pulse   = lose_frame;

    always @(posedge clk) begin
        if (rst) begin
            in_frame      <= 1'b0;
            capturing     <= 1'b0;
            frame_bad     <= 1'b0;
            frame_err     <= 1'b0;
            frame_bytes   <= 32'd0;
            frame_ts      <= 64'd0;
            drops_pending <= 32'd0;
        end else if (s_axis_tvalid) begin
            in_frame    <= !s_axis_tlast;
            capturing   <= beat_cap;
            frame_bad   <= bad_post;
            frame_err   <= err_post;
            frame_bytes <= bytes_post;
            frame_ts    <= ts;
            if (keep_frame)
                drops_pending <= 32'd0;
            else if (lose_frame && drops_pending != 32'hFFFF_FFFF)
                drops_pending <= drops_pending + 32'd1;
        end
    end

    wire truncated = caplen != bytes_post;

    always @(posedge clk) begin
        if (rst || cnt_clear) begin
            cnt_frames    <= 64'd0;
            cnt_bytes     <= 64'd0;
            cnt_drop_fifo <= 64'd0;
            cnt_errors    <= 64'd0;
            cnt_truncated <= 64'd0;
        end else if (eof) begin
            cnt_frames <= cnt_frames + 64'd1;
            cnt_bytes  <= cnt_bytes + {32'd0, bytes_post};
            if (lose_frame)
                cnt_drop_fifo <= cnt_drop_fifo + 64'd1;
            if (err_post)
                cnt_errors <= cnt_errors + 64'd1;
            if (keep_frame && truncated)
                cnt_truncated <= cnt_truncated + 64'd1;
        end
    end
endmodule
`default_nettype wire
