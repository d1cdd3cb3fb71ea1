`default_nettype none
`include "fcap_defs.vh"
`include "fcap_dma_defs.vh"
// fcap_ring_alloc: decides where every record goes in the host ring.
//
// Ring protocol (docs/FORMAT.md): the ring has BLOCKS blocks of BLOCK_SIZE
// bytes at the bus addresses in the block table. The card owns block
// PROD % BLOCKS while PROD - CONS < BLOCKS; the host owns the rest.
//
// Formatters ask for room for a complete record (alloc); requests are served
// round robin, one a clock. A record is placed at the open block's current
// offset if it fits with either nothing or at least FCAP_MIN_PAD_LEN bytes
// left over (so the padding is always a valid block). The allocator moves no
// data: for each grant it queues an order entry {port, address, length}, and
// for each block it closes (full, timed out, flushed) an order entry plus a
// close entry holding the finished header. The DMA streamer carries the
// entries out in order, so a block's header and its publication always follow
// its records.
//
// With no free block the allocator rejects requests: the formatter discards
// the record and counts the frame. drop_events counts every frame the card
// dropped, for the header's drops field (drops since the previous close).
//
// RING_RESET drains before it resets: from the request on, every record is
// rejected (counted as a ring drop) and no block opens; once the streamer has
// written everything already ordered (dp_idle) and no close is half done,
// PROD and the open block are forgotten. So a reset in the middle of traffic
// cannot strand a formatter or a DMA write, and once reset_pending clears, the
// card writes nothing more into the old ring's memory.
//
// FLUSH closes the open block if it holds records. It is acted on only while
// a block is open: a flush that arrives while a block is closing, or while no
// block is open, has nothing to do and is not kept for the next block.
module fcap_ring_alloc #(
    parameter NUM_PORTS    = 4,
    parameter TABLE_ADDR_W = 9,
    parameter RING_ID      = 0
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    cnt_clear,

    input  wire [31:0]             cfg_blocks,
    input  wire [31:0]             cfg_block_size,
    input  wire [63:0]             cfg_status_addr,
    input  wire [31:0]             cfg_timeout,
    input  wire [31:0]             cons_idx,
    input  wire                    ring_reset,
    input  wire                    dp_idle,       // streamer and its queues are empty
    output reg                     reset_pending,
    input  wire                    flush_req,
    output reg                     flush_pending,

    output wire                    table_rd_en,
    output wire [TABLE_ADDR_W-1:0] table_rd_index,
    input  wire [63:0]             table_rd_data,

    input  wire [NUM_PORTS-1:0]    alloc_req,
    input  wire [NUM_PORTS*32-1:0] alloc_len,
    input  wire [NUM_PORTS*64-1:0] alloc_ts,
    output wire [NUM_PORTS-1:0]    alloc_grant,
    output wire [NUM_PORTS-1:0]    alloc_reject,

    input  wire [31:0]             drop_events,

    output wire                    ord_wr_en,
    output wire [`FCAP_ORD_W-1:0]  ord_wr_data,
    input  wire                    ord_full,
    output wire                    close_wr_en,
    output wire [`FCAP_CLOSE_W-1:0] close_wr_data,
    input  wire                    close_full,

    output reg  [31:0]             prod_idx,      // blocks closed
    output wire                    block_open,
    output wire                    ring_full,
    output wire                    busy,
    output reg  [63:0]             cnt_records,
    output reg  [63:0]             cnt_blocks
);
    localparam [1:0] S_WAIT  = 2'd0,
                     S_LOAD  = 2'd1,
                     S_OPEN  = 2'd2,
                     S_CLOSE = 2'd3;

    localparam [31:0] HDR_LEN = `FCAP_BLOCK_HEADER_LEN;
    localparam [31:0] MIN_PAD = `FCAP_MIN_PAD_LEN;
    localparam [15:0] RING    = RING_ID;
    localparam [31:0] FMT_VER = `FCAP_BLOCK_FORMAT_VERSION;
    localparam SEL_W = (NUM_PORTS > 1) ? $clog2(NUM_PORTS) : 1;

    reg [1:0]            state;
    reg [TABLE_ADDR_W:0] slot;
    reg [63:0]           base;        // bus address of the open block
    reg [31:0]           offset;      // bytes used in the open block
    reg [31:0]           rec_count;
    reg [63:0]           min_ts, max_ts;
    reg [31:0]           drops;       // frames dropped since the last close
    reg [31:0]           age;         // clocks since the block's first record
    reg [31:0]           close_flags;

    // ---- round robin over the requests --------------------------------------------
    reg  [SEL_W-1:0] last;
    reg  [SEL_W-1:0] pick;
    reg              pick_valid;
    /* verilator lint_off UNUSEDSIGNAL */ // idx < NUM_PORTS: only its low bits are used
    reg  [31:0]      idx;
    /* verilator lint_on UNUSEDSIGNAL */
    integer i;
    always @* begin
        pick       = last;
        pick_valid = 1'b0;
        idx        = 32'd0;
        for (i = NUM_PORTS; i >= 1; i = i - 1) begin
            idx = ({{(32-SEL_W){1'b0}}, last} + i) % NUM_PORTS;
            if (alloc_req[idx[SEL_W-1:0]]) begin
                pick       = idx[SEL_W-1:0];
                pick_valid = 1'b1;
            end
        end
    end
    wire [31:0] req_len = alloc_len[pick*32 +: 32];
    wire [63:0] req_ts  = alloc_ts[pick*64 +: 64];

    // ---- decisions -------------------------------------------------------------------
    wire [31:0] in_flight  = prod_idx - cons_idx;
    wire cfg_ok     = (cfg_blocks != 32'd0) && (cfg_blocks <= (32'd1 << TABLE_ADDR_W))
                      && (cfg_block_size >= 32'd4096);
    wire block_free = cfg_ok && (in_flight < cfg_blocks);
    wire [31:0] room = cfg_block_size - offset;
    wire fits       = (req_len == room) || ({1'b0, req_len} + {1'b0, MIN_PAD} <= {1'b0, room});
    wire full       = offset == cfg_block_size;
    wire timed_out  = (cfg_timeout != 32'd0) && (rec_count != 32'd0) && (age >= cfg_timeout);
    wire flush_now  = flush_pending && (rec_count != 32'd0);
    wire close_now  = (state == S_OPEN) && !reset_pending && (full || timed_out || flush_now);
    wire place      = (state == S_OPEN) && !reset_pending && !close_now && pick_valid && fits
                      && !ord_full;
    wire too_big    = (state == S_OPEN) && !close_now && pick_valid && !fits && rec_count == 32'd0;
    wire no_block   = (state == S_WAIT) && pick_valid && !block_free;
    wire reject     = pick_valid && (reset_pending || too_big || no_block);
    wire do_reset   = reset_pending && state != S_CLOSE && dp_idle;
    wire emit_close = (state == S_CLOSE) && !ord_full && !close_full;

    genvar g;
    generate
        for (g = 0; g < NUM_PORTS; g = g + 1) begin : answer
            assign alloc_grant[g]  = place && pick == g;
            assign alloc_reject[g] = reject && pick == g;
        end
    endgenerate

    assign table_rd_en    = (state == S_WAIT) && block_free && !reset_pending;
    assign table_rd_index = slot[TABLE_ADDR_W-1:0];
    assign block_open     = (state == S_OPEN) || (state == S_CLOSE);
    assign ring_full      = (state == S_WAIT) && !block_free;
    assign busy           = (state == S_CLOSE);

    // ---- entries for the streamer ---------------------------------------------------------
    wire [7:0]  port8 = {{(8-SEL_W){1'b0}}, pick};
    wire [15:0] lanes = req_len[18:3];
    assign ord_wr_en   = place || emit_close;
    assign ord_wr_data = emit_close ? {1'b1, 88'd0}
                                    : {1'b0, port8, base + {32'd0, offset}, lanes};

    wire [511:0] header = {HDR_LEN, 32'd0,                 // word 7: length, reserved
                           32'd0, cfg_block_size,          // word 6
                           close_flags, drops,             // word 5
                           max_ts,                         // word 4
                           min_ts,                         // word 3
                           rec_count, offset,              // word 2: records, bytes used
                           prod_idx, RING, FMT_VER[15:0],  // word 1: sequence number
                           HDR_LEN, `FCAP_BT_BLOCK_HEADER};// word 0
    assign close_wr_en   = emit_close;
    assign close_wr_data = {prod_idx + 32'd1, cfg_status_addr, cfg_block_size, offset, base, header};

    wire [31:0] drops_next = (drops > 32'hFFFF_FFFF - drop_events) ? 32'hFFFF_FFFF : drops + drop_events;

    always @(posedge clk) begin
        if (rst || do_reset) begin
            reset_pending <= 1'b0;
            state         <= S_WAIT;
            slot          <= {(TABLE_ADDR_W+1){1'b0}};
            prod_idx      <= 32'd0;
            offset        <= HDR_LEN;
            rec_count     <= 32'd0;
            drops         <= 32'd0;
            age           <= 32'd0;
            flush_pending <= 1'b0;
            close_flags   <= 32'd0;
            last          <= {SEL_W{1'b0}};
        end else begin
            if (ring_reset)
                reset_pending <= 1'b1;
            if (flush_req && state == S_OPEN)
                flush_pending <= 1'b1;
            drops <= drops_next;
            if (rec_count != 32'd0 && age != 32'hFFFF_FFFF)
                age <= age + 32'd1;
            if (place || reject)
                last <= pick;

            case (state)
            S_WAIT: begin
                flush_pending <= 1'b0; // nothing is open, so nothing to flush
                if (block_free && !reset_pending)
                    state <= S_LOAD;
            end

            S_LOAD: begin
                base      <= table_rd_data;
                offset    <= HDR_LEN;
                rec_count <= 32'd0;
                age       <= 32'd0;
                state     <= S_OPEN;
            end

            S_OPEN: begin
                if (close_now) begin
                    close_flags <= (full      ? `FCAP_BLOCK_CLOSED_FULL    : 32'd0)
                                 | (timed_out ? `FCAP_BLOCK_CLOSED_TIMEOUT : 32'd0)
                                 | (flush_now ? `FCAP_BLOCK_CLOSED_FLUSH   : 32'd0);
                    state       <= S_CLOSE;
                end else if (place) begin
                    offset    <= offset + req_len;
                    rec_count <= rec_count + 32'd1;
                    if (rec_count == 32'd0 || req_ts < min_ts)
                        min_ts <= req_ts;
                    if (rec_count == 32'd0 || req_ts > max_ts)
                        max_ts <= req_ts;
                    if (rec_count == 32'd0)
                        age <= 32'd0;
                end else if (pick_valid && !fits && rec_count != 32'd0 && !reset_pending) begin
                    close_flags <= `FCAP_BLOCK_CLOSED_FULL;
                    state       <= S_CLOSE;
                end else if (flush_pending && rec_count == 32'd0) begin
                    flush_pending <= 1'b0;
                end
            end

            S_CLOSE: if (emit_close) begin
                prod_idx <= prod_idx + 32'd1;
                drops    <= drop_events;
                slot     <= (slot + 1'b1 >= cfg_blocks[TABLE_ADDR_W:0]) ? {(TABLE_ADDR_W+1){1'b0}}
                                                                        : slot + 1'b1;
                state    <= S_WAIT;
            end

            default: state <= S_WAIT;
            endcase
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
