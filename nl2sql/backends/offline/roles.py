"""Roles of the terms: values become filters, numbers conditions, and the measures are found.

Measures come from an aggregate word and the term after it ("average discount"), a count word
and what it counts ("how many customers", 客户有多少), first/last and the event it dates
("first order"), metrics, and, with nothing else, an amount-like column ("spend by channel").
"""

from __future__ import annotations

import itertools
import re

import nl2sql.backends.offline.words as w
from nl2sql.backends.offline.lexicon import metric_of, table_of
from nl2sql.backends.offline.match import Hit
from nl2sql.backends.offline.plan import Filter, Measure, slug
from nl2sql.backends.offline.reader import Reader

_MODIFIERS = ("distinct", "all", "only", "new", "function")


def read_values(r: Reader) -> None:
    """Values become filters; two values of one column around 'vs' become a comparison of that column."""
    compare = r.p.of("compare")
    for hit in r.unused("value"):
        if hit.kinds != {"value"}:
            continue
        negated = r.p.cue_before(hit, ("exclude", "never"), _MODIFIERS) is not None
        values = hit.of("value")
        r.pending_values.append((hit, values, negated))
        r.give(hit, "filter")
    for cue in compare:
        left = [v for v in r.pending_values if v[0].end <= cue.start]
        right = [v for v in r.pending_values if v[0].start >= cue.end]
        if not left or not right:
            left, right = _joined_values(r)  # 企业客户和个人客户的销售额对比, "compare Europe and Asia"
        if not left or not right:
            continue
        cols_b = {(t.table, t.column) for t in right[0][1]}
        shared = [t for t in left[-1][1] if (t.table, t.column) in cols_b]
        if shared:
            r.compared.append((left[-1][0], shared))
            r.p.cues.remove(cue)  # the comparison is of values, not of periods


def _joined_values(r: Reader) -> tuple[list, list]:
    """Two values of one column joined by 'and' / 和 / 与 (with only their own terms around them)."""
    values = r.pending_values
    for a, b in itertools.pairwise(values):
        between = r.p.text[a[0].end:b[0].start]
        if re.fullmatch(r"\s*(?:\w+\s+)?(?:and|&|和|与|跟|及)\s*", between) or re.fullmatch(
                r"[^\s\w]*[\u4e00-\u9fff]{0,4}(?:和|与|跟)", between):
            return [a], [b]
    return [], []


def read_conditions(r: Reader) -> None:
    """'priced over 500', 'shipping cost over 50', 'discounted by 30% or more' -> numeric filters."""
    for cue in r.p.of("cond"):
        hit = r.p.prev_hit(cue.start, ("by",))
        numeric = [t for t in (hit.of("column") if hit else []) if r.column(t).is_numeric]
        if hit is None or not numeric:
            raise r.fail("The offline engine could not tell which column the number compares")
        mentioned = [str(t.table) for h in r.p.hits for t in h.of("table")]
        term = r.pick(numeric, r.measure_tables() or mentioned or [str(numeric[0].table)], hit.text)
        assert cue.cond is not None
        op, value, percent = cue.cond
        column = r.column(term)
        if percent and column.profile.max is not None and float(column.profile.max) <= 1:
            value = value / 100  # 30% of a 0-1 fraction column
        number: object = int(value) if float(value).is_integer() else value
        r.add_filter(Filter(str(term.table), str(term.column), op, [number]))
        r.give(hit, "condition")


def _measure_of_agg(r: Reader, agg: str, hit: Hit, counted: bool) -> Measure | None:
    numeric = [t for t in hit.of("column") if r.column(t).is_numeric or (agg in ("min", "max") and
                                                                        r.column(t).is_temporal)]
    if numeric and not counted:
        tables = [str(t.table) for h in r.p.hits for t in h.of("table")]
        term = r.pick(numeric, tables, hit.text)
        _per_row_or_per_group(r, agg, hit, str(term.table))
        return Measure("agg", f"{agg}_{slug(str(term.column))}", agg=agg, table=term.table, column=term.column)
    metric = hit.of("metric")
    if metric and agg == "sum":
        return Measure("metric", str(metric[0].metric), metric=metric[0].metric)
    if metric or counted:
        return None  # "average revenue", "average number of items": read with per ... below
    return None


