`default_nettype none
// fcap_flow_hash: the symmetric flow hash of a frame's first 64 bytes.
//
// Toeplitz (the RSS hash) with the 16-bit periodic key 6D 5A 6D 5A ... over
// the endpoints: IPv4 or IPv6 source and destination address, plus source
// and destination port for TCP, UDP and SCTP (IPv4: not for fragments);
// destination and source MAC for anything else. Up to two VLAN tags are
// skipped. host/lib/flowhash.c is the reference, written as plain Toeplitz.
//
// How it is computed here: with a key of period 16, the 32-bit key window an
// input bit selects depends only on the bit's position within its 16-bit
// word, and every field is a whole number of words. So the hash is a fixed
// linear function of the XOR of all the field's words (`fold`): bit c of a
// word (counting from its most significant bit) contributes the key pattern
// rotated left by c. The XOR also makes the hash symmetric: swapping source
// and destination does not change it.
//
// hdr holds frame byte i in bits 8i+7:8i; len is how many are valid (<= 64).
// hash is 0 unless en: the parent asks only in the clock that uses it. In
// hardware that is one AND; in the simulation it is the difference between
// parsing every header on every clock and once per frame (the whole
// computation sits in one block behind `if (en)`, which Verilator keeps as
// a branch). Written as straight assignments, not a function with its own
// branches: Yosys took 90 s to elaborate that form, 11 s this one.
module fcap_flow_hash (
    input  wire         en,
    input  wire [511:0] hdr,
    input  wire [6:0]   len,
    output reg  [31:0]  hash
);
    localparam [31:0] KEY_WORD = 32'h6D5A6D5A;

    function [7:0] byte_at(input [511:0] h, input [6:0] pos);
        byte_at = pos < 7'd64 ? h[{pos[5:0], 3'b000} +: 8] : 8'd0;
    endfunction

    function [15:0] word_at(input [511:0] h, input [6:0] pos); // big-endian
        word_at = {byte_at(h, pos), byte_at(h, pos + 7'd1)};
    endfunction

    function is_vlan(input [15:0] t);
        is_vlan = t == 16'h8100 || t == 16'h88A8;
    endfunction

    function has_ports(input [7:0] proto);
        has_ports = proto == 8'd6 || proto == 8'd17 || proto == 8'd132;
    endfunction

    // Everything in one block behind `if (en)`: the fields first, then the
    // XOR of their words for each kind of frame (fold), then the key.
    always @* begin : compute
        reg        tag0, tag1, ipv4, ipv6, frag, v4ports, v6ports;
        reg [6:0]  toff, l3;
        reg [7:0]  ver, l4;
        /* verilator lint_off UNUSEDSIGNAL */ // the reserved and DF flags have no bearing
        reg [7:0]  frag_hi;                  // flags (7:5), offset (12:8)
        /* verilator lint_on UNUSEDSIGNAL */
        reg [15:0] etype, v4fold, v6fold, macfold, fold;
        integer    k, c;
        tag0 = 1'b0; tag1 = 1'b0; ipv4 = 1'b0; ipv6 = 1'b0; frag = 1'b0; v4ports = 1'b0; v6ports = 1'b0;
        toff = 7'd0; l3 = 7'd0; ver = 8'd0; l4 = 8'd0; frag_hi = 8'd0;
        etype = 16'd0; v4fold = 16'd0; v6fold = 16'd0; macfold = 16'd0; fold = 16'd0;
        hash = 32'd0;
        if (en) begin
            // layer 2: up to two VLAN tags
            tag0  = is_vlan(word_at(hdr, 7'd12)) && len >= 7'd18;
            tag1  = tag0 && is_vlan(word_at(hdr, 7'd16)) && len >= 7'd22;
            toff  = tag1 ? 7'd20 : (tag0 ? 7'd16 : 7'd12);
            etype = word_at(hdr, toff);
            l3    = toff + 7'd2;
            ver   = byte_at(hdr, l3);
            // IPv4
            ipv4    = etype == 16'h0800 && {1'b0, len} >= {1'b0, l3} + 8'd20 && ver[7:4] == 4'd4;
            l4      = {1'b0, l3} + {2'b00, ver[3:0], 2'b00};
            frag_hi = byte_at(hdr, l3 + 7'd6);
            frag    = frag_hi[5] || frag_hi[4:0] != 5'd0 || byte_at(hdr, l3 + 7'd7) != 8'd0;
            v4ports = has_ports(byte_at(hdr, l3 + 7'd9)) && !frag && ver[3:0] >= 4'd5
                      && l4 + 8'd4 <= {1'b0, len};
            v4fold  = word_at(hdr, l3 + 7'd12) ^ word_at(hdr, l3 + 7'd14)
                    ^ word_at(hdr, l3 + 7'd16) ^ word_at(hdr, l3 + 7'd18)
                    ^ (v4ports ? word_at(hdr, l4[6:0]) ^ word_at(hdr, l4[6:0] + 7'd2) : 16'd0);
            // IPv6 (ports only when the next header is TCP, UDP or SCTP)
            ipv6    = etype == 16'h86DD && {1'b0, len} >= {1'b0, l3} + 8'd40 && ver[7:4] == 4'd6;
            v6ports = has_ports(byte_at(hdr, l3 + 7'd6)) && {1'b0, l3} + 8'd44 <= {1'b0, len};
            for (k = 0; k < 16; k = k + 1)
                v6fold = v6fold ^ word_at(hdr, l3 + 7'd8 + 7'd2 * k[6:0]);
            v6fold  = v6fold ^ (v6ports ? word_at(hdr, l3 + 7'd40) ^ word_at(hdr, l3 + 7'd42) : 16'd0);
            // anything else: the two MAC addresses
            macfold = len >= 7'd12 ? word_at(hdr, 7'd0) ^ word_at(hdr, 7'd2) ^ word_at(hdr, 7'd4)
                                   ^ word_at(hdr, 7'd6) ^ word_at(hdr, 7'd8) ^ word_at(hdr, 7'd10)
                                   : 16'd0;
            fold = ipv4 ? v4fold : (ipv6 ? v6fold : macfold);
            for (c = 0; c < 16; c = c + 1)
                if (fold[15 - c])
                    hash = hash ^ ((KEY_WORD << c) | (KEY_WORD >> (32 - c)));
        end
    end
endmodule
`default_nettype wire
