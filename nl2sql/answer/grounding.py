"""The grounding check: every number a narration states must come from the result.

`mentions(text)` finds the numbers in a narration (1,234 · 1.2M · 12.5 % · 3.4万 · 三百 ·
百分之十二点五 · "one billion" · "twelve percent"); `evidence(...)` lists the values a narration
may state (cells, totals, shares, changes, counts) with where each comes from; `check(...)` pairs
each mention with its evidence, within the rounding its written precision allows. Unmatched
mentions make a narration ungrounded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from typing import Any

from nl2sql.answer.measures import measure_kinds, measures_of
from nl2sql.answer.numwords import word_numbers
from nl2sql.answer.shape import group_totals, label, pivot_periods, result_shape
from nl2sql.core.values import as_number, is_numeric_type, is_temporal_type

MAX_EVIDENCE_ROWS = 200  # pairwise facts (shares, changes) only for results this small

_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9,
          "千": 1e3, "万": 1e4, "百万": 1e6, "千万": 1e7, "亿": 1e8}
_ARABIC = re.compile(
    r"(?<![\w.])(?P<sign>[-+−])?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<scale>百万|千万|万|亿|千|thousand|million|billion|bn|mn|[kKmMbB])(?![A-Za-z]))?"
    r"(?P<pct>\s?(?:%|％|percent\b|per cent\b|个百分点|percentage points?))?")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}
_CN_NUMBER = re.compile(r"(?P<pct>百分之)?"
                        r"(?P<num>[零〇一二两三四五六七八九十百千万亿]+(?:点[零〇一二三四五六七八九]+)?)")
# Chinese words that contain numeral characters but are not numbers (unless they sit inside a number:
# 千万 is "by all means" alone but ten million in 一千万)
_CN_NOT_NUMBERS = ("十分", "一些", "一样", "一般", "一直", "一起", "一下", "唯一", "之一", "万一", "千万",
                   "统一", "一致", "一定", "一共", "一旦", "进一步", "第一", "一月", "二月", "三月", "四月", "五月",
                   "六月", "七月", "八月", "九月", "十月", "十一月", "十二月")
# dates are labels, not quantities: strip them before looking for numbers
_CN_NUMERALS = "零〇一二两三四五六七八九十百千万亿点"
_CN_WORDS = re.compile(f"(?<![{_CN_NUMERALS}])(?:{'|'.join(sorted(_CN_NOT_NUMBERS, key=len, reverse=True))})"
                       f"(?![{_CN_NUMERALS}])")
_DATES = re.compile(
    r"\d{4}-\d{1,2}(?:-\d{1,2})?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?|\d{4}年(?:\d{1,2}月(?:\d{1,2}日)?)?"
    r"|\d{1,2}月\d{1,2}日|\d{1,2}月份?|\b[Qq][1-4]\b|第[一二三四1-4]季度|\d{1,2}:\d{2}"
    r"|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\b")


@dataclasses.dataclass(frozen=True)
class Mention:
    """A number as written in a narration, with the value and rounding it implies."""

    text: str
    value: float
    tolerance: float
    percent: bool = False


@dataclasses.dataclass(frozen=True)
class Evidence:
    """A value the result supports, and where it comes from (a cell, a total, a share...)."""

    value: float
    source: str


@dataclasses.dataclass
class Receipt:
    """One claim of a narration and the evidence behind it (None when there is none)."""

    claim: str
    value: float
    source: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"claim": self.claim, "value": self.value, "source": self.source}


@dataclasses.dataclass
class Grounding:
    """The verdict on a narration: its receipts, and the claims nothing supports."""

    receipts: list[Receipt]

    @property
    def unsupported(self) -> list[str]:
        """The numbers as written that no evidence supports."""
        return [r.claim for r in self.receipts if r.source is None]

    @property
    def ok(self) -> bool:
        """True when every number is supported."""
        return not self.unsupported


def _tolerance(digits: str, value: float, scale: float) -> float:
    """Half a unit of the last written digit (trailing zeros of an integer count as rounding)."""
    digits = digits.replace(",", "")
    if "." in digits:
        unit = 10.0 ** -len(digits.split(".")[1])
    elif abs(value) >= 1000:  # "1,200" may be 1,234 rounded; "80" is eighty
        stripped = digits.rstrip("0")
        zeros = len(digits) - len(stripped) if stripped else 0
        unit = 10.0 ** zeros
    else:
        unit = 1.0
    half = unit * scale / 2
    # "100" or "1,000" are usually exact; rounding that loose only applies to big round numbers
    return max(min(half, abs(value) * 0.05), abs(value) * 0.005, 1e-9)


def cn_to_number(text: str) -> float | None:
    """三百 -> 300, 一千二百三十四 -> 1234, 十二点五 -> 12.5, 两万三千 -> 23000; None if malformed."""
    if "点" in text and text[-1] in _CN_BIG:  # 三点五亿
        inner = cn_to_number(text[:-1])
        return None if inner is None else inner * _CN_BIG[text[-1]]
    whole, _, frac = text.partition("点")
    total, section, digit = 0, 0, None
    for ch in whole:
        if ch in _CN_DIGITS:
            # "二〇二五" is written digit by digit
            digit = _CN_DIGITS[ch] if digit is None else digit * 10 + _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
        elif ch in _CN_BIG:
            section += digit or 0
            total = (total + section) * _CN_BIG[ch] if ch == "亿" else total + section * _CN_BIG[ch]
            section, digit = 0, None
        else:
            return None
    number = float(total + section + (digit or 0))
    if frac:
        if any(ch not in _CN_DIGITS for ch in frac):
            return None
        number += float("0." + "".join(str(_CN_DIGITS[ch]) for ch in frac))
    return number


def mentions(text: str) -> list[Mention]:
    """The numbers a narration states (dates excluded), each with the rounding its form implies."""
    text = _DATES.sub(" ", text)
    found: list[Mention] = []
    for m in _ARABIC.finditer(text):
        scale = _SCALE.get((m.group("scale") or "").lower(), _SCALE.get(m.group("scale") or "", 1.0))
        value = float(m.group("num").replace(",", "")) * scale
        found.append(Mention(m.group(0).strip(), value, _tolerance(m.group("num"), value, scale),
                             percent=bool(m.group("pct"))))
    for word in words_written_out(text):
        found.append(word)
    text = _CN_WORDS.sub(" ", text)
    for m in _CN_NUMBER.finditer(text):
        raw = m.group("num")
        # a lone digit character (一个, 三种) is a count word, too common to check
        if len(raw) < 2 and not m.group("pct"):
            continue
        number = cn_to_number(raw)
        if number is None:
            continue
        digits = f"{number:.10g}"
        tol = _tolerance(digits, number, 1.0)
        pct = bool(m.group("pct")) or text[m.end():m.end() + 1] in ("%", "％")
        found.append(Mention(m.group(0), number, tol, percent=pct))
    return found


def words_written_out(text: str) -> list[Mention]:
    """English numbers written in words, as mentions with the rounding their form implies."""
    return [Mention(w.text, w.value, _tolerance(w.digits, w.value, w.scale), percent=w.percent)
            for w in word_numbers(text)]


def _label(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    return str(value)[:40]


def evidence(columns: list[tuple[str, str]], rows: list[tuple[Any, ...]], extra_text: str = "") -> list[Evidence]:
    """Every value a narration of this result may state, with its source.

    Cells; per numeric column its total, mean, min, max; each row's share of the column total;
    changes between consecutive rows and from first to last; the leader's lead over the runner-up;
    the row count and ranks; and numbers in `extra_text` (the question, the SQL, the assumptions).
    """
    out: list[Evidence] = [Evidence(float(len(rows)), "the row count")]
    names = [n for n, _ in columns]
    types = [t.upper() for _, t in columns]
    numeric = [i for i, t in enumerate(types) if is_numeric_type(t)]
    temporal = [i for i, t in enumerate(types) if is_temporal_type(t)]
    label_col = next((i for i in range(len(names)) if i not in numeric), None)
    for r, row in enumerate(rows):
        label = _label(row[label_col]) if label_col is not None else f"row {r + 1}"
        for i in numeric:
            v = as_number(row[i])
            if v is not None:
                out.append(Evidence(v, f"{names[i]} of {label}"))
        for i, value in enumerate(row):
            if i in temporal and isinstance(value, dt.date):
                out.append(Evidence(float(value.year), f"{names[i]} of row {r + 1}"))
            elif i not in numeric and value is not None:
                for m in _ARABIC.finditer(str(value)[:200]):
                    out.append(Evidence(float(m.group("num").replace(",", "")), f"{names[i]} of row {r + 1}"))
    for n in range(1, len(rows) + 1):
        out.append(Evidence(float(n), "a rank or count within the result"))
    for i in numeric:
        col = names[i]
        values = [(_label(row[label_col]) if label_col is not None else f"row {r + 1}", v)
                  for r, row in enumerate(rows) if (v := as_number(row[i])) is not None]
        if not values:
            continue
        nums = [v for _, v in values]
        total = sum(nums)
        out += [Evidence(total, f"total of {col}"), Evidence(total / len(nums), f"average of {col}"),
                Evidence(max(nums) - min(nums), f"range of {col}")]
        if len(values) > MAX_EVIDENCE_ROWS:
            continue
        if total and all(v >= 0 for v in nums):
            out += [Evidence(v / total * 100, f"share of {lab} in total {col}") for lab, v in values]
        if temporal:  # changes over time: step by step, and first to last
            t = temporal[0]
            dated = sorted(((row[t], v) for row in rows if row[t] is not None and (v := as_number(row[i])) is not None),
                           key=lambda p: p[0])
            order = [(_label(d), v) for d, v in dated]
            steps = list(itertools.pairwise(order)) + ([(order[0], order[-1])] if len(order) > 2 else [])
            for (la, a), (lb, b) in steps:
                out.append(Evidence(b - a, f"change in {col} from {la} to {lb}"))
                if a:
                    out.append(Evidence((b - a) / abs(a) * 100, f"% change in {col} from {la} to {lb}"))
                    out.append(Evidence(b / a, f"ratio of {col}, {lb} to {la}"))
        ranked = sorted(values, key=lambda p: -p[1])
        for (l1, v1), (l2, v2) in itertools.pairwise(ranked):  # each one against the next in rank
            out.append(Evidence(v1 - v2, f"lead of {l1} over {l2} in {col}"))
            if v2:
                out += [Evidence((v1 - v2) / abs(v2) * 100, f"% lead of {l1} over {l2} in {col}"),
                        Evidence(v1 / v2, f"ratio of {l1} to {l2} in {col}")]
        if len(ranked) > 2:
            (l1, v1), (l2, v2) = ranked[0], ranked[-1]
            out.append(Evidence(v1 - v2, f"gap between {l1} and {l2} in {col}"))
            if v2:
                out.append(Evidence(v1 / v2, f"ratio of {l1} to {l2} in {col}"))
    out += _shape_evidence(columns, rows)
    for mention in mentions(extra_text):
        out.append(Evidence(mention.value, "the question or the query"))
    for year in re.finditer(r"\b(19|20)\d{2}\b", extra_text):
        out.append(Evidence(float(year.group(0)), "the question or the query"))
    return out


def _changes(first: tuple[str, float], last: tuple[str, float], what: str) -> list[Evidence]:
    (la, a), (lb, b) = first, last
    out = [Evidence(b - a, f"change in {what} from {la} to {lb}")]
    if a:
        out += [Evidence((b - a) / abs(a) * 100, f"% change in {what} from {la} to {lb}"),
                Evidence(b / a, f"ratio of {what}, {lb} to {la}")]
    return out


def _shape_evidence(columns: list[tuple[str, str]], rows: list[tuple[Any, ...]]) -> list[Evidence]:
    """Facts across rows: first-to-last changes of a long series, totals and shares per label of a
    two-way table, and period-over-period changes per label and in total (the comparison)."""
    kinds = measure_kinds(columns, None, rows)
    shape = result_shape(columns, rows, kinds)
    out: list[Evidence] = []
    if len(rows) < 2:
        return out
    for m in measures_of(columns, kinds):
        col = columns[m][0]
        if shape.period is not None and not shape.repeated_periods:
            points = sorted(((r[shape.period], v) for r in rows if r[shape.period] is not None
                             and (v := as_number(r[m])) is not None), key=lambda p: p[0])
            ends = [(label(x, shape.grain), v) for x, v in points[:2] + points[-2:]] if len(points) >= 4 else []
            for first, last in ((0, 3), (1, 3), (0, 2), (1, 2)) if ends else ():  # partial ends left out
                out += _changes(ends[first], ends[last], col)
            if 2 <= len(points) < 4:
                out += _changes((label(points[0][0], shape.grain), points[0][1]),
                                (label(points[-1][0], shape.grain), points[-1][1]), col)
        dims = [*shape.labels, *([shape.period] if shape.period is not None else [])]
        if len(dims) >= 2 and len(rows) <= MAX_EVIDENCE_ROWS:
            for i in dims:
                totals = group_totals(rows, i, m)
                whole = sum(totals.values())
                for name, value in totals.items():
                    out.append(Evidence(value, f"total {col} of {name}"))
                    if whole and all(v >= 0 for v in totals.values()):
                        out.append(Evidence(value / whole * 100, f"share of {name} in total {col}"))
        if shape.period is not None and shape.labels and shape.repeated_periods:
            first, last, table = pivot_periods(rows, shape.period, shape.labels, m)
            a, b = label(first, shape.grain), label(last, shape.grain)
            sums = [sum(x for v in table.values() if (x := v[k]) is not None) for k in (0, 1)]
            out += _changes((a, sums[0]), (b, sums[1]), f"total {col}")
            for name, (x, y) in table.items():
                if x is not None and y is not None:
                    out += _changes((a, x), (b, y), f"{col} of {name}")
    return out


def _matches(mention: Mention, ev: Evidence) -> bool:
    value, target = abs(mention.value), abs(ev.value)
    if abs(value - target) <= mention.tolerance:
        return True
    # 12.5 % may be a fraction (0.125) in the data, and 0.125 may be written as 12.5 %
    return mention.percent and abs(value / 100 - target) <= mention.tolerance / 100


def check(text: str, ev: list[Evidence]) -> Grounding:
    """Pair each number in `text` with the closest evidence within its rounding."""
    receipts = []
    for mention in mentions(text):
        hits = [e for e in ev if _matches(mention, e)]
        best = min(hits, key=lambda e: abs(abs(e.value) - abs(mention.value)), default=None)
        receipts.append(Receipt(mention.text, mention.value, best.source if best else None))
    return Grounding(receipts)
