`default_nettype none
// fcap_time: the card's nanosecond clock.
//
// now_ns advances every core clock by INC_NS + NUM/DEN ns. The fractional part
// is an exact rational (an accumulator that carries one extra ns whenever it
// reaches DEN), so a 3.2 ns or 6.4 ns period never drifts however long the
// card runs; a binary fraction could not represent those periods exactly.
// DEN = 0 means there is no fractional part. The host must keep NUM < DEN.
//
// What a PTP servo needs: set (load a value), adjust (add a signed step in
// one clock, keeping the fractional phase), and trim the frequency by
// changing the increment; inc_* change all together, in one clock, so the
// clock never advances by a mix of old and new increments.
//
// now_ns is the time of the current clock edge: logic that samples it at an
// edge sees that edge's time. set_en and adj_en take effect at the next edge.
module fcap_time #(
    parameter FRAC_W = 32
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              set_en,
    input  wire [63:0]       set_ns,
    input  wire              adj_en,
    input  wire [63:0]       adj_ns,    // two's complement
    input  wire [7:0]        inc_ns,
    input  wire [FRAC_W-1:0] inc_num,
    input  wire [FRAC_W-1:0] inc_den,
    output reg  [63:0]       now_ns
);
    reg  [FRAC_W-1:0] frac_acc;
    wire [FRAC_W:0]   frac_sum   = {1'b0, frac_acc} + {1'b0, inc_num};
    wire              frac_carry = (inc_den != 0) && (frac_sum >= {1'b0, inc_den});
    wire [FRAC_W-1:0] frac_left  = frac_sum[FRAC_W-1:0] - inc_den; // < DEN, so no bit is lost
    wire [63:0]       step_ns    = {56'd0, inc_ns} + {63'd0, frac_carry} + (adj_en ? adj_ns : 64'd0);

    always @(posedge clk) begin
        if (rst) begin
            now_ns   <= 64'd0;
            frac_acc <= {FRAC_W{1'b0}};
        end else if (set_en) begin
            now_ns   <= set_ns;
            frac_acc <= {FRAC_W{1'b0}};
        end else begin
            now_ns   <= now_ns + step_ns;
            frac_acc <= frac_carry ? frac_left : frac_sum[FRAC_W-1:0];
        end
    end
endmodule
`default_nettype wire
