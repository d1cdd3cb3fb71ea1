`default_nettype none
// fcap_irq_mod: interrupt moderation for one ring.
//
// Counts blocks published since the ring last signalled. It signals (fire)
// when that count reaches IRQ_COUNT, or when IRQ_TIME clocks have passed
// since the first of them, whichever comes first. IRQ_COUNT 0 or 1 signals
// every block; IRQ_TIME 0 never signals on time alone. A host that sets a
// count above 1 should also set a time, or the last blocks of a burst wait
// until more traffic comes (or until it polls).
module fcap_irq_mod (
    input  wire        clk,
    input  wire        rst,
    input  wire [31:0] cfg_count,
    input  wire [31:0] cfg_time,
    input  wire        published,
    output wire        fire
);
    reg [31:0] pending;   // blocks published, not yet signalled
    reg [31:0] waited;    // clocks since the first of them

    wire [31:0] pending_next = pending + {31'd0, published};
    wire        by_count = pending_next != 32'd0
                           && (cfg_count <= 32'd1 || pending_next >= cfg_count);
    wire        by_time  = pending != 32'd0 && cfg_time != 32'd0 && waited >= cfg_time;
    assign fire = by_count || by_time;

    always @(posedge clk) begin
        if (rst || fire) begin
            pending <= 32'd0;
            waited  <= 32'd0;
        end else begin
            pending <= pending_next;
            if (pending != 32'd0 && waited != 32'hFFFF_FFFF)
                waited <= waited + 32'd1;
        end
    end
endmodule
`default_nettype wire
