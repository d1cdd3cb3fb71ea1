`default_nettype none
`include "fcap_defs.vh"
// fcap_block_writer: fills host ring blocks with records and publishes them.
//
// Ring protocol (docs/FORMAT.md): the ring has BLOCKS blocks of BLOCK_SIZE
// bytes at the bus addresses in the block table. The card owns block
// PROD % BLOCKS while PROD - CONS < BLOCKS; the host owns the rest.
//
// A block is laid out as
//   [block header, 64 B][records ...][padding block up to BLOCK_SIZE]
// The header space is reserved when the block opens and written last, when the
// block closes (full, timed out, or flushed). Then the card writes PROD+1 to the
// status word in host memory, marked with dma_status so that the interrupt can
// follow it out of the card (fcap_top). All DMA writes leave
// through one in-order port, so by the time the host sees the new PROD every
// byte of the block is in memory (PCIe posted writes are ordered the same way).
//
// A record is placed only if it fits with either nothing or at least
// FCAP_MIN_PAD_LEN bytes left over, so the padding is always a valid block.
// With no free block the writer rejects allocations: the formatter drops the
// frame and counts it. `drop_events` counts every frame the card dropped, for
// the header's drops field (drops since the previous block closed).
module fcap_block_writer #(
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
    input  wire                    flush_req,
    output reg                     flush_pending,

    output wire                    table_rd_en,
    output wire [TABLE_ADDR_W-1:0] table_rd_index,
    input  wire [63:0]             table_rd_data,

    input  wire                    alloc_req,
    input  wire [31:0]             alloc_len,
    input  wire [63:0]             alloc_ts,
    output wire                    alloc_grant,
    output wire                    alloc_reject,

    input  wire                    rec_valid,
    input  wire [63:0]             rec_data,
    input  wire                    rec_last,
    output wire                    rec_ready,

    input  wire [31:0]             drop_events,   // frames the card dropped this clock

    output reg                     dma_valid,
    output reg  [63:0]             dma_addr,
    output reg  [63:0]             dma_data,
    output reg  [7:0]              dma_strb,
    output reg                     dma_status,    // this beat is the status word
    input  wire                    dma_ready,

    output reg  [31:0]             prod_idx,
    output wire                    block_open,
    output wire                    ring_full,
    output wire                    busy,
    output reg  [63:0]             cnt_records,
    output reg  [63:0]             cnt_blocks
);
    localparam [3:0] S_WAIT    = 4'd0,
                     S_LOAD    = 4'd1,
                     S_OPEN    = 4'd2,
                     S_STREAM  = 4'd3,
                     S_PAD_HDR = 4'd4,
                     S_PAD_END = 4'd5,
                     S_HDR     = 4'd6,
                     S_STATUS  = 4'd7;

    localparam [31:0] HDR_LEN  = `FCAP_BLOCK_HEADER_LEN;
    localparam [31:0] MIN_PAD  = `FCAP_MIN_PAD_LEN;
    localparam [15:0] RING     = RING_ID;
    localparam [31:0] FMT_VER  = `FCAP_BLOCK_FORMAT_VERSION;

    reg [3:0]              state;
    reg [TABLE_ADDR_W:0]   slot;
    reg [63:0]             base;        // bus address of the open block
    reg [31:0]             offset;      // bytes used in the open block
    reg [31:0]             rec_count;
    reg [63:0]             min_ts;      // earliest record (ports interleave)
    reg [63:0]             max_ts;      // latest record
    reg [31:0]             drops;       // frames dropped since the last close
    reg [31:0]             age;         // clocks since the block's first record
    reg [31:0]             close_flags;
    reg [63:0]             wr_ptr;      // next record word's bus address
    reg [2:0]              hdr_idx;

    wire advance   = !dma_valid || dma_ready;
    wire [31:0] in_flight = prod_idx - cons_idx;
    wire cfg_ok    = (cfg_blocks != 32'd0) && (cfg_blocks <= (32'd1 << TABLE_ADDR_W))
                     && (cfg_block_size >= 32'd4096);
    wire block_free = cfg_ok && (in_flight < cfg_blocks);

    wire [31:0] room     = cfg_block_size - offset;
    wire        fits     = (alloc_len == room) || ({1'b0, alloc_len} + {1'b0, MIN_PAD} <= {1'b0, room});
    wire        full     = offset == cfg_block_size;
    wire        timed_out = (cfg_timeout != 32'd0) && (rec_count != 32'd0) && (age >= cfg_timeout);
    wire        flush_now = flush_pending && (rec_count != 32'd0);
    wire        close_now = (state == S_OPEN) && (full || timed_out || flush_now);
    wire        place    = (state == S_OPEN) && !close_now && alloc_req && fits;
    wire        too_big  = (state == S_OPEN) && !close_now && alloc_req && !fits && rec_count == 32'd0;

    assign alloc_grant    = place;
    assign alloc_reject   = too_big || ((state == S_WAIT) && alloc_req && !block_free);
    assign rec_ready      = (state == S_STREAM) && advance;
    assign table_rd_en    = (state == S_WAIT) && block_free;
    assign table_rd_index = slot[TABLE_ADDR_W-1:0];
    assign block_open     = (state != S_WAIT) && (state != S_LOAD);
    assign ring_full      = (state == S_WAIT) && !block_free;
    assign busy           = (state == S_STREAM) || (state >= S_PAD_HDR) || dma_valid;

    wire [31:0] pad_len = room;
    reg  [63:0] hdr_word;
    always @* begin
        case (hdr_idx)
        3'd0:    hdr_word = {HDR_LEN, `FCAP_BT_BLOCK_HEADER};
        3'd1:    hdr_word = {prod_idx, RING, FMT_VER[15:0]};
        3'd2:    hdr_word = {rec_count, offset};
        3'd3:    hdr_word = min_ts;
        3'd4:    hdr_word = max_ts;
        3'd5:    hdr_word = {close_flags, drops};
        3'd6:    hdr_word = {32'd0, cfg_block_size};
        default: hdr_word = {HDR_LEN, 32'd0};
        endcase
    end

    wire [31:0] drops_next = (drops > 32'hFFFF_FFFF - drop_events) ? 32'hFFFF_FFFF : drops + drop_events;

    always @(posedge clk) begin
        if (dma_valid && dma_ready)
            dma_valid <= 1'b0;

        if (rst || ring_reset) begin
            state         <= S_WAIT;
            slot          <= {(TABLE_ADDR_W+1){1'b0}};
            prod_idx      <= 32'd0;
            offset        <= HDR_LEN;
            rec_count     <= 32'd0;
            drops         <= 32'd0;
            age           <= 32'd0;
            flush_pending <= 1'b0;
            dma_valid     <= 1'b0;
            hdr_idx       <= 3'd0;
            close_flags   <= 32'd0;
        end else begin
            if (flush_req)
                flush_pending <= 1'b1;
            drops <= drops_next;
            if (rec_count != 32'd0 && age != 32'hFFFF_FFFF)
                age <= age + 32'd1;

            case (state)
            S_WAIT: begin
                if (block_free)
                    state <= S_LOAD;
                else if (!flush_req)
                    flush_pending <= 1'b0; // nothing is open, so nothing to flush
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
                    hdr_idx     <= 3'd0;
                    state       <= full ? S_HDR : S_PAD_HDR;
                end else if (place) begin
                    wr_ptr    <= base + {32'd0, offset};
                    offset    <= offset + alloc_len;
                    rec_count <= rec_count + 32'd1;
                    if (rec_count == 32'd0 || alloc_ts < min_ts)
                        min_ts <= alloc_ts;
                    if (rec_count == 32'd0 || alloc_ts > max_ts)
                        max_ts <= alloc_ts;
                    if (rec_count == 32'd0)
                        age <= 32'd0;
                    state <= S_STREAM;
                end else if (alloc_req && !fits && rec_count != 32'd0) begin
                    close_flags <= `FCAP_BLOCK_CLOSED_FULL;
                    hdr_idx     <= 3'd0;
                    state       <= S_PAD_HDR;
                end else if (flush_pending && !flush_req && rec_count == 32'd0) begin
                    flush_pending <= 1'b0;
                end
            end

            S_STREAM: if (rec_valid && advance) begin
                dma_valid <= 1'b1;
                dma_addr  <= wr_ptr;
                dma_data  <= rec_data;
                dma_strb  <= 8'hFF;
                dma_status <= 1'b0;
                wr_ptr    <= wr_ptr + 64'd8;
                if (rec_last)
                    state <= S_OPEN;
            end

            S_PAD_HDR: if (advance) begin
                dma_valid <= 1'b1;
                dma_addr  <= base + {32'd0, offset};
                dma_data  <= {pad_len, `FCAP_BT_PADDING};
                dma_strb  <= 8'hFF;
                dma_status <= 1'b0;
                state     <= S_PAD_END;
            end

            S_PAD_END: if (advance) begin
                dma_valid <= 1'b1;
                dma_addr  <= base + {32'd0, cfg_block_size} - 64'd8;
                dma_data  <= {pad_len, 32'd0};
                dma_strb  <= 8'hF0;
                dma_status <= 1'b0;
                state     <= S_HDR;
            end

            S_HDR: if (advance) begin
                dma_valid <= 1'b1;
                dma_addr  <= base + {58'd0, hdr_idx, 3'd0};
                dma_data  <= hdr_word;
                dma_strb  <= 8'hFF;
                dma_status <= 1'b0;
                hdr_idx   <= hdr_idx + 3'd1;
                if (hdr_idx == 3'd7)
                    state <= S_STATUS;
            end

            S_STATUS: if (advance) begin
                dma_valid <= 1'b1;
                dma_addr  <= cfg_status_addr;
                dma_data  <= {32'd0, prod_idx + 32'd1};
                dma_strb  <= 8'hFF;
                dma_status <= 1'b1;
                prod_idx  <= prod_idx + 32'd1;
                drops     <= drop_events;
                slot      <= (slot + 1'b1 >= cfg_blocks[TABLE_ADDR_W:0]) ? {(TABLE_ADDR_W+1){1'b0}}
                                                                        : slot + 1'b1;
                state     <= S_WAIT;
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
            if (state == S_STATUS && advance)
                cnt_blocks <= cnt_blocks + 64'd1;
        end
    end
endmodule
`default_nettype wire
