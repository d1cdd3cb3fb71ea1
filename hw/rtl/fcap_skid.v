`default_nettype none
// fcap_skid: a valid/ready register slice with a skid entry.
//
// Cuts every combinational path through it: in_ready and out_valid/out_data
// are registers. Full throughput: one transfer per clock in both directions.
// Used where the card meets the outside (the DMA port), so that the bus's
// ready signal feeds a couple of gates rather than the whole datapath.
module fcap_skid #(
    parameter WIDTH = 64
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             in_valid,
    input  wire [WIDTH-1:0] in_data,
    output wire             in_ready,
    output reg              out_valid,
    output reg  [WIDTH-1:0] out_data,
    input  wire             out_ready
);
    reg             skid_valid;
    reg [WIDTH-1:0] skid_data;

    assign in_ready = !skid_valid;

    always @(posedge clk) begin
        if (rst) begin
            out_valid  <= 1'b0;
            skid_valid <= 1'b0;
        end else if (!out_valid || out_ready) begin
            // the output register is free or being emptied: refill it
            if (skid_valid) begin
                out_valid  <= 1'b1;
                out_data   <= skid_data;
                skid_valid <= 1'b0;
            end else begin
                out_valid <= in_valid;
                out_data  <= in_data;
            end
        end else if (in_valid && in_ready) begin
            // the output is stalled: park the new transfer
            skid_valid <= 1'b1;
            skid_data  <= in_data;
        end
    end
endmodule
`default_nettype wire
