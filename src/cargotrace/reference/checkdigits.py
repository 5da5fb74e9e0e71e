"""Check digits of the identifiers found in rail and maritime records.

Small pure functions; they run on distinct values (a few thousand), never per row.
"""

from __future__ import annotations

import re


def esr_check_digit(first_five: str) -> int:
    """ESR station code check digit: weights 1..5 mod 11; if 10, weights 3..7; if 10 again, 0."""
    digits = [int(c) for c in first_five]
    total = sum(d * w for d, w in zip(digits, range(1, 6), strict=True)) % 11
    if total == 10:
        total = sum(d * w for d, w in zip(digits, range(3, 8), strict=True)) % 11
        if total == 10:
            total = 0
    return total


def normalize_esr(raw: str | None) -> tuple[str | None, str | None]:
    """Return (6-digit ESR code, flag). 5 digits are completed with their check digit; a
    6-digit code whose check digit fails is kept and flagged; a lost leading zero is restored
    when that makes the check digit right."""
    if raw is None:
        return None, None
    text = re.sub(r"\D", "", str(raw))
    if not text:
        return None, "esr_not_numeric"
    if len(text) == 6:
        ok = esr_check_digit(text[:5]) == int(text[5])
        return text, None if ok else "esr_check_digit"
    if len(text) == 5:
        # Either a full code that lost its leading zero, or a code without its check digit.
        # When "0" + text checks, the lost zero is by far the likelier reading (1 in 11 by
        # chance otherwise); the flag says which repair was made so it can be reviewed.
        padded = "0" + text
        if esr_check_digit(padded[:5]) == int(padded[5]):
            return padded, "esr_leading_zero_restored"
        return text + str(esr_check_digit(text)), "esr_check_digit_added"
    if len(text) == 4:
        five = "0" + text
        return five + str(esr_check_digit(five)), "esr_check_digit_added"
    return text, "esr_length"


def wagon_check_digit(first_seven: str) -> int:
    """Wagon number check digit: weights 2,1,2,1,2,1,2 on the first seven digits, the digits
    of the products summed, then up to the next multiple of ten."""
    total = 0
    for digit, weight in zip(first_seven, (2, 1, 2, 1, 2, 1, 2), strict=True):
        product = int(digit) * weight
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def wagon_check_ok(number: str) -> bool:
    """8-digit wagon number whose last digit is its check digit."""
    return bool(re.fullmatch(r"\d{8}", number)) and wagon_check_digit(number[:7]) == int(number[7])


_ISO6346_VALUES = {**{str(d): d for d in range(10)}}
_letter_value = 10
for _letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
    if _letter_value % 11 == 0:
        _letter_value += 1
    _ISO6346_VALUES[_letter] = _letter_value
    _letter_value += 1


def container_check_ok(number: str) -> bool:
    """ISO 6346: owner code (3 letters), category (U/J/Z), 6-digit serial, check digit."""
    text = re.sub(r"[\s-]", "", number.upper())
    if not re.fullmatch(r"[A-Z]{3}[UJZ]\d{7}", text):
        return False
    total = sum(_ISO6346_VALUES[c] * (2**i) for i, c in enumerate(text[:10]))
    return bool(total % 11 % 10 == int(text[10]))


def imo_check_digit(first_six: str) -> int:
    """IMO ship number check digit: sum(d_i * (7 - i)) mod 10."""
    return sum(int(d) * w for d, w in zip(first_six, range(7, 1, -1), strict=True)) % 10


def imo_check_ok(number: str) -> bool:
    """IMO ship number: 7 digits, the last its check digit."""
    text = re.sub(r"^IMO\s*", "", str(number).strip().upper())
    return bool(re.fullmatch(r"\d{7}", text)) and imo_check_digit(text[:6]) == int(text[6])


def inn_check_ok(inn: str) -> bool:
    """Russian taxpayer number (INN), 10 digits for organisations, 12 for persons."""
    if not re.fullmatch(r"\d{10}|\d{12}", inn):
        return False
    digits = [int(c) for c in inn]

    def check(weights: tuple[int, ...]) -> int:
        return sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10

    if len(digits) == 10:
        return check((2, 4, 10, 3, 5, 9, 4, 6, 8)) == digits[9]
    return (
        check((7, 2, 4, 10, 3, 5, 9, 4, 6, 8)) == digits[10]
        and check((3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)) == digits[11]
    )


def ogrn_check_ok(ogrn: str) -> bool:
    """Russian state registration number: OGRN (13 digits, organisations) or OGRNIP (15,
    individual entrepreneurs). The last digit is the rest of the number mod 11 (mod 13 for
    OGRNIP), taken mod 10."""
    if not re.fullmatch(r"\d{13}|\d{15}", ogrn):
        return False
    body, check = int(ogrn[:-1]), int(ogrn[-1])
    return body % (11 if len(ogrn) == 13 else 13) % 10 == check
