"""Breakdowns and qualifiers: which terms split the result, which only narrow another term.

A column splits the result ("by region", 各地区, "which campaign"); a table splits it by its
rows' names when asked ("per customer", "top 5 products", 前十的客户); a time grain buckets the
date ("monthly", 每月). A term right next to one of its own values only qualifies it ("the web
channel", "Corporate customers", "social campaigns").
"""

from __future__ import annotations

import re

from nl2sql.backends.offline.lexicon import Term
from nl2sql.backends.offline.match import Hit
from nl2sql.backends.offline.plan import Dim
from nl2sql.backends.offline.reader import Reader

WHICH = re.compile(r"(?:\b(?:which|what)\s+(?:\w+\s+)?|哪个|哪一个|哪些|哪家|哪款|哪位)$")


def _bound(r: Reader, value: Hit) -> Hit | None:
    """The term a value is written against: right after it ('mobile orders', 'Computer Science program',
    企业客户), else right before it ('category Electronics', 'the city of San Francisco')."""
    after = next((h for h in r.p.hits if h.start >= value.end), None)
    before = next((h for h in reversed(r.p.hits) if h.end <= value.start), None)
    candidates = []
    if after is not None and not r.p.text[value.end:after.start].strip():
        candidates.append(after)
    linking = ("", "of", "of the", "the", "named", "called")
    between = r.p.text[before.end:value.start] if before is not None else ""
    excluding = bool(between.strip()) and r.p.quiet(before.end, value.start, ("exclude",)) and r.p.has("exclude") \
        if before is not None else False
    if before is not None and (between.strip() in linking or excluding):
        candidates.append(before)
    for hit in candidates:
        if r.role(hit) not in (None, "qualifier") or hit.verb:
            continue
        tables = {t.table for t in hit.terms if t.kind in ("table", "metric", "column")}
        columns = {(t.table, t.column) for t in hit.of("column")}
        if any((t.table, t.column) in columns or (hit.of("table") and t.table in tables) for t in value.of("value")):
            return hit
    return None


def read_qualifiers(r: Reader) -> None:
    """A term a value is written against only narrows it, and settles which column the value is of."""
    for index, (value, terms, negated) in enumerate(r.pending_values):
        hit = _bound(r, value)
        if hit is None:
            continue
        r.give(hit, "qualifier")
        columns = {(t.table, t.column) for t in hit.of("column")}
        tables = {t.table for t in hit.of("table")}
        preferred = [t for t in terms if (t.table, t.column) in columns] or [t for t in terms if t.table in tables]
        if preferred:
            r.pending_values[index] = (value, preferred, negated)


def read_grains(r: Reader) -> None:
    """'monthly', 'by quarter', 每月: a time bucket (its date column is settled with the period)."""
    for cue in r.p.of("grain"):
        r.add_dim(Dim("", "", grain=str(cue.value), at=cue.start))
    if r.p.has("trend") and not r.plan.grain:
        r.add_dim(Dim("", "", grain="auto"))


def _date_dim(r: Reader, hit: Hit, terms: list[Term]) -> None:
    """A date column named as a breakdown ('by order date', 'per day') is a daily bucket of that date."""
    r.date_hit = hit
    if not r.plan.grain:
        r.add_dim(Dim("", "", grain="day", at=hit.start))
    r.give(hit, "date")


def read_column_dims(r: Reader) -> None:
    """Remaining columns split the result; dates bucket it; measure-like numbers are refused."""
    for hit in r.unused("column"):
        columns = hit.of("column")
        if columns and all(r.column(t).is_temporal for t in columns):
            by = r.p.cue_before(hit, ("by", "rank"), ("function",)) is not None or bool(
                re.search(r"\b(?:which|what)\s+$", r.p.text[max(0, hit.start - 20): hit.start]))
            if by or r.plan.grain:
                _date_dim(r, hit, columns)
            else:
                r.date_hit = hit  # "launched in 2025", "signed up": the date the period is on
                r.give(hit, "date")
            continue
        numeric = all(r.column(t).is_numeric for t in columns)
        asked = r.p.cue_before(hit, ("by",), ("function",)) is not None or bool(
            WHICH.search(r.p.text[max(0, hit.start - 20): hit.start]))
        if numeric and not asked:
            r.loose_cols.append((hit, columns))  # 'cities and their population': shown by a listing, else refused
            continue
        r.pending_cols.append((hit, columns))
        r.give(hit, "dimension")


