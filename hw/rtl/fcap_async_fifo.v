`default_nettype none
// fcap_async_fifo: FIFO between two unrelated clocks, with frame commit.
//
// The write side stores words; only wr_commit makes them visible to the
// reader, and wr_drop discards every word written since the last commit
// (both apply to a word written in the same cycle). So a frame that overflows
// the FIFO half way is removed whole, and the reader never sees part of one.
// For a FIFO of single entries, assert wr_commit with every wr_en.
//
// Crossing: each side keeps binary pointers and publishes a Gray-coded copy
// in a register; the other side samples it through two flip-flops. A Gray
// count changes one bit per step, so a sample taken mid-change is still a
// pointer value the other side really had (old or new), merely late. Late
// pointers are safe: the writer sees the reader's progress late (so may think
// the FIFO fuller than it is) and the reader sees committed data late.
//
// Read side: first-word-fall-through with a registered RAM read (block RAM).
// Each side has its own synchronous reset; reset both together.
module fcap_async_fifo #(
    parameter WIDTH  = 64,
    parameter ADDR_W = 9
) (
    input  wire             wr_clk,
    input  wire             wr_rst,
    input  wire             wr_en,
    input  wire [WIDTH-1:0] wr_data,
    input  wire             wr_commit,
    input  wire             wr_drop,
    output wire             wr_full,
    output wire [ADDR_W:0]  wr_used,   // words written and not yet known to be read

    input  wire             rd_clk,
    input  wire             rd_rst,
    input  wire             rd_en,
    output reg  [WIDTH-1:0] rd_data,
    output reg              rd_valid,
    output wire             rd_empty    // nothing committed is waiting (rd_valid low too)
);
    localparam DEPTH = 1 << ADDR_W;

    function [ADDR_W:0] bin2gray(input [ADDR_W:0] b);
        bin2gray = b ^ (b >> 1);
    endfunction

    function [ADDR_W:0] gray2bin(input [ADDR_W:0] g);
        integer i;
        begin
            gray2bin[ADDR_W] = g[ADDR_W];
            for (i = ADDR_W - 1; i >= 0; i = i - 1)
                gray2bin[i] = gray2bin[i + 1] ^ g[i];
        end
    endfunction

    reg [WIDTH-1:0] mem [0:DEPTH-1];

    reg  [ADDR_W:0] wr_ptr;          // next word to write (uncommitted included)
    reg  [ADDR_W:0] wr_ptr_commit;   // end of committed data
    reg  [ADDR_W:0] wr_commit_gray;  // published to the read side
    reg  [ADDR_W:0] rd_ptr;          // next word to fetch into rd_data
    reg  [ADDR_W:0] rd_ptr_gray;     // published to the write side

    // ---- write side ----------------------------------------------------------
    wire [ADDR_W:0] rd_ptr_gray_sync;
    wire [ADDR_W:0] rd_ptr_seen = gray2bin(rd_ptr_gray_sync);
    wire            wr_ok       = wr_en && !wr_full;
    wire [ADDR_W:0] wr_ptr_next = wr_ptr + {{ADDR_W{1'b0}}, wr_ok};

    assign wr_used = wr_ptr - rd_ptr_seen;
    assign wr_full = wr_used == DEPTH[ADDR_W:0];

    always @(posedge wr_clk) begin
        if (wr_ok)
            mem[wr_ptr[ADDR_W-1:0]] <= wr_data;
    end

    always @(posedge wr_clk) begin
        if (wr_rst) begin
            wr_ptr         <= {(ADDR_W+1){1'b0}};
            wr_ptr_commit  <= {(ADDR_W+1){1'b0}};
            wr_commit_gray <= {(ADDR_W+1){1'b0}};
        end else begin
            if (wr_drop) begin
                wr_ptr <= wr_ptr_commit;
            end else begin
                wr_ptr <= wr_ptr_next;
                if (wr_commit) begin
                    wr_ptr_commit  <= wr_ptr_next;
                    wr_commit_gray <= bin2gray(wr_ptr_next);
                end
            end
        end
    end

    fcap_sync_bits #(.WIDTH(ADDR_W + 1)) sync_rd_ptr (
        .clk (wr_clk), .rst (wr_rst), .in (rd_ptr_gray), .out (rd_ptr_gray_sync)
    );

    // ---- read side -----------------------------------------------------------
    wire [ADDR_W:0] commit_gray_sync;
    wire [ADDR_W:0] commit_seen = gray2bin(commit_gray_sync);
    wire            fetch = (rd_ptr != commit_seen) && (!rd_valid || rd_en);

    assign rd_empty = !rd_valid && (rd_ptr == commit_seen);

    always @(posedge rd_clk) begin
        if (fetch)
            rd_data <= mem[rd_ptr[ADDR_W-1:0]];
    end

    always @(posedge rd_clk) begin
        if (rd_rst) begin
            rd_ptr      <= {(ADDR_W+1){1'b0}};
            rd_ptr_gray <= {(ADDR_W+1){1'b0}};
            rd_valid    <= 1'b0;
        end else begin
            if (fetch) begin
                rd_ptr      <= rd_ptr + 1'b1;
                rd_ptr_gray <= bin2gray(rd_ptr + 1'b1);
                rd_valid    <= 1'b1;
            end else if (rd_en) begin
                rd_valid <= 1'b0;
            end
        end
    end

    fcap_sync_bits #(.WIDTH(ADDR_W + 1)) sync_commit (
        .clk (rd_clk), .rst (rd_rst), .in (wr_commit_gray), .out (commit_gray_sync)
    );

    // ---- checks of what this module's users promise (simulation only;
    // Yosys defines SYNTHESIS). A broken promise stops the simulation.
    // A write while full is allowed (the word is not stored), but then the
    // frame is broken and the writer must drop it: committing it would hand
    // the reader a frame with a word missing. rd_en is a ready, not a
    // promise: asserting it with nothing valid is harmless.
`ifndef SYNTHESIS
    reg word_lost;  // a word of the uncommitted frame was refused
    always @(posedge wr_clk) begin
        if (wr_rst || wr_drop || wr_commit)
            word_lost <= 1'b0;
        else if (wr_en && wr_full)
            word_lost <= 1'b1;
        if (!wr_rst && wr_commit && !wr_drop && (word_lost || (wr_en && wr_full))) begin
            $display("%m: a frame committed with a word refused while full");
            $stop;
        end
    end
`endif
endmodule
`default_nettype wire
