`default_nettype none
// fcap_pps: latches the card's time at each rising edge of a PPS input.
//
// The pulse-per-second input comes from a GPS receiver or a PTP grandmaster,
// unrelated to the core clock: it is synchronised through two flip-flops, and
// the time stored is that of the clock edge at which the first flop caught
// the rising edge (now_ns delayed by the synchroniser), so the latch is at
// most one core clock after the pulse, as frame timestamps are.
module fcap_pps (
    input  wire        clk,
    input  wire        rst,
    input  wire        pps_async,
    input  wire [63:0] now_ns,
    output reg  [63:0] pps_time,
    output reg  [31:0] pps_count
);
    wire       pps;
    reg        pps_last;
    reg [63:0] now_d1, now_d2;

    fcap_sync_bits #(.WIDTH(1)) sync_pps (
        .clk (clk), .rst (rst), .in (pps_async), .out (pps)
    );

    always @(posedge clk) begin
        now_d1 <= now_ns;
        now_d2 <= now_d1;
        if (rst) begin
            pps_last  <= 1'b0;
            pps_time  <= 64'd0;
            pps_count <= 32'd0;
        end else begin
            pps_last <= pps;
            if (pps && !pps_last) begin
                pps_time  <= now_d2;
                pps_count <= pps_count + 32'd1;
            end
        end
    end
endmodule
`default_nettype wire