def read_table_dims(r: Reader) -> None:
    """'per customer', 'each product', 'top 5 products', 'which product', 前十的客户: by the table's names."""
    for hit in r.unused("table"):
        if hit.verb:
            continue
        by_cue = r.p.cue_before(hit, ("by",), ("function", "distinct"))
        table = str(hit.of("table")[0].table)
        if by_cue is not None and r.p.text[by_cue.start:by_cue.end].strip() == "per" and (
                r.avg_of is not None or any(m.agg == "avg" and m.table == table for m in r.plan.measures)):
            continue  # "average revenue per customer", "average shipping cost per order": not a breakdown
        per = by_cue is not None and r.p.text[by_cue.start:by_cue.end].strip() == "per"
        if per and r.avg_of is None and len(r.plan.measures) == 1 and r.plan.measures[0].kind == "metric" and \
                table in r.measure_tables():
            r.avg_of = r.plan.measures.pop()  # "revenue per order", "units per order": a ratio, not a breakdown
            continue
        by = by_cue is not None and not _agent(r, by_cue.start, table)
        ranked = r.p.cue_before(hit, ("rank", "price"), ("function", "only")) is not None or any(
            c.kind == "rank" and c.end <= hit.start and r.p.quiet(c.end, hit.start, ("function", "rank"))
            for c in r.p.cues)
        ranked = ranked or _ranked_across_values(r, hit) or _ranked_after(r, hit)
        which = bool(WHICH.search(r.p.text[max(0, hit.start - 20): hit.start]))
        if (by or ranked or which) and (r.plan.measures or r.avg_of):
            r.add_dim(r.label_dim(table))
            r.give(hit, "dimension")


def _ranked_after(r: Reader, hit: Hit) -> bool:
    """'customers with the most orders', 'the product with the highest revenue'."""
    cue = next((c for c in r.p.of("rank") if c.start >= hit.end), None)
    linking = r"\s*(?:with|that\s+(?:has|have|had)|which\s+(?:has|have|had)|having)\s*"
    return cue is not None and bool(re.fullmatch(linking, r.p.text[hit.end:cue.start]))


def _agent(r: Reader, by_start: int, table: str) -> bool:
    """'orders placed by customers in Europe': after a participle, 'by' names who did it, not a breakdown,
    when the question already narrows that table."""
    before = re.search(r"(\w+)\s*$", r.p.text[:by_start])
    participle = before is not None and re.fullmatch(r"\w+(?:ed|en|wn|ld|ht|de|un)|sold|paid|made|won", before.group(1))
    other_breakdown = any(c.kind in ("by", "grain") and c.start != by_start for c in r.p.cues)
    return bool(participle) and (other_breakdown or any(t.table == table for _, terms, _ in r.pending_values
                                                        for t in terms))


def _ranked_across_values(r: Reader, hit: Hit) -> bool:
    """'top 5 Clothing products': a rank word, then values, then the table."""
    for cue in r.p.of("rank"):
        if cue.end <= hit.start and all(r.role(h) in ("filter", "qualifier") for h in r.p.hits
                                         if cue.end <= h.start < hit.start) and r.p.quiet(
                cue.end, hit.start, ("function", "term", "rank")):
            return True
    return False


def resolve_dims(r: Reader, anchors: list[str]) -> None:
    """Same-named columns resolve to the one joined to the measure; measure-like numbers are refused."""
    for hit, columns in r.pending_cols:
        term = r.pick(columns, anchors, hit.text)
        column = r.column(term)
        if column.is_numeric and (column.profile.distinct or 0) > 50:
            raise r.fail(f"'{hit.text}' is a measure-like number; the offline engine does not break results "
                         "down by it (say 'total', 'average' or 'max' to aggregate it)")
        r.add_dim(Dim(str(term.table), str(term.column), at=hit.start))
    r.pending_cols = []
