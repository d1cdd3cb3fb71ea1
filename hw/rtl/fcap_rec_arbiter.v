`default_nettype none
// fcap_rec_arbiter: several record formatters share one block writer.
//
// Round robin over the formatters asking for room (alloc). The chosen one
// keeps the writer until the writer answers: on a grant, until its record has
// been streamed (rec_last accepted); on a reject, for that clock only. A record
// is therefore never interleaved with another one.
module fcap_rec_arbiter #(
    parameter N = 4
) (
    input  wire            clk,
    input  wire            rst,

    // from the formatters (packed, one slice per formatter)
    input  wire [N-1:0]    in_alloc_req,
    input  wire [N*32-1:0] in_alloc_len,
    input  wire [N*64-1:0] in_alloc_ts,
    output wire [N-1:0]    in_alloc_grant,
    output wire [N-1:0]    in_alloc_reject,
    input  wire [N-1:0]    in_rec_valid,
    input  wire [N*64-1:0] in_rec_data,
    input  wire [N-1:0]    in_rec_last,
    output wire [N-1:0]    in_rec_ready,

    // to the block writer
    output wire            alloc_req,
    output wire [31:0]     alloc_len,
    output wire [63:0]     alloc_ts,
    input  wire            alloc_grant,
    input  wire            alloc_reject,
    output wire            rec_valid,
    output wire [63:0]     rec_data,
    output wire            rec_last,
    input  wire            rec_ready
);
    localparam SEL_W = (N > 1) ? $clog2(N) : 1;

    reg  [SEL_W-1:0] sel;        // formatter being served
    reg              holding;    // sel asked and waits for an answer
    reg              streaming;  // sel was granted and streams its record
    reg  [SEL_W-1:0] last;       // last served, for round robin

    // Next requester after `last`, in circular order.
    reg  [SEL_W-1:0] pick;
    reg              pick_valid;
    /* verilator lint_off UNUSEDSIGNAL */ // idx < N: only its low bits are used
    reg  [31:0]      idx;
    /* verilator lint_on UNUSEDSIGNAL */
    integer i;
    always @* begin
        pick       = last;
        pick_valid = 1'b0;
        idx        = 32'd0;
        for (i = N; i >= 1; i = i - 1) begin
            idx = ({{(32-SEL_W){1'b0}}, last} + i) % N;
            if (in_alloc_req[idx[SEL_W-1:0]]) begin
                pick       = idx[SEL_W-1:0];
                pick_valid = 1'b1;
            end
        end
    end

    wire [SEL_W-1:0] cur = (holding || streaming) ? sel : pick;
    wire             active = holding || streaming || pick_valid;

    assign alloc_req = !streaming && active && in_alloc_req[cur];
    assign alloc_len = in_alloc_len[cur*32 +: 32];
    assign alloc_ts  = in_alloc_ts[cur*64 +: 64];
    assign rec_valid = streaming && in_rec_valid[sel];
    assign rec_data  = in_rec_data[sel*64 +: 64];
    assign rec_last  = in_rec_last[sel];

    genvar g;
    generate
        for (g = 0; g < N; g = g + 1) begin : route
            assign in_alloc_grant[g]  = alloc_req && alloc_grant && cur == g;
            assign in_alloc_reject[g] = alloc_req && alloc_reject && cur == g;
            assign in_rec_ready[g]    = streaming && rec_ready && sel == g;
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            sel       <= {SEL_W{1'b0}};
            last      <= {SEL_W{1'b0}};
            holding   <= 1'b0;
            streaming <= 1'b0;
        end else if (streaming) begin
            if (rec_valid && rec_ready && rec_last)
                streaming <= 1'b0;
        end else if (alloc_req) begin
            sel  <= cur;
            last <= cur;
            holding   <= !(alloc_grant || alloc_reject);
            streaming <= alloc_grant;
        end
    end
endmodule
`default_nettype wire
