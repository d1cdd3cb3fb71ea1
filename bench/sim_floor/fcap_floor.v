`default_nettype none
// fcap_floor: the least a 4 x 10G card meeting issue 3 must simulate, as a
// yardstick for the simulator-speed goal (bench/sim_speed.sh).
//
// Only what the issue mandates between the MACs and the core: each port in
// its own MAC clock domain, 64-bit beats, crossing into the core clock
// through the card's own asynchronous FIFO (fcap_async_fifo: Gray pointers,
// two-flop synchronisers). The core pops every port each clock and folds each
// port's words into a register, so nothing is optimised away. No timestamps,
// counters, formatter, hash, ring logic or DMA: the real card's model can
// only be slower than this one, driven the same way.
module fcap_floor #(
    parameter PORTS = 4
) (
    input  wire                clk,
    input  wire                rst,
    input  wire [PORTS-1:0]    mac_clk,
    input  wire [PORTS-1:0]    mac_rst,
    input  wire [PORTS*64-1:0] s_axis_tdata,
    input  wire [PORTS-1:0]    s_axis_tvalid,
    input  wire [PORTS-1:0]    s_axis_tlast,
    output reg  [PORTS*64-1:0] fold,     // per port: its words, rotated and XORed
    output reg  [PORTS*32-1:0] frames    // per port: frames the core saw
);
    wire [PORTS*65-1:0] rd_data;
    wire [PORTS-1:0]    rd_valid;

    genvar p;
    generate
        for (p = 0; p < PORTS; p = p + 1) begin : g_port
            /* verilator lint_off PINCONNECTEMPTY */
            fcap_async_fifo #(.WIDTH(65), .ADDR_W(9)) fifo (
                .wr_clk(mac_clk[p]), .wr_rst(mac_rst[p]), .wr_en(s_axis_tvalid[p]),
                .wr_data({s_axis_tlast[p], s_axis_tdata[p*64 +: 64]}),
                .wr_commit(s_axis_tvalid[p] & s_axis_tlast[p]), .wr_drop(1'b0),
                .wr_full(), .wr_used(),
                .rd_clk(clk), .rd_rst(rst), .rd_en(rd_valid[p]),
                .rd_data(rd_data[p*65 +: 65]), .rd_valid(rd_valid[p]), .rd_empty());
            /* verilator lint_on PINCONNECTEMPTY */
        end
    endgenerate

    // Each port's words folded into its own register; its frames counted.
    generate
        for (p = 0; p < PORTS; p = p + 1) begin : g_fold
            always @(posedge clk) begin
                if (rst) begin
                    fold[p*64 +: 64]   <= 64'd0;
                    frames[p*32 +: 32] <= 32'd0;
                end else if (rd_valid[p]) begin
                    fold[p*64 +: 64]   <= {fold[p*64 +: 63], fold[p*64 + 63]} ^ rd_data[p*65 +: 64];
                    frames[p*32 +: 32] <= frames[p*32 +: 32] + {31'd0, rd_data[p*65 + 64]};
                end
            end
        end
    endgenerate
endmodule
`default_nettype wire
