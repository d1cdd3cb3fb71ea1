`default_nettype none
// fcap_pkt_fifo: frame data FIFO with commit and rollback.
//
// The write side stores a frame word by word; only at the frame's end does it
// decide: wr_commit makes the frame visible to the reader, wr_drop throws its
// words away (overflow or a lost descriptor). The reader therefore never sees
// part of a frame, and a dropped frame costs no read bandwidth.
// wr_commit and wr_drop apply to the word written in the same cycle too.
//
// The read side is first-word-fall-through with a registered RAM read, so the
// memory maps onto block RAM.
module fcap_pkt_fifo #(
    parameter WIDTH  = 64,
    parameter ADDR_W = 12
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             wr_en,
    input  wire [WIDTH-1:0] wr_data,
    input  wire             wr_commit,
    input  wire             wr_drop,
    output wire             wr_full,
    input  wire             rd_en,
    output reg  [WIDTH-1:0] rd_data,
    output reg              rd_valid,
    output wire             empty
);
    localparam DEPTH = 1 << ADDR_W;

    reg [WIDTH-1:0] mem [0:DEPTH-1];
    reg [ADDR_W:0]  wr_ptr;        // next word to write (uncommitted frame included)
    reg [ADDR_W:0]  wr_ptr_commit; // end of the last committed frame
    reg [ADDR_W:0]  rd_ptr;        // next word to fetch into rd_data

    wire            wr_ok       = wr_en && !wr_full;
    wire [ADDR_W:0] wr_ptr_next = wr_ptr + {{ADDR_W{1'b0}}, wr_ok};
    wire            fetch       = (rd_ptr != wr_ptr_commit) && (!rd_valid || rd_en);

    assign wr_full = (wr_ptr - rd_ptr) == DEPTH[ADDR_W:0];
    assign empty   = !rd_valid && (rd_ptr == wr_ptr_commit) && (wr_ptr == wr_ptr_commit);

    always @(posedge clk) begin
        if (wr_ok)
            mem[wr_ptr[ADDR_W-1:0]] <= wr_data;
        if (fetch)
            rd_data <= mem[rd_ptr[ADDR_W-1:0]];
    end

    always @(posedge clk) begin
        if (rst) begin
            wr_ptr        <= {(ADDR_W+1){1'b0}};
            wr_ptr_commit <= {(ADDR_W+1){1'b0}};
            rd_ptr        <= {(ADDR_W+1){1'b0}};
            rd_valid      <= 1'b0;
        end else begin
            if (wr_drop) begin
                wr_ptr <= wr_ptr_commit;
            end else begin
                wr_ptr <= wr_ptr_next;
                if (wr_commit)
                    wr_ptr_commit <= wr_ptr_next;
            end
            if (fetch) begin
                rd_ptr   <= rd_ptr + 1'b1;
                rd_valid <= 1'b1;
            end else if (rd_en) begin
                rd_valid <= 1'b0;
            end
        end
    end
endmodule
`default_nettype wire
