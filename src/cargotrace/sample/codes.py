"""Valid identifiers (ESR, wagon, IMO) for the sample case, from the check digits that
ingest verifies (reference/checkdigits.py)."""

from __future__ import annotations

from cargotrace.reference.checkdigits import esr_check_digit, imo_check_digit, wagon_check_digit


def esr_valid(code: str) -> bool:
    """True for a 6-digit ESR code whose last digit is its check digit."""
    return len(code) == 6 and code.isdigit() and esr_check_digit(code[:5]) == int(code[5])


def esr_short_form_unambiguous(code: str) -> bool:
    """True when the 5-digit form (check digit dropped) cannot be misread as a 6-digit code
    that lost its leading zero, i.e. when '0' + first five is NOT itself a valid ESR code."""
    five = code[:5]
    return not code.startswith("0") and not esr_valid("0" + five)


def make_wagon(type_digit: int, serial: int) -> str:
    """8-digit wagon number: type digit, six-digit serial, check digit."""
    seven = f"{type_digit}{serial:06d}"
    return seven + str(wagon_check_digit(seven))


def make_imo(first_six: str) -> str:
    return first_six + str(imo_check_digit(first_six))