def _per_row_or_per_group(r: Reader, agg: str, hit: Hit, table: str) -> None:
    """'average rating of businesses' when ratings are per review: per review or per business? Refused."""
    if agg not in ("avg", "median"):
        return
    following = r.p.next_hit(hit.end)
    if following is None or not following.of("table"):
        return
    if r.p.text[hit.end:following.start].strip() not in ("of", "of the", "for"):
        return
    other = str(following.of("table")[0].table)
    path = r.catalog.join_path(table, other)
    if other != table and len(path) == 2 and any(x.from_table == table and x.to_table == other
                                                  for x in r.catalog.relationships):
        raise r.fail(f"'{agg} {hit.text} of {following.text}' can mean over every {table} row or per {other}; "
                     "the offline engine will not guess")


def read_aggregates(r: Reader) -> None:
    """'average discount', 'total shipping', 'how much did we spend', 平均折扣."""
    for cue in r.p.of("agg"):
        hit = r.p.next_hit(cue.end, (*_MODIFIERS, "count", "per_order", "by", "agg", "grain"))
        if hit is None or r.role(hit):
            raise r.fail(f"The offline engine could not tell what '{r.p.text[cue.start:cue.end]}' applies to")
        counted = any(c.kind == "count" for c in r.p.cues if cue.end <= c.start < hit.start)
        if cue.value == "avg" and _per_bucket(r) and hit.kinds == {"table"} and not counted:
            table = str(hit.of("table")[0].table)
            r.avg_of = Measure("count", table, table=table)  # "average daily tickets"
            r.give(hit, "measure")
            continue
        if cue.value == "avg" and _per_bucket(r) and _additive(r, hit):
            term = hit.of("column")[0]
            r.avg_of = Measure("agg", f"sum_{slug(str(term.column))}", agg="sum", table=term.table, column=term.column)
            r.give(hit, "measure")
            continue  # "average spend per day": the average of the daily totals
        measure = _measure_of_agg(r, str(cue.value), hit, counted)
        if measure is None and cue.value == "avg" and _already_average(r, hit):
            measure = Measure("metric", str(hit.of("metric")[0].metric), metric=hit.of("metric")[0].metric)
        if measure is not None:
            r.plan.measures.append(measure)
            r.give(hit, "measure")
        elif cue.value == "avg" and (hit.of("metric") or counted):
            r.avg_of = _counted(r, hit) if counted else Measure("metric", str(hit.of("metric")[0].metric),
                                                                     metric=hit.of("metric")[0].metric)
            r.give(hit, "measure")
        else:
            raise r.fail(f"The offline engine could not tell how to take the {cue.value} of '{hit.text}'")


def _per_bucket(r: Reader) -> bool:
    """'per day', 'a month', 'daily' (not 'by day')."""
    if any(c.kind == "grain" and not r.p.text[c.start:c.end].lower().startswith("by") for c in r.p.cues):
        return True
    for hit in r.p.hits:
        cue = r.p.cue_before(hit, ("by",), ("function",))
        dated = hit.of("column") and all(r.column(t).is_temporal for t in hit.of("column"))
        if dated and cue is not None and r.p.text[cue.start:cue.end].strip().lower() in ("per", "each", "every"):
            return True
    return False


def _additive(r: Reader, hit: Hit) -> bool:
    """A single amount-like numeric column ('spend', 'cost', 'quantity')."""
    columns = hit.of("column")
    return len({(t.table, t.column) for t in columns}) == 1 and r.column(columns[0]).is_numeric and any(
        a in hit.text.lower() for a in w.ADDITIVE_WORDS)


def _already_average(r: Reader, hit: Hit) -> bool:
    """'average basket size', 'average return rate': the metric is an average or a rate already."""
    for term in hit.of("metric"):
        metric = metric_of(r.catalog, str(term.metric))
        names = " ".join([metric.name, *metric.synonyms]).lower().replace("_", " ")
        if any(w in names for w in ("average", "avg", "mean", "rate", " per ", "率", "平均", "客单价")):
            return True
    return False


