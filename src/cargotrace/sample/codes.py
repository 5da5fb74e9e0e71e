"""Check digits used to plant valid identifiers (ESR, wagon, IMO) in the sample case."""

from __future__ import annotations

WAGON_WEIGHTS = (2, 1, 2, 1, 2, 1, 2)
IMO_WEIGHTS = (7, 6, 5, 4, 3, 2)


def esr_check_digit(first_five: str) -> int:
    """ESR check digit: weights 1..5 mod 11; if 10, weights 3..7; if 10 again, 0."""
    digits = [int(c) for c in first_five]
    total = sum(d * w for d, w in zip(digits, range(1, 6), strict=True)) % 11
    if total == 10:
        total = sum(d * w for d, w in zip(digits, range(3, 8), strict=True)) % 11
        if total == 10:
            total = 0
    return total


def esr_valid(code: str) -> bool:
    """True for a 6-digit ESR code whose last digit is its check digit."""
    return len(code) == 6 and code.isdigit() and esr_check_digit(code[:5]) == int(code[5])


def esr_short_form_unambiguous(code: str) -> bool:
    """True when the 5-digit form (check digit dropped) cannot be misread as a 6-digit code
    that lost its leading zero, i.e. when '0' + first five is NOT itself a valid ESR code."""
    five = code[:5]
    return not code.startswith("0") and not esr_valid("0" + five)


def wagon_check_digit(first_seven: str) -> int:
    """Wagon number check digit: weights 2,1,2,1,... digits of products summed, up to x10."""
    total = 0
    for digit, weight in zip(first_seven, WAGON_WEIGHTS, strict=True):
        product = int(digit) * weight
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def wagon_valid(number: str) -> bool:
    return len(number) == 8 and number.isdigit() and wagon_check_digit(number[:7]) == int(number[7])


def make_wagon(type_digit: int, serial: int) -> str:
    """8-digit wagon number: type digit, six-digit serial, check digit."""
    seven = f"{type_digit}{serial:06d}"
    return seven + str(wagon_check_digit(seven))


def imo_check_digit(first_six: str) -> int:
    return sum(int(d) * w for d, w in zip(first_six, IMO_WEIGHTS, strict=True)) % 10


def make_imo(first_six: str) -> str:
    return first_six + str(imo_check_digit(first_six))
