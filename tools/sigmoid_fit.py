#!/usr/bin/env python3
"""Coefficients of the fixed-point sigmoid (host/lib/fixed.h, docs/MODELS.md).

The sigmoid on [s, s + 1), s = 0..7, is a cubic in u in [0, 1): equal to the
sigmoid at both ends, least squares against it in between (2000 Chebyshev
points), coefficients rounded to Q18. Prints the C table of host/lib/quant.c,
then the error of the integer evaluation against the sigmoid over every
input in (-8, 8) at 16 fraction bits, and the largest intermediate product of
Horner's rule (it must stay below 2^31).

    tools/sigmoid_fit.py
"""
import math

Q = 18
SEGS = 8


def sig(z):
    return 1.0 / (1.0 + math.exp(-z))


def fit(s, n=2000):
    """p(u) = L(u) + a u(u-1) + b u^2(u-1): ends exact, a and b least squares."""
    y0, y1 = sig(s), sig(s + 1)
    us = [0.5 - 0.5 * math.cos(math.pi * (i + 0.5) / n) for i in range(n)]
    rows = [(u * (u - 1), u * u * (u - 1), sig(s + u) - (y0 + (y1 - y0) * u)) for u in us]
    a11 = sum(r[0] * r[0] for r in rows)
    a12 = sum(r[0] * r[1] for r in rows)
    a22 = sum(r[1] * r[1] for r in rows)
    b1 = sum(r[0] * r[2] for r in rows)
    b2 = sum(r[1] * r[2] for r in rows)
    det = a11 * a22 - a12 * a12
    a = (b1 * a22 - b2 * a12) / det
    b = (a11 * b2 - a12 * b1) / det
    return [y0, (y1 - y0) - a, a - b, b]


def horner(c, t):
    """The integer evaluation of fixed.h: floor shift after each product."""
    v = c[3]
    v = c[2] + ((t * v) >> 15)
    v = c[1] + ((t * v) >> 15)
    return c[0] + ((t * v) >> 15)


def fixed_sigmoid(z, coef):
    a = min(abs(z), SEGS * 65536 - 1)
    s, t = a >> 16, (a & 0xFFFF) >> 1
    y = (horner(coef[s], t) + 4) >> (Q - 15)
    return 32768 - y if z < 0 else y


def main():
    coef = [[round(c * 2 ** Q) for c in fit(s)] for s in range(SEGS)]
    print("const int32_t fcap_sig_coef[4][SIG_SEGS] = {")
    for k in range(4):
        print("\t{ " + ", ".join(str(coef[s][k]) for s in range(SEGS)) + " },")
    print("};")
    largest = 0
    for c in coef:
        for t in range(32768):
            v = c[3]
            largest = max(largest, abs(t * v))
            v = c[2] + ((t * v) >> 15)
            largest = max(largest, abs(t * v))
            v = c[1] + ((t * v) >> 15)
            largest = max(largest, abs(t * v))
    worst = max(abs(fixed_sigmoid(z, coef) / 32768 - sig(z / 65536)) for z in range(-8 * 65536 + 1, 8 * 65536))
    print(f"/* error inside (-8, 8): {worst:.3e}; largest product {largest} (< 2^31: {largest < 2**31}) */")


if __name__ == "__main__":
    main()
