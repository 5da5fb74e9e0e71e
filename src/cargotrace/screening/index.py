"""Blocked, vectorised name matching.

Names are indexed under blocking keys (the whole name's compact skeleton, its phonetic
frame, each skeleton token, and the first and last four letters of long tokens for typos;
keys shared by too many names are dropped). A query is compared only with the names that
share a key with it. Candidate pairs are scored in bulk: hash equality for the exact
rules, `rapidfuzz.process.cpdist` for the fuzzy one, so 100,000 names against a full
sanctions list take seconds, not the hours an all-pairs comparison would.

Rules, best first (`how`), with their score:
  exact 1.00       same tokens in the same order after normalisation
  translit 0.97    same romanisation skeleton (ЛЕДИ Р / LEDI R, Obshchestvo / Obschestvo)
  reordered 0.95   same skeleton tokens in another order (PUTIN VLADIMIR / VLADIMIR PUTIN)
  compact 0.95     same letters, other spacing or hyphenation (MAIA-1 / MAIA 1 / MAIA1)
  korean 0.92      Korean romanisation variants, only for Korean entries (Chon/Cheon, Rajin/Najin)
  phonetic 0.90    same consonant frame, only across scripts, one plausible vowel change
                   (ЛЕДИ Р / LADY R)
  fuzzy = ratio    edit similarity of the sorted skeletons >= 0.90, names of 8+ letters
Numbers must agree (MAIA-1 is not MAIA-2, SPARTA IV is not SPARTA II) for every rule but
exact; incompatible legal forms (LLC vs JSC) cost 0.05.
"""

from __future__ import annotations

import gc
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from cargotrace.screening.legalforms import FAMILY
from cargotrace.screening.normalize import NormName

FUZZY_MIN = 0.90
FUZZY_MIN_LETTERS = 8
RESIDUAL_MIN = 0.80  # the differing words of a fuzzy pair
SOUND_MIN_LETTERS = 5  # korean / phonetic rules: shorter names collide too easily
SOUND_MIN_RATIO = 0.70  # ... and the letters must still be mostly the same
LEGAL_FORM_PENALTY = 0.05
MAX_POSTINGS = 250  # token keys shared by more names than this block nothing
HOW = ("exact", "translit", "reordered", "compact", "korean", "phonetic", "fuzzy")
SCORES = np.array([1.0, 0.97, 0.95, 0.95, 0.92, 0.90, 0.0])
_SCRIPTS = {"latin": 0, "cyrillic": 1, "hangul": 2}
_FAMILIES = {"generic": 0, "limited": 1, "stock": 2, "state": 3, "nonprofit": 4, "individual": 5}


@dataclass
class Columns:
    """The arrays one side of a comparison is scored from."""

    tokens: np.ndarray
    skel: np.ndarray
    sorted: np.ndarray
    compact: np.ndarray
    numbers: np.ndarray
    phonetic: np.ndarray
    korean: np.ndarray
    script: np.ndarray
    family: np.ndarray
    letters: np.ndarray
    sorted_text: list[str]
    plain_text: list[str]
    compact_text: list[str]

    @classmethod
    def of(cls, names: list[NormName]) -> Columns:
        def hashes(values: list[str]) -> np.ndarray:
            return np.fromiter(map(hash, values), dtype=np.int64, count=len(values))

        sorted_text = [n.sorted_skel for n in names]
        compact_text = [n.compact for n in names]
        return cls(
            tokens=hashes([n.text for n in names]),
            skel=hashes([n.skel_text for n in names]),
            sorted=hashes(sorted_text),
            compact=hashes(compact_text),
            numbers=hashes([" ".join(n.numbers) for n in names]),
            phonetic=hashes([n.phonetic for n in names]),
            korean=hashes([n.korean for n in names]),
            script=np.array([_SCRIPTS.get(n.script, 3) for n in names], dtype=np.int8),
            family=np.array(
                [_FAMILIES[FAMILY.get(n.legal_form or "", "generic")] for n in names], dtype=np.int8
            ),
            letters=np.array([len(c) for c in compact_text], dtype=np.int32),
            sorted_text=sorted_text,
            plain_text=[" ".join(sorted(n.tokens)) for n in names],
            compact_text=compact_text,
        )


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector paused while screening allocates its many small, acyclic
    objects (names, pairs, hits): its full passes over the catalog cost 10-20 % of the time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def blocking_keys(name: NormName, *, korean: bool) -> list[str]:
    if not name.compact:
        return []
    keys = ["c" + name.compact, "p" + name.phonetic]
    if korean:
        keys.append("k" + name.korean)
    for token in set(name.skel):
        if token.isdigit():
            continue
        if len(token) >= 2:
            keys.append("t" + token)
        if len(token) >= 6:
            keys.extend(("f" + token[:4], "e" + token[-4:]))
    return keys


