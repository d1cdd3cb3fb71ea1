`default_nettype none
`include "fcap_defs.vh"
`include "fcap_dma_defs.vh"
// fcap_ring_alloc: decides where every record goes, over all host rings.
//
// Formatters ask for room for a record in the ring their flow hash was
// steered to, before they format it; requests are served round robin, one a
// clock (a request that must wait, for a ring loading or closing a block,
// lets the next port's be considered). Each ring's block state lives in an
// fcap_ring_ctx. A granted record enters the order queue only once its
// formatter has (nearly) written it into the record FIFO (done_*), so that the
// DMA streamer never waits behind a record still being formatted; records
// therefore enter in the order they are formatted, not granted. Each clock
// this module puts one thing in the order queue: a block close (first), or a
// formatted record. A ring closes a block only when every record placed in it
// is in the queue, so a block's header and its publication always follow its
// records. It moves no data: the DMA streamer carries the order entries out.
//
// A ring that has no free block refuses records (the formatter discards and
// counts the frame); the refusals are counted in that ring's next header.
//
// RING_RESET drains before it resets: from the request on, every record is
// refused (counted as a ring drop) and no block opens; once the streamer has
// written everything already ordered (dp_idle), every ring forgets its open
// block and PROD. So a reset in the middle of traffic cannot strand a
// formatter or a DMA write, and once reset_pending clears, the card writes
// nothing more into the old rings' memory.
module fcap_ring_alloc #(
    parameter NUM_PORTS    = 4,
    parameter NUM_RINGS    = 4,
    parameter TABLE_ADDR_W = 9
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire                     cnt_clear,

    // per ring, packed: ring r in bits 32r+31:32r (64r+63:64r for addresses)
    input  wire [NUM_RINGS*32-1:0]  cfg_blocks,
    input  wire [NUM_RINGS*32-1:0]  cfg_block_size,
    input  wire [NUM_RINGS*64-1:0]  cfg_status_addr,
    input  wire [NUM_RINGS*32-1:0]  cfg_timeout,
    input  wire [NUM_RINGS*32-1:0]  cfg_table_base,
    input  wire [NUM_RINGS*32-1:0]  cons_idx,
    input  wire                     ring_reset,
    input  wire                     dp_idle,
    output reg                      reset_pending,
    input  wire                     flush_req,
    output wire                     flush_pending,

    output wire                     table_rd_en,
    output wire [TABLE_ADDR_W-1:0]  table_rd_index,
    input  wire [63:0]              table_rd_data,

    input  wire [NUM_PORTS-1:0]     alloc_req,
    input  wire [NUM_PORTS*4-1:0]   alloc_ring,
    input  wire [NUM_PORTS*32-1:0]  alloc_len,
    input  wire [NUM_PORTS*64-1:0]  alloc_ts,
    output wire [NUM_PORTS-1:0]     alloc_grant,
    output wire [NUM_PORTS-1:0]     alloc_reject,
    output wire [63:0]              alloc_addr,    // with a grant: where the record goes

    input  wire [NUM_PORTS-1:0]     done_valid,    // formatted records, per port
    input  wire [NUM_PORTS*`FCAP_DONE_W-1:0] done_data,
    output wire [NUM_PORTS-1:0]     done_rd,

    output wire                     ord_wr_en,
    output wire [`FCAP_ORD_W-1:0]   ord_wr_data,
    input  wire                     ord_full,
    output wire                     close_wr_en,
    output wire [`FCAP_CLOSE_W-1:0] close_wr_data,
    input  wire                     close_full,

    output wire [NUM_RINGS*32-1:0]  prod_idx,
    output wire [NUM_RINGS-1:0]     block_open,
    output wire [NUM_RINGS-1:0]     ring_full,
    output wire                     busy,
    output reg  [63:0]              cnt_records,
    output reg  [63:0]              cnt_blocks
);
    localparam SEL_W  = (NUM_PORTS > 1) ? $clog2(NUM_PORTS) : 1;
    localparam RING_W = (NUM_RINGS > 1) ? $clog2(NUM_RINGS) : 1;

    // ---- round robin over the requests -----------------------------------------
    reg  [SEL_W-1:0] last;
    wire [SEL_W-1:0] pick;
    wire             pick_valid;
    fcap_rr_pick #(.N (NUM_PORTS), .SEL_W (SEL_W)) req_rr (
        .req (alloc_req), .last (last), .pick (pick), .valid (pick_valid)
    );
    wire [3:0]  req_ring4 = alloc_ring[pick*4 +: 4];
    wire [RING_W-1:0] req_ring = ({28'd0, req_ring4} < NUM_RINGS) ? req_ring4[RING_W-1:0]
                                                                   : {RING_W{1'b0}};
    wire [31:0] req_len   = alloc_len[pick*32 +: 32];
    wire [63:0] req_ts    = alloc_ts[pick*64 +: 64];

    // ---- the rings ---------------------------------------------------------------
    wire [NUM_RINGS-1:0] can_place, must_reject, want_load, must_close, flushing;
    wire [NUM_RINGS-1:0] load_grant, close_grant, place_here, drop_here;
    wire [NUM_RINGS*TABLE_ADDR_W-1:0] table_index;
    wire [NUM_RINGS*`FCAP_CLOSE_W-1:0] close_data;
    wire [NUM_RINGS*64-1:0] place_addr;
    // records placed in each ring and not yet in the order queue
    reg  [NUM_RINGS*8-1:0] outstanding;
    wire [NUM_RINGS-1:0]   settled;
    wire do_reset = reset_pending && dp_idle && (&settled);

    // one close a clock, lowest ring first; one table read a clock, likewise
    reg [RING_W-1:0] close_ring, load_ring;
    reg              close_any, load_any;
    integer r;
    always @* begin
        close_ring = {RING_W{1'b0}};
        load_ring  = {RING_W{1'b0}};
        close_any  = 1'b0;
        load_any   = 1'b0;
        for (r = NUM_RINGS - 1; r >= 0; r = r - 1) begin
            if (must_close[r] && settled[r]) begin
                close_ring = r[RING_W-1:0];
                close_any  = 1'b1;
            end
            if (want_load[r]) begin
                load_ring = r[RING_W-1:0];
                load_any  = 1'b1;
            end
        end
    end

    wire emit_close = close_any && !ord_full && !close_full;
    wire place      = !close_any && pick_valid && can_place[req_ring];
    wire reject     = pick_valid && !place && must_reject[req_ring];

    genvar g;
    generate
        for (g = 0; g < NUM_RINGS; g = g + 1) begin : ring
            assign load_grant[g]  = load_any && load_ring == g;
            assign close_grant[g] = emit_close && close_ring == g;
            assign place_here[g]  = place && req_ring == g;
            assign drop_here[g]   = reject && req_ring == g;
            assign settled[g]     = outstanding[g*8 +: 8] == 8'd0;

            fcap_ring_ctx #(
                .TABLE_ADDR_W (TABLE_ADDR_W),
                .RING_ID      (g)
            ) ctx (
                .clk (clk), .rst (rst || do_reset),
                .cfg_blocks (cfg_blocks[g*32 +: 32]), .cfg_block_size (cfg_block_size[g*32 +: 32]),
                .cfg_status_addr (cfg_status_addr[g*64 +: 64]), .cfg_timeout (cfg_timeout[g*32 +: 32]),
                .cfg_table_base (cfg_table_base[g*32 +: 32]), .cons_idx (cons_idx[g*32 +: 32]),
                .reset_pending (reset_pending), .flush_req (flush_req),
                .req_here (pick_valid && req_ring == g), .req_len (req_len), .req_ts (req_ts),
                .can_place (can_place[g]), .must_reject (must_reject[g]), .place (place_here[g]),
                .want_load (want_load[g]), .load_grant (load_grant[g]),
                .table_index (table_index[g*TABLE_ADDR_W +: TABLE_ADDR_W]),
                .table_data (table_rd_data),
                .must_close (must_close[g]), .close_grant (close_grant[g]),
                .close_data (close_data[g*`FCAP_CLOSE_W +: `FCAP_CLOSE_W]),
                .ring_drop (drop_here[g]),
                .place_addr (place_addr[g*64 +: 64]), .prod_idx (prod_idx[g*32 +: 32]),
                .block_open (block_open[g]), .ring_full (ring_full[g]), .flush_pending (flushing[g])
            );
        end
        for (g = 0; g < NUM_PORTS; g = g + 1) begin : answer
            assign alloc_grant[g]  = place && pick == g;
            assign alloc_reject[g] = reject && pick == g;
        end
    endgenerate

    assign table_rd_en    = load_any;
    assign table_rd_index = table_index[load_ring*TABLE_ADDR_W +: TABLE_ADDR_W];
    assign flush_pending  = |flushing;
    assign busy           = |must_close;
    assign alloc_addr     = place_addr[req_ring*64 +: 64];

    // ---- entries for the streamer: closes, and records as they are formatted ------------
    reg  [SEL_W-1:0] dlast;
    wire [SEL_W-1:0] dpick;
    wire             dpick_valid;
    fcap_rr_pick #(.N (NUM_PORTS), .SEL_W (SEL_W)) done_rr (
        .req (done_valid), .last (dlast), .pick (dpick), .valid (dpick_valid)
    );
    wire [`FCAP_DONE_W-1:0] d_entry = done_data[dpick*`FCAP_DONE_W +: `FCAP_DONE_W];
    wire [3:0]        d_ring4 = d_entry[`FCAP_DONE_RING];
    wire [RING_W-1:0] d_ring  = ({28'd0, d_ring4} < NUM_RINGS) ? d_ring4[RING_W-1:0] : {RING_W{1'b0}};
    wire              take_done = dpick_valid && !emit_close && !ord_full;
    wire [7:0]        dport8  = {{(8-SEL_W){1'b0}}, dpick};
    assign ord_wr_en     = take_done || emit_close;
    assign ord_wr_data   = emit_close ? {1'b1, 92'd0}
                                      : {1'b0, d_ring4, dport8, d_entry[`FCAP_DONE_ADDR],
                                         d_entry[`FCAP_DONE_LANES]};
    assign close_wr_en   = emit_close;
    assign close_wr_data = close_data[close_ring*`FCAP_CLOSE_W +: `FCAP_CLOSE_W];
    generate
        for (g = 0; g < NUM_PORTS; g = g + 1) begin : formatted
            assign done_rd[g] = take_done && dpick == g;
        end
        for (g = 0; g < NUM_RINGS; g = g + 1) begin : count
            always @(posedge clk) begin
                if (rst || do_reset)
                    outstanding[g*8 +: 8] <= 8'd0;
                else
                    outstanding[g*8 +: 8] <= outstanding[g*8 +: 8] + {7'd0, place_here[g]}
                                             - {7'd0, take_done && d_ring == g};
            end
        end
    endgenerate

    always @(posedge clk) begin
        if (rst || do_reset)
            reset_pending <= 1'b0;
        else if (ring_reset)
            reset_pending <= 1'b1;
        if (rst) begin
            last  <= {SEL_W{1'b0}};
            dlast <= {SEL_W{1'b0}};
        end else begin
            if (pick_valid)
                last <= pick;
            if (take_done)
                dlast <= dpick;
        end
    end

    always @(posedge clk) begin
        if (rst || cnt_clear) begin
            cnt_records <= 64'd0;
            cnt_blocks  <= 64'd0;
        end else begin
            if (place)
                cnt_records <= cnt_records + 64'd1;
            if (emit_close)
                cnt_blocks <= cnt_blocks + 64'd1;
        end
    end
endmodule
`default_nettype wire
