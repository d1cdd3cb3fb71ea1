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
// a branch).
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

    // The XOR of the words of the endpoints (see above).
    function [15:0] endpoint_fold(input [511:0] h, input [6:0] n);
        reg        tag0, tag1, ipv4, ipv6, frag, ports;
        reg [6:0]  toff, l3;
        reg [6:0]  pos;
        reg [7:0]  ver, l4;
        /* verilator lint_off UNUSEDSIGNAL */ // the reserved and DF flags have no bearing
        reg [7:0]  flags;
        /* verilator lint_on UNUSEDSIGNAL */
        reg [15:0] etype, f;
        integer    k;
        begin
            // Layer 2: up to two VLAN tags.
            tag0  = is_vlan(word_at(h, 7'd12)) && n >= 7'd18;
            tag1  = tag0 && is_vlan(word_at(h, 7'd16)) && n >= 7'd22;
            toff  = tag1 ? 7'd20 : (tag0 ? 7'd16 : 7'd12);
            etype = word_at(h, toff);
            l3    = toff + 7'd2;
            ver   = byte_at(h, l3);
            ipv4  = etype == 16'h0800 && {1'b0, n} >= {1'b0, l3} + 8'd20 && ver[7:4] == 4'd4;
            ipv6  = etype == 16'h86DD && {1'b0, n} >= {1'b0, l3} + 8'd40 && ver[7:4] == 4'd6;
            f     = 16'd0;
            if (ipv4) begin
                l4    = {1'b0, l3} + {2'b00, ver[3:0], 2'b00};
                flags = byte_at(h, l3 + 7'd6);   // flags (7:5), offset (12:8)
                frag  = flags[5] || flags[4:0] != 5'd0 || byte_at(h, l3 + 7'd7) != 8'd0;
                ports = has_ports(byte_at(h, l3 + 7'd9)) && !frag && ver[3:0] >= 4'd5
                        && l4 + 8'd4 <= {1'b0, n};
                f = word_at(h, l3 + 7'd12) ^ word_at(h, l3 + 7'd14)
                  ^ word_at(h, l3 + 7'd16) ^ word_at(h, l3 + 7'd18);
                if (ports)
                    f = f ^ word_at(h, l4[6:0]) ^ word_at(h, l4[6:0] + 7'd2);
            end else if (ipv6) begin
                // ports only when the next header is TCP, UDP or SCTP
                pos = l3 + 7'd8;
                for (k = 0; k < 16; k = k + 1) begin
                    f   = f ^ word_at(h, pos);
                    pos = pos + 7'd2;
                end
                if (has_ports(byte_at(h, l3 + 7'd6)) && {1'b0, l3} + 8'd44 <= {1'b0, n})
                    f = f ^ word_at(h, l3 + 7'd40) ^ word_at(h, l3 + 7'd42);
            end else if (n >= 7'd12) begin
                // anything else: the two MAC addresses
                pos = 7'd0;
                for (k = 0; k < 6; k = k + 1) begin
                    f   = f ^ word_at(h, pos);
                    pos = pos + 7'd2;
                end
            end
            endpoint_fold = f;
        end
    endfunction

    reg [15:0] fold;
    integer c;
    always @* begin
        hash = 32'd0;
        fold = 16'd0;
        if (en) begin
            fold = endpoint_fold(hdr, len);
            for (c = 0; c < 16; c = c + 1)
                if (fold[15 - c])
                    hash = hash ^ ((KEY_WORD << c) | (KEY_WORD >> (32 - c)));
        end
    end
endmodule
`default_nettype wire