def _counted(r: Reader, hit: Hit, start: int = 0) -> Measure:
    """What a count word counts: a table's rows, a metric, a column's distinct values, or a value's rows."""
    if hit.of("metric") and not (hit.of("table") and r.verb is not None):
        name = hit.of("metric")[0].metric
        return Measure("metric", str(name), metric=name)
    if hit.of("table"):
        table = str(hit.of("table")[0].table)
        return Measure("count", table, table=table)
    columns = hit.of("column")
    if columns and all(r.column(t).is_temporal for t in columns):
        r.date_hit = hit  # "how many signups": rows of the table, dated by that column
        return Measure("count", str(columns[0].table), table=columns[0].table)
    if columns:
        tables = [str(t.table) for h in r.p.hits for t in h.of("table")]
        term = r.pick(columns, tables or [str(columns[0].table)], hit.text)
        if r.column(term).is_numeric or re.match(r"total\s", r.p.text[start:hit.start]):
            raise r.fail(f"'number of {hit.text}' could mean their total or how many different values there are; "
                         "say 'total' or 'how many different'")
        return Measure("agg", f"distinct_{slug(str(term.column))}", agg="count_distinct", table=term.table,
                       column=term.column)
    value = hit.of("value")[0]
    return Measure("count", str(value.table), table=value.table)


def _count_target(r: Reader, cue_start: int, cue_end: int, after: bool) -> Hit | None:
    if after:
        hit = r.p.prev_hit(cue_start, ("function",))
        split = hit is not None and r.p.cue_before(hit, ("by",), ("function",)) is not None  # 每个类别有多少个产品
        if hit is not None and hit.kinds & {"table", "column", "metric"} and not hit.verb and not split:
            return hit
    for hit in r.p.hits:
        if hit.start < cue_end:
            continue
        if not r.p.quiet(cue_end, hit.start, (*_MODIFIERS, "agg")) and not all(
                r.role(h) == "filter" for h in r.p.hits if cue_end <= h.start < hit.start):
            return None
        if hit.kinds != {"value"} and not hit.verb:
            return hit
    return None


def read_counts(r: Reader) -> None:
    """'how many customers', 'number of subcategories', 客户数量, 客户有多少, 多少种商品."""
    for cue in r.p.of("count"):
        text = r.p.text[cue.start:cue.end].strip()
        after = text in w.COUNT_ZH_AFTER or text in w.COUNT_ZH
        hit = _count_target(r, cue.start, cue.end, after)
        if hit is None or (r.role(hit) and r.role(hit) != "measure"):
            raise r.fail(f"The offline engine could not tell what '{text}' counts")
        if r.role(hit) == "measure":
            continue  # "average number of ...": taken by the aggregate
        r.plan.measures.append(_counted(r, hit, cue.start))
        r.give(hit, "measure")
    # 客户数量: a column named 数量 (quantity) right after a table is the count of that table
    for hit in r.unused("column"):
        before = r.p.prev_hit(hit.start)
        if hit.text in w.COUNT_ZH_AFTER and before is not None and before.of("table") and before.end == hit.start:
            table = str(before.of("table")[0].table)
            r.plan.measures.append(Measure("count", table, table=table))
            r.give(hit, "count word")
            r.give(before, "measure")


def read_first_last(r: Reader) -> None:
    """'first order', 'last order date', 'when was each product first sold', 最后一次售出的日期 -> MIN/MAX of a date."""
    for cue in r.p.of("first", "last"):
        hit = r.p.next_hit(cue.end, ("first", "last", "function"))
        if hit is None:
            hit = r.p.prev_hit(cue.start, ("function", "when"))  # "when was each product first sold"
        if hit is None:
            raise r.fail(f"The offline engine could not tell what '{r.p.text[cue.start:cue.end]}' dates")
        table, column = _event_date(r, hit)
        fn = str(cue.value)
        word = "first" if fn == "min" else "last"
        event = hit.text.replace(" ", "_") if hit.text.isascii() else table
        r.plan.measures.append(Measure("agg", f"{word}_{slug(event)}", agg=fn, table=table, column=column))
        r.give(hit, "measure")
    for hit in r.unused("column"):
        if r.plan.measures and all(r.column(t).is_temporal for t in hit.of("column")) and any(
                m.agg in ("min", "max") and any(t.table == m.table for t in hit.of("column")) for m in r.plan.measures):
            r.give(hit, "qualifier")  # "the date of the last order"


