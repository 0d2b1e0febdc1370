"""Numbers written in English words: "one billion", "twelve percent", "three hundred and five".

`word_numbers(text)` finds them with the value each one states, so the grounding check holds a
narration that writes a number out to the same standard as one that writes digits. A lone small
number word ("one of the regions", "two channels") is left alone, as the Chinese reader leaves
一个 alone: too common as a count word to check.
"""

from __future__ import annotations

import dataclasses
import re

UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_WORD = "|".join([*UNITS, *TENS, "hundred", *SCALES])
_DIGIT = "|".join(list(UNITS)[:10])
NUMBER = re.compile(
    rf"\b(?P<article>an?\s+(?=(?:hundred|{'|'.join(SCALES)})\b))?"
    rf"(?P<words>(?:{_WORD})(?:(?:\s+and\s+|\s+|-)(?:{_WORD}))*)\b"
    rf"(?:\s+point(?P<frac>(?:\s+(?:{_DIGIT})\b)+)(?:\s+(?P<fscale>{'|'.join(SCALES)})\b)?)?"
    r"(?P<pct>\s*(?:%|percent\b|per cent\b|percentage points?\b))?",
    re.IGNORECASE)
SMALLEST_CHECKED = 10  # lone number words below this are count words, not figures


@dataclasses.dataclass(frozen=True)
class WordNumber:
    """A number written in words, as it appears and as the value it states."""

    text: str
    value: float
    digits: str  # the value's significant digits as written ("1" of "one billion"): its rounding
    scale: float  # the scale word that ends it (1e9 for "one billion"), else 1
    percent: bool


def _groups(tokens: list[str]) -> list[list[str]]:
    """Split a run of number words into numbers: "twenty five" is one, "two three" two."""
    groups: list[list[str]] = [[]]
    for token in tokens:
        current = groups[-1]
        last = current[-1] if current else None
        joins = (last is None or token in SCALES or token == "hundred"
                 or (last in TENS and token in UNITS and UNITS[token] < 10)
                 or (last in ("hundred", *SCALES) and token not in ("hundred", *SCALES)))
        if not joins:
            groups.append([])
        groups[-1].append(token)
    return [g for g in groups if g]


def _value(tokens: list[str]) -> float:
    total, current = 0.0, 0.0
    for token in tokens:
        if token in UNITS:
            current += UNITS[token]
        elif token in TENS:
            current += TENS[token]
        elif token == "hundred":
            current = (current or 1) * 100
        else:
            total += (current or 1) * SCALES[token]
            current = 0.0
    return total + current


def word_numbers(text: str) -> list[WordNumber]:
    """The numbers `text` writes in English words (lone words below ten skipped, unless a percent)."""
    found = []
    for m in NUMBER.finditer(text):
        tokens = [t for t in re.split(r"[\s-]+", m.group("words").lower()) if t and t != "and"]
        groups = _groups(tokens)
        for i, group in enumerate(groups):
            last_group = i == len(groups) - 1
            value = _value(group)
            frac = m.group("frac") if last_group else None
            scale = SCALES.get(group[-1], 1.0)
            if frac:  # "one point five million"
                value += float("0." + "".join(str(UNITS[w]) for w in frac.lower().split()))
                if m.group("fscale"):
                    scale = SCALES[m.group("fscale").lower()]
                    value *= scale
            percent = bool(m.group("pct")) and last_group
            alone = len(group) == 1 and group[0] in UNITS and UNITS[group[0]] < SMALLEST_CHECKED
            if alone and not percent and not frac and not (m.group("article") and i == 0):
                continue
            significant = value / scale
            digits = f"{significant:.10g}"
            found.append(WordNumber(" ".join(group) if len(groups) > 1 else m.group(0).strip(), value, digits,
                                    scale, percent))
    return found
