`default_nettype none
`include "fcap_defs.vh"
`include "fcap_dma_defs.vh"
// fcap_ring_ctx: the state of one host ring: which block is open, how full it
// is, and when it must close. fcap_ring_alloc holds one per ring and decides,
// clock by clock, which ring places a record, loads its next block address or
// emits a close; this module only says what its ring can and must do.
//
// Ring protocol (docs/FORMAT.md): the ring has BLOCKS blocks of BLOCK_SIZE
// bytes whose bus addresses are block table entries TABLE_BASE + i. The card
// owns block PROD % BLOCKS while PROD - CONS < BLOCKS; the host owns the rest.
//
//   WAIT --free block, load granted--> LOADING --table entry--> OPEN
//   OPEN --close emitted--> WAIT
//
// A record is placed if it fits with either nothing or at least
// FCAP_MIN_PAD_LEN bytes left over, so the padding is always a valid block.
// The block must close when it is exactly full, when its timeout has run out,
// when a flush asks for it, or when the record offered to it does not fit.
module fcap_ring_ctx #(
    parameter TABLE_ADDR_W = 9,
    parameter RING_ID      = 0
) (
    input  wire                    clk,
    input  wire                    rst,           // also the allocator's ring reset

    input  wire [31:0]             cfg_blocks,
    input  wire [31:0]             cfg_block_size,
    input  wire [63:0]             cfg_status_addr,
    input  wire [31:0]             cfg_timeout,
    input  wire [31:0]             cfg_table_base,
    input  wire [31:0]             cons_idx,
    input  wire                    reset_pending, // the allocator drains for a reset
    input  wire                    flush_req,

    // the request the allocator is considering, if it targets this ring
    input  wire                    req_here,
    input  wire [31:0]             req_len,
    input  wire [63:0]             req_ts,
    output wire                    can_place,
    output wire                    must_reject,
    input  wire                    place,         // the allocator placed the request here

    output wire                    want_load,
    input  wire                    load_grant,    // table read issued this clock
    output wire [TABLE_ADDR_W-1:0] table_index,
    input  wire [63:0]             table_data,    // the entry, one clock after the grant

    output wire                    must_close,
    input  wire                    close_grant,   // the allocator emitted this ring's close
    output wire [`FCAP_CLOSE_W-1:0] close_data,
    input  wire                    ring_drop,     // a record for this ring was refused

    output wire [63:0]             place_addr,
    output reg  [31:0]             prod_idx,      // blocks closed
    output wire                    block_open,
    output wire                    ring_full,
    output reg                     flush_pending
);
    localparam [1:0] S_WAIT = 2'd0, S_LOADING = 2'd1, S_OPEN = 2'd2;

    localparam [31:0] HDR_LEN = `FCAP_BLOCK_HEADER_LEN;
    localparam [31:0] MIN_PAD = `FCAP_MIN_PAD_LEN;
    localparam [15:0] RING    = RING_ID;
    localparam [31:0] FMT_VER = `FCAP_BLOCK_FORMAT_VERSION;
    localparam [3:0]  RING4   = RING_ID;

    reg [1:0]            state;
    reg [TABLE_ADDR_W:0] slot;
    reg [63:0]           base;
    reg [31:0]           offset;
    reg [31:0]           rec_count;
    reg [63:0]           min_ts, max_ts;
    reg [31:0]           drops;        // records refused since the last close
    reg [31:0]           age;          // clocks since the block's first record

    wire [31:0] in_flight  = prod_idx - cons_idx;
    wire        cfg_ok     = (cfg_blocks != 32'd0) && (cfg_block_size >= 32'd4096)
                             && (cfg_table_base + cfg_blocks <= (32'd1 << TABLE_ADDR_W));
    wire        block_free = cfg_ok && (in_flight < cfg_blocks) && !reset_pending;
    wire [31:0] room       = cfg_block_size - offset;
    wire        fits       = (req_len == room) || ({1'b0, req_len} + {1'b0, MIN_PAD} <= {1'b0, room});
    wire        full       = offset == cfg_block_size;
    wire        timed_out  = (cfg_timeout != 32'd0) && (rec_count != 32'd0) && (age >= cfg_timeout);
    wire        flush_now  = flush_pending && (rec_count != 32'd0);
    wire        no_fit     = req_here && !fits && rec_count != 32'd0;
    wire        open       = state == S_OPEN;

    assign must_close  = open && !reset_pending && (full || timed_out || flush_now || no_fit);
    assign can_place   = open && !reset_pending && !must_close && fits;
    assign must_reject = reset_pending || (state == S_WAIT && !block_free)
                         || (open && !fits && rec_count == 32'd0);
    assign want_load   = state == S_WAIT && block_free;
    /* verilator lint_off UNUSEDSIGNAL */ // cfg_ok keeps it below the table size
    wire [31:0] entry  = cfg_table_base + {{(31-TABLE_ADDR_W){1'b0}}, slot};
    /* verilator lint_on UNUSEDSIGNAL */
    assign table_index = entry[TABLE_ADDR_W-1:0];
    assign place_addr  = base + {32'd0, offset};
    assign block_open  = open;
    assign ring_full   = state == S_WAIT && !block_free;

    wire [31:0] close_flags = (full      ? `FCAP_BLOCK_CLOSED_FULL    : 32'd0)
                            | (timed_out ? `FCAP_BLOCK_CLOSED_TIMEOUT : 32'd0)
                            | (flush_now ? `FCAP_BLOCK_CLOSED_FLUSH   : 32'd0)
                            | (no_fit    ? `FCAP_BLOCK_CLOSED_FULL    : 32'd0);
    wire [511:0] header = {HDR_LEN, 32'd0,                 // word 7: length, reserved
                           32'd0, cfg_block_size,          // word 6
                           close_flags, drops,             // word 5
                           max_ts,                         // word 4
                           min_ts,                         // word 3
                           rec_count, offset,              // word 2: records, bytes used
                           prod_idx, RING, FMT_VER[15:0],  // word 1: sequence number
                           HDR_LEN, `FCAP_BT_BLOCK_HEADER};// word 0
    assign close_data = {RING4, prod_idx + 32'd1, cfg_status_addr, cfg_block_size, offset, base, header};

    always @(posedge clk) begin
        if (rst) begin
            state         <= S_WAIT;
            slot          <= {(TABLE_ADDR_W+1){1'b0}};
            prod_idx      <= 32'd0;
            offset        <= HDR_LEN;
            rec_count     <= 32'd0;
            drops         <= 32'd0;
            age           <= 32'd0;
            flush_pending <= 1'b0;
        end else begin
            if (ring_drop && drops != 32'hFFFF_FFFF)
                drops <= drops + 32'd1;
            if (rec_count != 32'd0 && age != 32'hFFFF_FFFF)
                age <= age + 32'd1;
            // A flush is for the block open now; with none open there is
            // nothing to flush and nothing is kept for the next one.
            if (flush_req && open)
                flush_pending <= 1'b1;
            else if (!open || (flush_pending && rec_count == 32'd0))
                flush_pending <= 1'b0;

            case (state)
            S_WAIT: if (load_grant)
                state <= S_LOADING;

            S_LOADING: begin
                base      <= table_data;
                offset    <= HDR_LEN;
                rec_count <= 32'd0;
                age       <= 32'd0;
                state     <= S_OPEN;
            end

            S_OPEN: begin
                if (close_grant) begin
                    prod_idx      <= prod_idx + 32'd1;
                    drops         <= {31'd0, ring_drop};
                    flush_pending <= 1'b0;
                    slot          <= (slot + 1'b1 >= cfg_blocks[TABLE_ADDR_W:0])
                                     ? {(TABLE_ADDR_W+1){1'b0}} : slot + 1'b1;
                    state         <= S_WAIT;
                end else if (place) begin
                    offset    <= offset + req_len;
                    rec_count <= rec_count + 32'd1;
                    if (rec_count == 32'd0 || req_ts < min_ts)
                        min_ts <= req_ts;
                    if (rec_count == 32'd0 || req_ts > max_ts)
                        max_ts <= req_ts;
                    if (rec_count == 32'd0)
                        age <= 32'd0;
                end
            end

            default: state <= S_WAIT;
            endcase
        end
    end

    // ---- checks of what this module's users promise (simulation only;
    // Yosys defines SYNTHESIS). A broken promise stops the simulation.
`ifndef SYNTHESIS
    always @(posedge clk) begin
        if (!rst && place && !can_place) begin
            $display("%m: a record placed in a ring that cannot take it");
            $stop;
        end
        if (!rst && open && offset > cfg_block_size) begin
            $display("%m: block filled past its size (offset %0d, size %0d)", offset, cfg_block_size);
            $stop;
        end
    end
`endif
endmodule
`default_nettype wire