def _event_date(r: Reader, hit: Hit) -> tuple[str, str]:
    """The date column an event term stands for: itself, its table's date, or a metric's dated table."""
    dates = [t for t in hit.of("column") if r.column(t).is_temporal]
    if dates:
        tables = r.measure_tables() or [str(dates[0].table)]
        term = r.pick(dates, tables, hit.text)
        return str(term.table), str(term.column)
    tables = [str(t.table) for t in hit.of("table")]
    for metric in hit.of("metric"):
        tables += r.metric_tables(str(metric.metric))
    for table in tables:
        cols = [c for c in table_of(r.catalog, table).columns if c.is_temporal]
        if len(cols) == 1:
            return table, cols[0].name
    raise r.fail(f"The offline engine could not tell which date '{hit.text}' has")


def read_metrics(r: Reader) -> None:
    """Metric terms become measures; a metric that is also a table ('orders') qualifies when another measure exists."""
    hits = [h for h in r.unused("metric") if not h.verb]
    if r.p.has("never") and not r.plan.measures and all(h.of("table") for h in hits):
        return  # "customers who never placed an order": the orders are the related rows
    others = any(not h.of("table") for h in hits)
    for hit in hits:
        if hit.of("table") and r.p.cue_before(hit, ("never",), ("function", "all", "only")) is not None:
            continue
        if hit.of("table") and (r.plan.measures or r.avg_of is not None or others) and \
                not _listed_with_a_measure(r, hit):
            continue  # "average discount on mobile orders": the table the filter is on
        _add_metric(r, hit)


def _listed_with_a_measure(r: Reader, hit: Hit) -> bool:
    """'revenue and orders by month', 'orders and revenue', 'revenue, orders and units': in a list of measures."""
    joins = (",", "and", "&", ", and", "和", "与", "及", "以及", "、")
    before = r.p.prev_hit(hit.start, ("function",))
    after = r.p.next_hit(hit.end, ("function",))
    if before is not None and (r.role(before) == "measure" or before.of("metric")) and \
            r.p.text[before.end:hit.start].strip().lower() in joins:
        return True
    return after is not None and bool(after.of("metric")) and r.p.text[hit.end:after.start].strip().lower() in joins


def _add_metric(r: Reader, hit: Hit) -> None:
    name = str(hit.of("metric")[0].metric)
    cue = r.p.cue_before(hit, ("all",), ("function", "only"))
    if cue is not None and r.p.text[cue.start:cue.end].strip().lower() in ("all", "全部", "所有") and \
            metric_of(r.catalog, name).filter:
        r.plan.lifted.append(name)  # "all orders": without the metric's default filter
    if all(m.metric != name for m in r.plan.measures):
        r.plan.measures.append(Measure("metric", name, metric=name))
    r.give(hit, "measure")


def read_implicit(r: Reader) -> None:
    """With no measure yet: an amount-like column is summed ('spend by channel'); events are counted."""
    if r.plan.measures or r.avg_of is not None:
        return
    for hit in r.unused("column"):
        numeric = [t for t in hit.of("column") if r.column(t).is_numeric]
        words = hit.text.lower()
        if numeric and len(numeric) == len(hit.of("column")) and any(a in words for a in w.ADDITIVE_WORDS):
            term = r.pick(numeric, [str(numeric[0].table)], hit.text)
            if (r.column(term).profile.distinct or 0) > 20:
                r.plan.measures.append(Measure("agg", f"sum_{slug(str(term.column))}", agg="sum", table=term.table,
                                               column=term.column))
                r.plan.assumptions.append(f"'{hit.text}' is read as the total of {term.table}.{term.column}")
                r.give(hit, "measure")
                return