@dataclass
class Matches:
    """Matched pairs: query index, target index, score, rule index into HOW, and whether
    the legal forms conflict."""

    query: np.ndarray
    target: np.ndarray
    score: np.ndarray
    how: np.ndarray
    form_conflict: np.ndarray
    pairs_compared: int = 0

    def __len__(self) -> int:
        return len(self.query)


class NameIndex:
    """Names of list entries (the targets), indexed for blocked matching."""

    def __init__(self, names: list[NormName], korean: list[bool] | None = None) -> None:
        self.names = names
        self.korean = np.array(korean if korean is not None else [False] * len(names), dtype=bool)
        self.cols = Columns.of(names)
        postings: dict[str, list[int]] = {}
        for i, name in enumerate(names):
            for key in blocking_keys(name, korean=bool(self.korean[i])):
                postings.setdefault(key, []).append(i)
        self.postings = {
            k: v
            for k, v in postings.items()
            if k[0] in "ck" or len(v) <= (MAX_POSTINGS * 4 if k[0] == "p" else MAX_POSTINGS)
        }
        self.dropped_keys = Counter(k[0] for k in postings if k not in self.postings)
        # postings as one flat array with offsets (CSR), so candidates expand in bulk
        self.key_id = {k: i for i, k in enumerate(self.postings)}
        lengths = np.array([len(v) for v in self.postings.values()], dtype=np.int64)
        self.offsets = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(lengths)])
        self.flat = np.fromiter(
            (i for v in self.postings.values() for i in v), dtype=np.int64, count=int(lengths.sum())
        )

    def candidates(self, queries: list[NormName]) -> tuple[np.ndarray, np.ndarray]:
        """(query index, target index) pairs that share a blocking key, each pair once,
        ordered by query then target."""
        query_ids: list[int] = []
        key_ids: list[int] = []
        get = self.key_id.get
        for qi, name in enumerate(queries):
            for key in blocking_keys(name, korean=True):
                k = get(key)
                if k is not None:
                    query_ids.append(qi)
                    key_ids.append(k)
        if not key_ids:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        keys = np.array(key_ids, dtype=np.int64)
        starts = self.offsets[keys]
        lengths = self.offsets[keys + 1] - starts
        q = np.repeat(np.array(query_ids, dtype=np.int64), lengths)
        first = np.cumsum(lengths) - lengths  # where each key's run starts in the output
        t = self.flat[np.repeat(starts - first, lengths) + np.arange(int(lengths.sum()))]
        width = max(1, len(self.names))
        pairs = np.sort(q * width + t, kind="stable")
        pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]
        return pairs // width, pairs % width

    def match(self, queries: list[NormName], *, threshold: float = 0.85) -> Matches:
        qi, ti = self.candidates(queries)
        q, t = Columns.of(queries), self.cols
        compared = len(qi)
        # No rule holds for names of very different lengths (the sound rules need a ratio of
        # 0.70, so the shorter at least 0.54 of the longer; fuzzy 0.90): drop those pairs first.
        lq, lt = q.letters[qi], t.letters[ti]
        near = 2 * np.minimum(lq, lt) >= np.maximum(lq, lt)
        qi, ti = qi[near], ti[near]
        numbers_ok = q.numbers[qi] == t.numbers[ti]
        letters = np.minimum(q.letters[qi], t.letters[ti])
        rules = np.stack([
            q.tokens[qi] == t.tokens[ti],
            (q.skel[qi] == t.skel[ti]) & numbers_ok,
            (q.sorted[qi] == t.sorted[ti]) & numbers_ok,
            (q.compact[qi] == t.compact[ti]) & numbers_ok,
            (q.korean[qi] == t.korean[ti]) & self.korean[ti] & numbers_ok & (letters >= SOUND_MIN_LETTERS),
            (q.phonetic[qi] == t.phonetic[ti]) & numbers_ok & _cross_script(q.script[qi], t.script[ti])
            & (letters >= SOUND_MIN_LETTERS),
        ])  # fmt: skip
        # The sound rules (korean, phonetic) also need the letters to be mostly the same.
        sound_only = rules[4:].any(axis=0) & ~rules[:4].any(axis=0)
        if sound_only.any():
            si = np.flatnonzero(sound_only)
            close = (
                self._ratio(q.compact_text, t.compact_text, qi[si], ti[si], SOUND_MIN_RATIO)
                >= SOUND_MIN_RATIO
            )
            rules[4:, si[~close]] = False
            for k in si[close & rules[5, si] & ~rules[4, si]]:
                if not vowels_compatible(q.compact_text[qi[k]], t.compact_text[ti[k]]):
                    rules[5, k] = False
        any_rule = rules.any(axis=0)
        how = np.where(any_rule, rules.argmax(axis=0), len(HOW) - 1)
        score = np.where(any_rule, SCORES[how], 0.0)
        lq, lt = q.letters[qi], t.letters[ti]
        fuzzy = (
            ~any_rule
            & numbers_ok
            & (letters >= FUZZY_MIN_LETTERS)
            & (np.abs(lq - lt) <= 0.2 * np.maximum(lq, lt))
        )
        if fuzzy.any():
            fi = np.flatnonzero(fuzzy)
            ratio = np.maximum.reduce([
                self._ratio(q.sorted_text, t.sorted_text, qi[fi], ti[fi], FUZZY_MIN),
                self._ratio(q.plain_text, t.plain_text, qi[fi], ti[fi], FUZZY_MIN),
                self._ratio(q.compact_text, t.compact_text, qi[fi], ti[fi], FUZZY_MIN),
            ])  # fmt: skip
            ratio = np.where(ratio >= FUZZY_MIN, np.minimum(np.round(ratio, 3), 0.94), 0.0)
            for j in np.flatnonzero(ratio):
                if not residual_similar(queries[qi[fi[j]]], self.names[ti[fi[j]]]):
                    ratio[j] = 0.0
            score[fi] = ratio
        fq, ft = q.family[qi], t.family[ti]
        conflict = (fq > 0) & (ft > 0) & (fq != ft)
        score = np.where(conflict & (score > 0), score - LEGAL_FORM_PENALTY, score)
        keep = score >= threshold
        return Matches(
            qi[keep], ti[keep], np.round(score[keep], 3), how[keep], conflict[keep], compared
        )

    @staticmethod
    def _ratio(
        a: list[str], b: list[str], ai: np.ndarray, bi: np.ndarray, cutoff: float
    ) -> np.ndarray:
        """Edit similarity (0..1) of a[ai[k]] and b[bi[k]] for every k, on all cores; 0 below
        `cutoff` (which lets rapidfuzz give up early on hopeless pairs)."""
        left = np.asarray(a, dtype=object)[ai].tolist()  # a gather in C, not a Python loop
        right = np.asarray(b, dtype=object)[bi].tolist()
        found = process.cpdist(
            left, right, scorer=fuzz.ratio, workers=-1, score_cutoff=cutoff * 100
        )
        return np.asarray(found, dtype=np.float64) / 100.0


