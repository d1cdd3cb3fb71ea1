`default_nettype none
// fcap_dt_rom: the device tree blob, read-only, one 32-bit word per address.
//
// The blob is compiled from hw/dts/ with dtc at build time. Word i holds blob
// bytes 4i..4i+3 with byte 4i in bits 7:0, so that a little-endian host
// reading the words in order gets the blob's bytes back in order.
// With FCAP_DT_EMBED defined, the contents come from fcap_dt_rom_init.vh
// (hw/tools/dtb2vh.sh), compiled into the model so that a simulator binary
// needs no file at run time; otherwise from INIT_FILE with $readmemh, the
// usual route for FPGA tools. Synchronous read (block RAM).
module fcap_dt_rom #(
    parameter ADDR_W    = 10,
    /* verilator lint_off UNUSEDPARAM */ // unused when FCAP_DT_EMBED is defined
    parameter INIT_FILE = "fcap_dt.hex"
    /* verilator lint_on UNUSEDPARAM */
) (
    input  wire              clk,
    input  wire              rd_en,
    input  wire [ADDR_W-1:0] rd_addr,
    output reg  [31:0]       rd_data
);
    reg [31:0] rom [0:(1<<ADDR_W)-1];

`ifdef FCAP_DT_EMBED
    integer i;
    initial begin
        for (i = 0; i < (1 << ADDR_W); i = i + 1)
            rom[i] = 32'd0;
`include "fcap_dt_rom_init.vh"
    end
`else
    initial $readmemh(INIT_FILE, rom);
`endif

    always @(posedge clk) begin
        if (rd_en)
            rd_data <= rom[rd_addr];
    end
endmodule
`default_nettype wire
