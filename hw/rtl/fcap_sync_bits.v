`default_nettype none
// fcap_sync_bits: two-flop synchroniser for signals entering clk's domain.
//
// Only for single bits or for Gray-coded values, where at most one bit
// changes per source clock: then every value the destination samples is one
// the source really held (old or new), never a mix.
module fcap_sync_bits #(
    parameter WIDTH = 1
) (
    input  wire             clk,
    input  wire             rst,
    input  wire [WIDTH-1:0] in,
    output wire [WIDTH-1:0] out
);
    reg [WIDTH-1:0] meta;
    reg [WIDTH-1:0] sync;

    always @(posedge clk) begin
        if (rst) begin
            meta <= {WIDTH{1'b0}};
            sync <= {WIDTH{1'b0}};
        end else begin
            meta <= in;
            sync <= meta;
        end
    end

    assign out = sync;
endmodule
`default_nettype wire
