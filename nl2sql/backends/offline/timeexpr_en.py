"""English time expressions for timeexpr: patterns that turn a match into a spec tuple.

A spec is a tuple whose first item names its kind (timeexpr resolves it on an as_of date):
("day", offset), ("daysago", n), ("rel", unit, offset), ("lastn", unit, n), ("nextn", unit, n),
("todate", unit), ("year", y), ("cal", month|quarter|half, index, y), ("date", month, day, y),
("isoweek", week, y), ("shift", years), ("block",) (claims text that must not match at all).
A year slot y holds an int (2025), a relative offset as a string ("+0", "-1") or None (no year said).
"""

from __future__ import annotations

import re
from collections.abc import Callable

YEAR = r"(?:19\d\d|20\d\d|2100)"
_ONES = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
        "seventeen eighteen nineteen".split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_WORD_NUMBERS = {w: i + 1 for i, w in enumerate(_ONES)} | {w: 20 + 10 * i for i, w in enumerate(_TENS)}
NUM = (r"(?P<n>\d{1,3}|(?:" + "|".join(_TENS) + r")(?:[-\s](?:" + "|".join(_ONES[:9]) + "))?|"
        + "|".join(sorted(_ONES, key=len, reverse=True)) + ")")
ORDINALS = {w: i + 1 for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split())}
ORDINAL = r"(?:" + "|".join(ORDINALS) + r"|\d{1,2}(?:st|nd|rd|th))"
_MON = (r"\b(?P<mon>january|february|march|april|may|june|july|august|september|october|november|december"
        r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\b")
_PLAIN_MONTHS = {"january", "february", "april", "june", "july", "august", "september", "october", "november",
                 "december"}  # the others (may, march, abbreviations) also are ordinary words or names
_REL_YEAR = {"this": "+0", "the current": "+0", "the": "+0", "next": "+1"}  # anything else: "-1"
_UNIT = r"(?P<unit>day|week|month|quarter|year)s?"
_NOT_OF = r"(?!\s+of\b)"  # 'the second half of the alphabet' (a period after 'of' is part of the match)


def _ysuf(required: bool = False) -> str:
    """A year after a month, quarter or half: ' 2025', ', 2025', ' of 2025', "'25", ' of last year'."""
    return (r"(?:(?:[\s,]+|\s?[-/]\s?)(?:of\s+|in\s+)?(?:(?:fy|cy)\s?)?(?P<y>" + YEAR + r")\b|\s?['’](?P<yy>\d\d)\b"
            r"|,?\s+(?:of\s+|in\s+)?(?P<ry>this|last|next|previous|prior|the\s+previous|the\s+prior|the\s+current|the)"
            r"\s+year\b)" + ("" if required else "?"))


def number(text: str) -> int:
    text = text.lower()
    return int(text) if text.isdigit() else sum(_WORD_NUMBERS[w] for w in re.split(r"[-\s]+", text))


def ordinal(text: str) -> int:
    text = text.lower()
    return int(text[:-2]) if text[0].isdigit() else ORDINALS[text]


def _y(m: re.Match) -> int | str | None:
    g = m.groupdict()
    if g.get("y"):
        return int(g["y"])
    if g.get("yy"):  # two digits as strptime reads them: '25 is 2025, '99 is 1999
        return int(g["yy"]) + (1900 if int(g["yy"]) >= 69 else 2000)
    if g.get("ry"):
        return _REL_YEAR.get(re.sub(r"\s+", " ", g["ry"].lower()), "-1")
    return None


def _before(m: re.Match, pattern: str) -> bool:
    return re.search(r"(?:" + pattern + r")\s*$", m.string[: m.start()], re.I) is not None


_TIME_WORDS = r"\b(?:in|during|for|since|from|until|till|through|thru|before|after|of|between|and|or|to|vs\.?|versus" \
              r"|against|throughout|across|its|their|our|my)|&"
_TIME_PREP = _TIME_WORDS + r"|\b(?:than|on|over|with)|[-–]"
_YEAR_CONTEXT = _TIME_WORDS + r"|\b(?:show|compare|chart|plot|graph|display|was|were|is|are)|\bcompar\w*\b.*\bwith"
_COUNTED = r"\s+(?:units?|items?|products?|orders?|customers?|pieces?|dollars?|usd|eur|people|users?|rows?|records?" \
           r"|stores?|shops?|employees?|accounts?|transactions?|visits?|sessions?|clicks?|times|days|weeks|months" \
           r"|years|hours|or\s+more|plus)\b|\s*\+"  # 'sales of 2000 units': a count, not a year
_ID = r"\b(?:id|sku|code|no\.?|number|ref|version|v)\s*[:#]?|#"  # 'ID 2025-12', 'sku 2024-01' are identifiers


def _year_ok(m: re.Match) -> bool:
    """A bare year counts in time contexts only: 'in 2025', '2025 revenue', '2024 vs 2025'; not 'top 2025 products'."""
    head, tail = m.string[: m.start()], m.string[m.end():]
    if re.search(r"[-–]\s*$", head):
        return _before(m, YEAR + r"\s*[-–]")  # 2023-2025, not SKU-2025
    if re.match(_COUNTED, tail, re.I):
        return False
    if not head.strip() or re.search(r"[(:;?!,]\s*$", head) or _before(m, _YEAR_CONTEXT):
        return True
    return re.match(r"\s*(?:'s\b|vs\b|versus\b|compared\b|to\s+date\b|so\s+far\b|ytd\b|(?:and|to|through|-|–)\s*"
                    + YEAR + r")", tail, re.I) is not None


def _month_ok(m: re.Match) -> bool:
    """A month name with no year: not part of a name ('March Madness'); may/march/abbreviations need a time word."""
    word = m.group("mon")
    tail = m.string[m.end():]
    if _before(m, r"\b(?:named|called)"):
        return False
    if re.match(r"\s+[A-Z][a-z]", tail) and not re.match(r"\s+" + _MON[2:], tail, re.I):
        return False
    if word.lower() in _PLAIN_MONTHS:
        return True
    joined = r"\s*(?:-|–|to|through|thru|until|till|and|vs\.?|versus|or)\s*"
    return _before(m, _TIME_PREP) or re.match(joined + _MON[2:], tail, re.I) is not None


def _mon(m: re.Match) -> int:
    return "janfebmaraprmayjunjulaugsepoctnovdec".index(m.group("mon")[:3].lower()) // 3 + 1


def _en_rel(m: re.Match) -> tuple:
    unit, word = m.group("unit").lower()[:4], m.group("w").lower()
    unit = {"mont": "month", "quar": "quarter"}.get(unit, unit)
    if unit == "year" and (word == "past" or (m.group("the") and word == "last")):
        return ("lastn", "year", 1)  # "the past year", "the last year": the 12 months ending with this one
    return ("rel", unit, 0 if word in ("this", "current") else 1 if word in ("next", "coming", "following") else -1)


def _slash_date(m: re.Match) -> tuple:
    a, b, y = int(m.group("a")), int(m.group("b")), int(m.group("y"))
    if a == b or (a > 12) != (b > 12):  # 6/6/2025, 13/6/2025, 6/13/2025; 6/9/2025 is either: never guess
        return ("date", min(a, b) if a != b else a, max(a, b), y) if a <= 12 or b <= 12 else ("block",)
    return ("block",)


def _numeric(build: Callable[[re.Match], tuple | None]) -> Callable[[re.Match], tuple | None]:
    """Numeric dates and months, except right after an identifier word, where they are blocked."""
    return lambda m: ("block",) if _before(m, _ID) else build(m)


def _dmy(m: re.Match) -> tuple | None:
    if not (m.group("y") or m.group("sfx") or m.group("of") or _before(m, r"\b(?:on|since|from|until|till|before"
                                                                           r"|after|to|through|and|between)")):
        return None  # 'top 5 May products'
    return ("date", _mon(m), int(m.group("d")), _y(m)) if m.group("y") or _month_ok(m) else None


def _shift(m: re.Match) -> tuple:
    n = (m.group("n") or "a").lower()
    return ("shift", -({"a": 1, "one": 1, "two": 2, "three": 3}.get(n) or int(n)))


def _holiday(m: re.Match) -> tuple:
    name = re.sub(r"\s+", " ", m.group("h").lower()).replace("’", "'").replace("xmas", "christmas")
    name = {"new year's": "new year's day", "new years eve": "new year's eve", "new years day": "new year's day",
            "valentines day": "valentine's day", "singles day": "singles' day", "christmas day": "christmas"}.get(
        name, name)
    return ("holiday", name, _y(m))


_HOLIDAY = (r"\b(?P<h>black\s+friday|cyber\s+monday|thanksgiving|christmas\s+eve|christmas(?:\s+day)?|xmas"
            r"|new\s+year'?s\s+eve|new\s+year'?s(?:\s+day)?|valentine'?s\s+day|halloween|singles'?\s+day)"
            r"(?:,?\s+(?P<y>" + YEAR + r")\b)?")
_TODATE_LETTER = {"y": "year", "q": "quarter", "m": "month", "w": "week"}
PATTERNS: list[tuple[str, Callable[[re.Match], tuple | None]]] = [
    (r"\b(?:days?\s+of\s+(?:the\s+)?(?:week|month)|hours?\s+of\s+(?:the\s+)?day|weekdays?)\b", lambda m: ("block",)),
    (_HOLIDAY, _holiday),
    (r"\b(?:the\s+)?(?:" + NUM + r"\s+)?(?P<unit>day|week|month|quarter|year)s?\s+(?:before|prior|earlier)\b"
     r"(?!\s+(?:last|yesterday|that|this|the|\d))",
     lambda m: ("before", m.group("unit").lower(), number(m.group("n")) if m.group("n") else 1)),
    (r"\b(?:the\s+)?(?:previous|prior|preceding)\s+period\b|\bthe\s+period\s+before\b",
     lambda m: ("before", "period", 1)),
    (r"\b(?:the\s+)?day\s+before\s+yesterday\b", lambda m: ("day", -2)),
    (r"\btoday\b", lambda m: ("day", 0)),
    (r"\byesterday\b", lambda m: ("day", -1)),
    (r"\btomorrow\b", lambda m: ("day", 1)),
    (r"\b(?P<the>the\s+)?(?P<w>this|current|last|previous|prior|past|next|coming|following)\s+(?:(?:fiscal|calendar)"
     r"\s+)?(?P<unit>week|month|quarter|year|half(?:[-\s]year)?)\b", _en_rel),
    (r"\b(?:the\s+)?(?P<unit>week|month|quarter|year)\s+before\s+last\b",
     lambda m: ("rel", m.group("unit").lower(), -2)),
    (r"\b(?:the\s+)?(?:last|past|previous|prior|trailing|rolling|preceding|most\s+recent)\s+" + NUM + r"\s+" + _UNIT
     + r"\b", lambda m: ("lastn", m.group("unit").lower(), number(m.group("n"))) if number(m.group("n")) else None),
    (r"\b(?:the\s+)?(?:next|coming|following|upcoming)\s+" + NUM + r"\s+" + _UNIT + r"\b",
     lambda m: ("nextn", m.group("unit").lower(), number(m.group("n"))) if number(m.group("n")) else None),
    (r"\b(?:ttm|ltm)\b", lambda m: ("lastn", "month", 12)),
    (r"\b" + NUM + r"\s+days?\s+ago\b", lambda m: ("daysago", number(m.group("n")))),
    (r"\b(?P<unit>year|month|quarter|week)[-\s]to[-\s]date\b", lambda m: ("todate", m.group("unit").lower())),
    (r"\b(?:since|from)\s+the\s+(?:beginning|start)\s+of\s+(?:the|this)\s+(?P<unit>year|month|quarter|week)\b",
     lambda m: ("todate", m.group("unit").lower())),
    (r"\b(?P<u>[ymqw])td\b", lambda m: ("todate", _TODATE_LETTER[m.group("u").lower()])),
    (r"\b(?:this|the\s+current|current)\s+(?P<unit>year|month|quarter|week)\s+(?:so\s+far|to\s+date)\b",
     lambda m: ("todate", m.group("unit").lower())),
    (r"\bso\s+far\s+this\s+(?P<unit>year|month|quarter|week)\b", lambda m: ("todate", m.group("unit").lower())),
    (r"\b(?:the\s+)?same\s+(?:period|time|quarter|month|week|day|half|days|stretch|point)\s+(?:of\s+|in\s+)?"
     r"(?:(?:last|the\s+previous|the\s+prior|previous|prior)\s+year|(?P<n>a|one|two|three|[123])\s+years?\s+"
     r"(?:ago|earlier|before|prior)|the\s+year\s+before)\b", _shift),
    (r"\b(?P<n>a|one|two|three|[123])\s+years?\s+(?:earlier|before|prior|ago)\b", _shift),
    (r"\b(?:year[-\s](?:over|on)[-\s]year|yoy|y/y|y-o-y)\b", lambda m: ("shift", -1)),
    (r"(?<![\w$#.,/])(?P<y>" + YEAR + r")(?![\w%]|[-/.]\d{1,2}(?!\d)|[.,]\d)",
     lambda m: ("year", int(m.group("y"))) if _year_ok(m) else None),
    (r"\b(?:fy|cy)\s?(?:(?P<y>" + YEAR + r")|['’]?(?P<yy>\d\d))\b", lambda m: ("year", _y(m))),
    (r"\b(?:the\s+)?(?:(?:fiscal|calendar)\s+)?year\s+(?P<y>" + YEAR + r")\b", lambda m: ("year", _y(m))),
    (r"\bfiscal\s+(?P<y>" + YEAR + r")\b", lambda m: ("year", _y(m))),
    (r"(?<=\bof\s)the\s+(?P<unit>year|quarter|month|week)\b", lambda m: ("rel", m.group("unit").lower(), 0)),
    (r"\bq(?P<q>[1-4])\b" + _ysuf(), lambda m: ("cal", "quarter", int(m.group("q")), _y(m))),
    (r"\b(?P<y>" + YEAR + r")\s?[-/]?\s?q(?P<q>[1-4])\b", lambda m: ("cal", "quarter", int(m.group("q")), _y(m))),
    (r"\b(?P<q>[1-4])q\s?(?:(?P<y>" + YEAR + r")|['’]?(?P<yy>\d\d))\b",
     lambda m: ("cal", "quarter", int(m.group("q")), _y(m))),
    (r"\b(?:the\s+)?(?P<o>first|second|third|fourth|1st|2nd|3rd|4th)\s+(?:calendar\s+|fiscal\s+)?quarter\b" + _ysuf()
     + _NOT_OF,
     lambda m: ("cal", "quarter", ordinal(m.group("o")), _y(m))),
    (r"\bh(?P<h>[12])\b" + _ysuf(), lambda m: ("cal", "half", int(m.group("h")), _y(m))),
    (r"\b(?P<y>" + YEAR + r")\s?[-/]?\s?h(?P<h>[12])\b", lambda m: ("cal", "half", int(m.group("h")), _y(m))),
    (r"\b(?P<h>[12])h\s?(?:(?P<y>" + YEAR + r")|['’]?(?P<yy>\d\d))\b",
     lambda m: ("cal", "half", int(m.group("h")), _y(m))),
    (r"\b(?:the\s+)?(?P<o>first|second|1st|2nd)\s+half(?:[-\s]year)?\b" + _ysuf() + _NOT_OF,
     lambda m: ("cal", "half", ordinal(m.group("o")), _y(m))),
    (r"\b(?:the\s+month\s+of\s+)?" + _MON + _ysuf(required=True), lambda m: ("cal", "month", _mon(m), _y(m))),
    (r"(?P<the>\bthe\s+month\s+of\s+)?" + _MON,
     lambda m: ("cal", "month", _mon(m), None) if m.group("the") or _month_ok(m) else None),
    (r"(?<![\d/.-])(?P<y>" + YEAR + r")[-/](?P<m>0?[1-9]|1[0-2])(?![\d/-]|\.\d)",
     _numeric(lambda m: ("cal", "month", int(m.group("m")), _y(m)))),
    (r"(?<![\d/.-])(?P<m>0?[1-9]|1[0-2])/(?P<y>" + YEAR + r")(?![\d/])",
     _numeric(lambda m: ("cal", "month", int(m.group("m")), _y(m)))),
    (r"(?<![\d/.-])(?P<y>" + YEAR + r")(?P<s>[-/.])(?P<m>\d{1,2})(?P=s)(?P<d>\d{1,2})(?!\d)",
     _numeric(lambda m: ("date", int(m.group("m")), int(m.group("d")), _y(m)))),
    (r"(?<![\d/.-])(?P<a>\d{1,2})(?P<s>[-/.])(?P<b>\d{1,2})(?P=s)(?P<y>" + YEAR + r")(?!\d)", _numeric(_slash_date)),
    (_MON + r"\s+(?:the\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?!\s*(?:%|am\b|pm\b|:))(?:,?\s+(?P<y>" + YEAR
     + r")\b)?", lambda m: ("date", _mon(m), int(m.group("d")), _y(m)) if m.group("y") or _month_ok(m) else None),
    (r"\b(?:the\s+)?(?P<d>\d{1,2})(?P<sfx>st|nd|rd|th)?(?P<of>\s+of)?\s+" + _MON + r"(?:,?\s+(?P<y>" + YEAR
     + r")\b)?", _dmy),
    (r"\b(?:iso\s+)?week\s+(?:no\.?\s*|number\s+|#\s*)?(?P<w>\d{1,2})\b(?:(?:\s+of|\s+in|,)?\s+(?P<y>" + YEAR
     + r")\b)?", lambda m: ("isoweek", int(m.group("w")), _y(m))),
    (r"\b(?P<y>" + YEAR + r")-?w(?P<w>\d{2})\b", lambda m: ("isoweek", int(m.group("w")), _y(m))),
    (r"\bw(?P<w>\d{1,2})\s+(?P<y>" + YEAR + r")\b", lambda m: ("isoweek", int(m.group("w")), _y(m))),
]
