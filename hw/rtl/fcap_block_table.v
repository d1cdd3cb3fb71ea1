`default_nettype none
// fcap_block_table: the ring's block address table.
//
// The host writes each block's 64-bit bus address through the register file,
// one 32-bit half at a time; the block writer reads an entry when it opens a
// block (one clock of latency). Simple dual-port RAM: one write port, one read.
module fcap_block_table #(
    parameter ADDR_W = 9
) (
    input  wire              clk,
    input  wire              wr_en,
    input  wire [ADDR_W-1:0] wr_index,
    input  wire              wr_hi,    // 0: bits 31:0, 1: bits 63:32
    input  wire [31:0]       wr_data,
    input  wire              rd_en,
    input  wire [ADDR_W-1:0] rd_index,
    output reg  [63:0]       rd_data
);
    reg [31:0] mem_lo [0:(1<<ADDR_W)-1];
    reg [31:0] mem_hi [0:(1<<ADDR_W)-1];

    always @(posedge clk) begin
        if (wr_en && !wr_hi)
            mem_lo[wr_index] <= wr_data;
        if (wr_en && wr_hi)
            mem_hi[wr_index] <= wr_data;
        if (rd_en)
            rd_data <= {mem_hi[rd_index], mem_lo[rd_index]};
    end
endmodule
`default_nettype wire
