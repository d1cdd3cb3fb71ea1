`default_nettype none
// fcap_fifo: small synchronous first-word-fall-through FIFO.
//
// rd_valid says rd_data holds the oldest entry; rd_en pops it. Writes while
// full are ignored (callers check full first and count the loss themselves).
// Used for descriptors, where depth is small and distributed RAM is fine.
module fcap_fifo #(
    parameter WIDTH  = 8,
    parameter ADDR_W = 4
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             wr_en,
    input  wire [WIDTH-1:0] wr_data,
    output wire             full,
    input  wire             rd_en,
    output wire [WIDTH-1:0] rd_data,
    output wire             rd_valid
);
    localparam DEPTH = 1 << ADDR_W;

    reg [WIDTH-1:0] mem [0:DEPTH-1];
    reg [ADDR_W:0]  wr_ptr;
    reg [ADDR_W:0]  rd_ptr;

    assign full     = (wr_ptr - rd_ptr) == DEPTH[ADDR_W:0];
    assign rd_valid = wr_ptr != rd_ptr;
    assign rd_data  = mem[rd_ptr[ADDR_W-1:0]];

    always @(posedge clk) begin
        if (wr_en && !full)
            mem[wr_ptr[ADDR_W-1:0]] <= wr_data;
    end

    always @(posedge clk) begin
        if (rst) begin
            wr_ptr <= {(ADDR_W+1){1'b0}};
            rd_ptr <= {(ADDR_W+1){1'b0}};
        end else begin
            if (wr_en && !full)
                wr_ptr <= wr_ptr + 1'b1;
            if (rd_en && rd_valid)
                rd_ptr <= rd_ptr + 1'b1;
        end
    end

    // ---- checks of what this module's users promise (simulation only;
    // Yosys defines SYNTHESIS). A broken promise stops the simulation.
`ifndef SYNTHESIS
    always @(posedge clk) begin
        if (!rst && wr_en && full) begin
            $display("%m: written while full (the entry would be lost)");
            $stop;
        end
        if (!rst && rd_en && !rd_valid) begin
            $display("%m: read while empty");
            $stop;
        end
    end
`endif
endmodule
`default_nettype wire
