"""Legal forms: recognised at the start or end of a name, in Russian (either script) and
English, removed from the name and kept as a canonical code.

`ООО`, `OOO`, `LLC`, `Limited Liability Company` and «Общество с ограниченной
ответственностью» are one form (LLC); `ЗАО`/`CJSC`, `ОАО`/`OJSC`, `ПАО`/`PJSC`,
`АО`/`JSC`, `ФГУП`/`FSUE` and so on. Codes fall into families: two names whose forms come
from different families (an LLC and a joint-stock company) are probably different
companies. ZAO/OAO/AO/PAO are one family, since the 2014 reform renamed them into one
another.
"""

from __future__ import annotations

from cargotrace.screening.translit import skeleton

# code, family, spellings (upper-case Latin; Cyrillic forms are transliterated first)
_FORMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("LLC", "limited", ("OOO", "LLC", "L L C", "TOV", "TOO", "LTD", "LIMITED", "CO LTD", "CO LIMITED",
                        "COMPANY LIMITED", "LIMITED LIABILITY COMPANY", "LIMITED LIABILITY CO",
                        "OBSHCHESTVO S OGRANICHENNOY OTVETSTVENNOSTYU", "OBSHCHESTVO S OGRANICHENNOI OTVETSTVENNOSTIU",
                        "TOVARISHCHESTVO S OGRANICHENNOY OTVETSTVENNOSTYU", "PTE LTD", "PVT LTD", "PRIVATE LIMITED",
                        "SDN BHD", "GMBH", "SRL", "SARL", "BV", "SP Z O O", "FZE", "FZCO", "FZ LLC", "LLP", "OOD", "EOOD")),
    ("JSC", "stock", ("AO", "JSC", "AKTSIONERNOE OBSHCHESTVO", "AKTSIONERNOYE OBSHCHESTVO", "JOINT STOCK COMPANY",
                      "JOINT-STOCK COMPANY", "AS", "ASA", "AB", "AG", "SA", "S A", "NV", "PLC", "OYJ", "SPA")),
    ("PJSC", "stock", ("PAO", "PJSC", "PUBLICHNOE AKTSIONERNOE OBSHCHESTVO", "PUBLIC JOINT STOCK COMPANY")),
    ("CJSC", "stock", ("ZAO", "CJSC", "ZAKRYTOE AKTSIONERNOE OBSHCHESTVO", "CLOSED JOINT STOCK COMPANY")),
    ("OJSC", "stock", ("OAO", "OJSC", "OTKRYTOE AKTSIONERNOE OBSHCHESTVO", "OPEN JOINT STOCK COMPANY")),
    ("NJSC", "stock", ("NAO", "NEPUBLICHNOE AKTSIONERNOE OBSHCHESTVO", "NON-PUBLIC JOINT STOCK COMPANY")),
    ("FSUE", "state", ("FGUP", "FSUE", "FEDERALNOE GOSUDARSTVENNOE UNITARNOE PREDPRIYATIE",
                       "FEDERAL STATE UNITARY ENTERPRISE")),
    ("SUE", "state", ("GUP", "SUE", "GOSUDARSTVENNOE UNITARNOE PREDPRIYATIE", "STATE UNITARY ENTERPRISE")),
    ("MUE", "state", ("MUP", "MUNITSIPALNOE UNITARNOE PREDPRIYATIE", "MUNICIPAL UNITARY ENTERPRISE")),
    ("FKP", "state", ("FKP", "FEDERALNOE KAZENNOE PREDPRIYATIE", "FEDERAL STATE OWNED ENTERPRISE",
                      "FEDERAL TREASURY ENTERPRISE")),
    ("FSBI", "state", ("FGBU", "FSBI", "FEDERALNOE GOSUDARSTVENNOE BYUDZHETNOE UCHREZHDENIE",
                       "FEDERAL STATE BUDGETARY INSTITUTION")),
    ("ANO", "nonprofit", ("ANO", "AVTONOMNAYA NEKOMMERCHESKAYA ORGANIZATSIYA", "AUTONOMOUS NON-PROFIT ORGANIZATION",
                          "AUTONOMOUS NONPROFIT ORGANIZATION")),
    ("IE", "individual", ("IP", "INDIVIDUALNYY PREDPRINIMATEL", "INDIVIDUAL ENTREPRENEUR")),
    ("INC", "generic", ("INC", "INCORPORATED", "CORP", "CORPORATION", "CO", "COMPANY", "KOMPANIYA")),
)  # fmt: skip


def _key(phrase: str) -> tuple[str, ...]:
    return tuple(skeleton(t) for t in phrase.replace("-", " ").split())


# skeleton-token sequence -> (code, family); longest phrases are tried first
_BY_KEY: dict[tuple[str, ...], tuple[str, str]] = {}
for _code, _family, _spellings in _FORMS:
    for _spelling in _spellings:
        _BY_KEY.setdefault(_key(_spelling), (_code, _family))
_LENGTHS = sorted({len(k) for k in _BY_KEY}, reverse=True)
FAMILY = {code: family for code, family, _ in _FORMS}


def split_legal_form(skel_tokens: list[str]) -> tuple[int, int, str | None]:
    """(start, end, code): the slice of `skel_tokens` left once legal forms are taken off
    the front and back, and the first form found. At least one token always remains."""
    start, end, code = 0, len(skel_tokens), None
    changed = True
    while changed:
        changed = False
        for n in _LENGTHS:
            if end - start - n < 1:
                continue
            head = _BY_KEY.get(tuple(skel_tokens[start : start + n]))
            if head:
                code, start, changed = code or head[0], start + n, True
                break
            tail = _BY_KEY.get(tuple(skel_tokens[end - n : end]))
            if tail:
                code, end, changed = code or tail[0], end - n, True
                break
    return start, end, code


def compatible(a: str | None, b: str | None) -> bool:
    """False only when both forms are known and come from different families."""
    if not a or not b:
        return True
    fa, fb = FAMILY.get(a, "generic"), FAMILY.get(b, "generic")
    return fa == fb or "generic" in (fa, fb)
