`default_nettype none
// fcap_rec_fifo: records in 64-bit words in, rows of LANES words out.
//
// A formatter writes one record word by word, then decides: wr_commit makes
// the whole record visible to the reader, wr_drop discards it (its ring had no
// room). Each record starts a new row; a row holds up to LANES words and says
// how many (rd_lanes) and whether it ends its record (rd_last). So the reader
// moves LANES words a clock while the writer fills at one, which is how four
// 64-bit formatters share one 512-bit DMA path.
//
// Storage is one RAM per lane (written one lane at a time, read a row at a
// time) plus a small RAM of row descriptors. Read side: first-word-fall-
// through with registered RAM reads.
module fcap_rec_fifo #(
    parameter LANES      = 8,
    parameter ROW_ADDR_W = 6
) (
    input  wire                clk,
    input  wire                rst,

    input  wire                wr_valid,
    input  wire [63:0]         wr_data,
    input  wire                wr_last,      // last word of the record
    output wire                wr_ready,
    input  wire                wr_commit,    // the record just written is kept
    input  wire                wr_drop,      // ... or discarded

    output reg                 rd_valid,
    output wire [LANES*64-1:0] rd_data,
    output wire [7:0]          rd_lanes,     // words in this row, 1..LANES
    output wire                rd_last,      // this row ends its record
    input  wire                rd_en,
    output wire                empty         // nothing committed waits, rd_valid low
);
    localparam DEPTH  = 1 << ROW_ADDR_W;
    localparam LANE_W = (LANES > 1) ? $clog2(LANES) : 1;
    localparam [31:0] LAST_LANE32 = LANES - 1;
    localparam [LANE_W-1:0] LAST_LANE = LAST_LANE32[LANE_W-1:0];

    reg [ROW_ADDR_W:0] wr_row;      // row being filled (uncommitted rows included)
    reg [ROW_ADDR_W:0] commit_row;  // rows below are committed
    reg [ROW_ADDR_W:0] rd_row;      // next row to fetch
    reg [LANE_W-1:0]   wr_lane;

    wire               write     = wr_valid && wr_ready;
    wire               row_done  = write && (wr_last || wr_lane == LAST_LANE);
    wire [ROW_ADDR_W:0] wr_row_next = wr_row + {{ROW_ADDR_W{1'b0}}, row_done};
    wire               fetch     = (rd_row != commit_row) && (!rd_valid || rd_en);

    assign wr_ready = (wr_row - rd_row) != DEPTH[ROW_ADDR_W:0];
    assign empty    = !rd_valid && rd_row == commit_row;

    // row descriptors: {last, lanes - 1}
    reg [LANE_W:0] meta [0:DEPTH-1];
    reg [LANE_W:0] meta_rd;
    always @(posedge clk) begin
        if (row_done)
            meta[wr_row[ROW_ADDR_W-1:0]] <= {wr_last, wr_lane};
        if (fetch)
            meta_rd <= meta[rd_row[ROW_ADDR_W-1:0]];
    end
    assign rd_last  = meta_rd[LANE_W];
    assign rd_lanes = {{(7-LANE_W){1'b0}}, meta_rd[LANE_W-1:0]} + 8'd1;

    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : lane
            reg [63:0] mem [0:DEPTH-1];
            reg [63:0] q;
            always @(posedge clk) begin
                if (write && wr_lane == l)
                    mem[wr_row[ROW_ADDR_W-1:0]] <= wr_data;
                if (fetch)
                    q <= mem[rd_row[ROW_ADDR_W-1:0]];
            end
            assign rd_data[l*64 +: 64] = q;
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            wr_row     <= {(ROW_ADDR_W+1){1'b0}};
            commit_row <= {(ROW_ADDR_W+1){1'b0}};
            rd_row     <= {(ROW_ADDR_W+1){1'b0}};
            wr_lane    <= {LANE_W{1'b0}};
            rd_valid   <= 1'b0;
        end else begin
            if (wr_drop) begin
                wr_row  <= commit_row;
                wr_lane <= {LANE_W{1'b0}};
            end else begin
                wr_row <= wr_row_next;
                if (write)
                    wr_lane <= row_done ? {LANE_W{1'b0}} : wr_lane + 1'b1;
                if (wr_commit)
                    commit_row <= wr_row_next;
            end
            if (fetch) begin
                rd_row   <= rd_row + 1'b1;
                rd_valid <= 1'b1;
            end else if (rd_en) begin
                rd_valid <= 1'b0;
            end
        end
    end

    // ---- checks of what this module's users promise (simulation only;
    // Yosys defines SYNTHESIS). A broken promise stops the simulation.
`ifndef SYNTHESIS
    always @(posedge clk) begin
        if (!rst && rd_en && !rd_valid) begin
            $display("%m: read while empty");
            $stop;
        end
        if (!rst && wr_commit && wr_drop) begin
            $display("%m: a record both committed and dropped");
            $stop;
        end
    end
`endif
endmodule
`default_nettype wire
