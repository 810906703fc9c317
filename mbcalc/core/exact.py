"""Exact numbers as text: a fraction's exact decimal, and a short exact form for messages.

Below the views, since the library's own error messages name the numbers they refuse.
"""

from __future__ import annotations

from fractions import Fraction


def exact_decimal(value: Fraction) -> str:
    """The exact decimal of a fraction when it has one (0.4999999, 0.75), else n/d (1/3)."""
    denominator = value.denominator
    twos = fives = 0
    while denominator % 2 == 0:
        denominator //= 2
        twos += 1
    while denominator % 5 == 0:
        denominator //= 5
        fives += 1
    if denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    places = max(twos, fives)
    if not places:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    digits = str(abs((value * 10**places).numerator)).rjust(places + 1, "0")
    whole, fraction = digits[:-places], digits[-places:].rstrip("0")
    return f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}"


def exact_text(value: Fraction) -> str:
    """A number for a message, exact and short: 0.75, 1/3, 1000000000.5, 1e-400, 2.5e+40."""
    text = exact_decimal(value)
    if len(text) <= 24 or "/" in text:
        return text
    whole, _, fraction = text.lstrip("-").partition(".")
    leading_zeros = len(fraction) - len(fraction.lstrip("0"))
    exponent = len(whole) - 1 if whole != "0" else -(leading_zeros + 1)
    significant = (whole + fraction).strip("0")
    mantissa = significant[0] + ("." + significant[1:] if len(significant) > 1 else "")
    sign = "-" if value < 0 else ""
    return f"{sign}{mantissa}e{exponent:+d}" if exponent > 0 else f"{sign}{mantissa}e{exponent}"