def residual_similar(a: NormName, b: NormName) -> bool:
    """The words two names do not share must themselves be alike: PUTIN VLADIMIR
    VLADIMIROVICH is not GUGNIN VLADIMIR VLADIMIROVICH, however long the shared part, and a
    word with a syllable added (ENERGOPROM / ENERGOPROMFA) is another name."""
    return any(_residual_ok(x, y) for x, y in ((a.skel, b.skel), (a.tokens, b.tokens)))


def _residual_ok(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    ca, cb = Counter(a), Counter(b)
    ra, rb = ca - cb, cb - ca
    if not ra and not rb:
        return True
    if not ra or not rb:
        return False  # one name is the other plus a word: another entity
    left = "".join(t for t in a if t in ra)
    right = "".join(t for t in b if t in rb)
    short, long_ = sorted((left, right), key=len)
    if len(long_) - len(short) >= 2 and (long_.startswith(short) or long_.endswith(short)):
        return False
    if min(len(left), len(right)) >= 4 and Levenshtein.distance(left, right) <= 1:
        return True
    spaced = fuzz.ratio(
        " ".join(sorted(t for t in a if t in ra)), " ".join(sorted(t for t in b if t in rb))
    )
    return max(spaced, fuzz.ratio(left, right)) >= RESIDUAL_MIN * 100


_VOWELS = re.compile(r"[AEIOU]+")
# Vowels a Cyrillic rendering of a foreign name by sound may change (Lady / Леди, Hunter /
# Хантер): at most one vowel of the name, and only one of these pairs.
_VOWEL_SWAPS = {
    frozenset(p) for p in (("A", "E"), ("A", "U"), ("E", "I"), ("EI", "E"), ("AI", "E"))
}


def vowels_compatible(a: str, b: str) -> bool:
    """Same consonant frame assumed; the vowels differ in at most one place, plausibly."""
    diffs = [(x, y) for x, y in zip(_VOWELS.findall(a), _VOWELS.findall(b), strict=False) if x != y]
    return len(diffs) <= 1 and all(frozenset(d) in _VOWEL_SWAPS for d in diffs)


def _cross_script(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairs written in different scripts, one of them Cyrillic or Hangul."""
    crossed: np.ndarray = (a != b) & (((a == 1) | (a == 2)) | ((b == 1) | (b == 2)))
    return crossed
