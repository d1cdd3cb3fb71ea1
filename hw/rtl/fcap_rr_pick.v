`default_nettype none
// fcap_rr_pick: round-robin choice of one requester among N.
//
// Purely combinational: the requester after `last` (in the order last+1,
// last+2, ..., wrapping, last itself considered at the end) that has its
// req bit set. pick stays `last` and valid low when nobody asks. The owner
// keeps `last` in a register and loads it with pick when it serves one, so
// the one just served goes to the back of the queue.
module fcap_rr_pick #(
    parameter N     = 4,
    parameter SEL_W = (N > 1) ? $clog2(N) : 1
) (
    input  wire [N-1:0]     req,
    input  wire [SEL_W-1:0] last,
    output reg  [SEL_W-1:0] pick,
    output reg              valid
);
    /* verilator lint_off UNUSEDSIGNAL */ // idx < N: only its low bits are used
    reg [31:0] idx;
    /* verilator lint_on UNUSEDSIGNAL */
    integer i;
    // Scanned from the farthest to the nearest: the nearest asking wins.
    always @* begin
        pick  = last;
        valid = 1'b0;
        idx   = 32'd0;
        for (i = N; i >= 1; i = i - 1) begin
            idx = ({{(32-SEL_W){1'b0}}, last} + i) % N;
            if (req[idx[SEL_W-1:0]]) begin
                pick  = idx[SEL_W-1:0];
                valid = 1'b1;
            end
        end
    end
endmodule
`default_nettype wire
