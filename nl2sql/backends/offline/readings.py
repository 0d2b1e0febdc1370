"""Parse -> Plan: the roles read in a fixed order, then the period, then checks that nothing is left.

Order: values and conditions (filters), aggregates, counts, first/last, metrics, qualifiers,
grains, column breakdowns, fact verbs and 'never', table breakdowns, implicit measures,
listings, entity counts, per-readings, shares, rankings, time. Every term must end with a
role, every table must join the measure, and a period needs a date it can be on; otherwise
the question is refused with the reason.
"""

from __future__ import annotations

import datetime as dt
import re

import nl2sql.backends.offline.dims as dims
import nl2sql.backends.offline.roles as roles
import nl2sql.backends.offline.shapes as shapes
from nl2sql.backends.offline.lexicon import metric_of, table_of
from nl2sql.backends.offline.match import Hit
from nl2sql.backends.offline.parse import Parse
from nl2sql.backends.offline.plan import Dim, Filter, Period, Plan
from nl2sql.backends.offline.reader import Reader
from nl2sql.backends.offline.timeexpr import TimeMatch

STEPS = (roles.read_values, roles.read_conditions, roles.read_aggregates, roles.read_counts, roles.read_first_last,
         roles.read_metrics, roles.read_implicit, dims.read_qualifiers, dims.read_grains, dims.read_column_dims,
         shapes.read_relation, dims.read_table_dims, shapes.read_listing, shapes.read_entity_counts,
         shapes.read_per, shapes.read_share)


def read(p: Parse, follow_up: bool = False) -> Plan:
    """The plan a parsed question asks for, or RefusalError."""
    r = Reader(p)
    for step in STEPS:
        step(r)
    finish(r, follow_up)
    return r.plan


def finish(r: Reader, follow_up: bool = False) -> None:
    """Resolve what needed the measures, read the period, and check every term found a role."""
    plan = r.plan
    if not plan.measures and not plan.listing and not plan.list_column and not follow_up:
        raise r.fail("The question names no measure the offline engine can compute (say 'how many', 'total', "
                     "'average' or a metric such as revenue)")
    anchors = r.measure_tables() or ([plan.listing] if plan.listing else []) or \
        ([plan.list_column[0]] if plan.list_column else [])
    resolve_values(r, anchors)
    dims.resolve_dims(r, anchors)
    plan.dims.sort(key=lambda d: d.at)  # in the order the question asks for them
    for hit, terms in r.compared:
        term = r.pick(terms, anchors, hit.text)
        if all((d.table, d.column) != (term.table, term.column) for d in plan.dims):
            plan.dims.insert(0, Dim(str(term.table), str(term.column)))
    shapes.read_rank(r)
    if r.p.has("dateword") and not (r.p.has("first", "last", "when") or plan.grain):
        cue = r.p.of("dateword")[0]
        raise r.fail(
            f"The offline engine could not place '{r.p.text[cue.start:cue.end]}' in this database")
    read_time(r, follow_up)
    check_roles(r)
    lift_defaults(r)
    resolve_date(r)
    check_joins(r)
    check_cues(r)


def check_cues(r: Reader) -> None:
    """Cue words that change the meaning must have changed the plan; otherwise they were dropped: refuse."""
    needed = {"new": "new", "when": "when", "price": "expensive/cheap", "them": "them", "per_order": "per order",
              "exclude": "excluding", "never": "never"}
    if any(f.op == "not in" for f in r.plan.filters):
        r.used.add("exclude")
        r.used.add("never")
    if r.plan.relation is not None and r.plan.relation.negate:
        r.used.update(("never", "exclude"))
    if r.p.has("first", "last"):
        r.used.add("when")
    if r.plan.list_order:
        r.used.add("price")
    for cue in r.p.cues:
        if cue.kind in needed and cue.kind not in r.used:
            raise r.fail(f"The offline engine could not tell how '{r.p.text[cue.start:cue.end]}' changes the "
                         "question")


def resolve_values(r: Reader, anchors: list[str]) -> None:
    """Values become filters on the column nearest the measure ('web': orders.channel, not marketing's)."""
    for hit, values, negated in r.pending_values:
        term = r.pick(values, anchors or [str(values[0].table)], hit.text)
        chosen = [str(t.value) for t in values if (t.table, t.column) == (term.table, term.column)]
        r.add_filter(Filter(str(term.table), str(term.column), "not in" if negated else "in", list(chosen)))
    r.pending_values = []


def _period(m: TimeMatch) -> Period:
    assert m.period is not None
    return Period(m.period.start, m.period.end, m.period.label)


def shift(p: Period, years: int) -> Period:
    """The same period `years` years away (29 February becomes the 28th)."""
    def move(d: dt.date) -> dt.date:
        try:
            return d.replace(year=d.year + years)
        except ValueError:
            return d.replace(year=d.year + years, day=28)
    word = "a year earlier" if years == -1 else f"{-years} years earlier" if years < 0 else f"{years} years later"
    moved = Period(move(p.start), move(p.end), "")
    return Period(moved.start, moved.end, calendar_label(moved) or f"{p.label}, {word}")


def calendar_label(p: Period) -> str | None:
    """'2024', 'Q4 2024', 'H2 2024', 'December 2024' for a whole calendar unit; None otherwise."""
    if p.start.day != 1 or p.end.day != 1:
        return None
    months = (p.end.year - p.start.year) * 12 + p.end.month - p.start.month
    start = p.start
    if months == 12 and start.month == 1:
        return str(start.year)
    if months == 6 and start.month in (1, 7):
        return f"H{1 + (start.month > 6)} {start.year}"
    if months == 3 and start.month in (1, 4, 7, 10):
        return f"Q{(start.month + 2) // 3} {start.year}"
    if months == 1:
        return start.strftime("%B %Y")
    return None


def _same_shape(a: Period, b: Period) -> bool:
    def months(p: Period) -> int | None:
        if p.start.day == 1 and p.end.day == 1:
            return (p.end.year - p.start.year) * 12 + p.end.month - p.start.month
        return None
    return (a.end - a.start) == (b.end - b.start) or (months(a) is not None and months(a) == months(b))


def read_time(r: Reader, follow_up: bool) -> None:
    """One period, or two compared ('2024 vs 2025', 'this quarter vs the same period last year', growth)."""
    ranges = [_period(m) for m in r.p.times if m.kind != "shift"]
    shifts = [m.shift_years for m in r.p.times if m.kind == "shift"]
    growth = r.p.has("growth")
    if len(ranges) > 2 or len(shifts) > 1:
        raise r.fail("The offline engine compares at most two periods")
    if len(ranges) == 1 and shifts:
        ranges.append(shift(ranges[0], shifts[0]))
    elif len(ranges) == 1 and growth:
        ranges.append(shift(ranges[0], -1))
    elif not ranges and growth:
        year = Period(dt.date(r.p.as_of.year, 1, 1), r.p.as_of + dt.timedelta(days=1), "this year to date")
        ranges = [year, shift(year, -1)]
    elif shifts and not follow_up:
        raise r.fail("'same period last year' needs a period to shift (say 'this quarter vs the same period "
                     "last year')")
    if ranges and all(p.start > r.p.as_of for p in ranges):
        raise r.fail(f"The period is after the data's latest date ({r.p.as_of}); the offline engine does not forecast")
    if len(ranges) == 2:
        ranges = [Period(p.start, p.end, calendar_label(p) or p.label) for p in ranges]
        if not (r.p.has("compare", "growth") or shifts or _joined(r, ranges)):
            raise r.fail("The question names two periods without saying how they relate (say 'vs' or 'compared to')")
        if not _same_shape(*ranges):
            raise r.fail("The offline engine compares periods of the same length only")
        if r.plan.grain or not r.plan.measures:
            raise r.fail("The offline engine compares two periods as totals or by a column, not by a time bucket")
        ranges.sort(key=lambda p: p.start)
    elif r.p.has("compare") and not r.compared and not follow_up:
        raise r.fail("The offline engine could not tell what is compared (say '2024 vs 2025' or 'web vs mobile')")
    r.plan.periods = ranges


def _joined(r: Reader, ranges: list[Period]) -> bool:
    """'revenue in 2024 and 2025', 2024年和2025年: two periods joined by and."""
    spans = [m.span for m in r.p.times if m.kind != "shift"]
    if len(spans) != 2:
        return False
    between = r.p.text[spans[0][1]:spans[1][0]].strip()
    return between in ("and", "&", "和", "与", "及", "以及", "跟", ",")


def check_roles(r: Reader) -> None:
    """Every term must play a role: a table that only joins along must be one the plan reads."""
    used = set(r.used_tables())
    for hit in r.p.hits:
        role = r.role(hit)
        if role is not None:
            continue
        tables = {str(t.table) for t in hit.of("table")}
        metrics = [str(t.metric) for t in hit.of("metric")]
        # a table the measure's rows belong to: "the average discount on orders", "revenue from customers"
        owners = {x.to_table for x in r.catalog.relationships if x.from_table in r.measure_tables()}
        if not _linked(r, hit):
            owners = set()  # "customers and their revenue" asks for a breakdown the engine did not read
        if tables & (used | owners) or (any(m.metric in metrics for m in r.plan.measures) and not hit.of("column")):
            r.give(hit, "qualifier")  # "revenue from customers in Europe", "orders" under "average discount on orders"
            continue
        raise r.fail(f"The offline engine could not tell what role '{hit.text}' plays in the question")


def _linked(r: Reader, hit: Hit) -> bool:
    """A table named through a preposition ('revenue from customers', 'discount on orders') or 的 (客户的)."""
    before = re.search(r"(\w+)\s*$", r.p.text[:hit.start])
    linking = ("from", "of", "on", "for", "in", "among", "across", "by", "through", "to")
    if before and before.group(1).lower() in linking:
        return True
    return r.p.text[hit.end:hit.end + 1] == "的"


def lift_defaults(r: Reader) -> None:
    """A metric's default filter (status = 'completed') gives way to the question's own filter, breakdown or rate
    on that column ('cancelled orders', 'orders by status', 'cancellation rate')."""
    plan = r.plan
    touched = {f"{f.table}.{f.column}".lower() for f in plan.filters} | \
        {f"{d.table}.{d.column}".lower() for d in plan.dims if d.table}
    for m in plan.measures:
        for inner in (m, m.base, m.over):
            touched |= {f"{f.table}.{f.column}".lower() for f in (inner.part if inner else [])}
    for name in {str(m.metric) for m in _all_measures(plan.measures) if m.kind == "metric"}:
        metric = metric_of(r.catalog, name)
        if metric.filter and any(c in metric.filter.lower() for c in touched) and name not in plan.lifted:
            plan.lifted.append(name)
            column = next(c for c in touched if c in metric.filter.lower())
            plan.assumptions.append(f"{name}: the question's own {column} replaces the default filter "
                                    f"({metric.filter})")


def _all_measures(measures: list) -> list:
    out = []
    for m in measures:
        out.append(m)
        out += _all_measures([x for x in (m.base, m.over) if x is not None])
    return out


def _is_entity(r: Reader, table: str) -> bool:
    """A table other tables point at and that points at none (customers, products)."""
    rels = r.catalog.relationships
    return any(x.to_table == table for x in rels) and not any(x.from_table == table for x in rels)


def resolve_date(r: Reader) -> None:
    """The date column periods and time buckets apply to: named, the fact's, or the measure's."""
    plan = r.plan
    if not plan.periods and not plan.grain and not any(m.kind == "per" for m in plan.measures):
        return
    anchors = r.measure_tables() or [t for t in (plan.listing,) if t]
    if plan.date is not None:
        pass  # a follow-up keeps the date its question was on
    elif r.date_hit is not None:
        dates = [t for t in r.date_hit.of("column") if r.column(t).is_temporal]
        term = r.pick(dates, ([plan.relation.table] if plan.relation else []) + anchors, r.date_hit.text)
        plan.date = (str(term.table), str(term.column))
    else:
        tables = ([plan.relation.table] if plan.relation else []) + anchors
        plan.date = _fact_date(r, tables)
    counted = {m.table for m in plan.measures if m.kind == "count"} | {plan.listing}
    if plan.date[0] in counted and _is_entity(r, plan.date[0]):
        r.used.add("new")  # "new customers", "new products": the rows created in the period
    for d in plan.dims:
        if d.grain and not d.table:
            d.table, d.column = plan.date
            if d.grain == "auto":
                days = (plan.periods[0].end - plan.periods[0].start).days if plan.periods else 9999
                d.grain = "day" if days <= 62 else "week" if days <= 120 else "month"


def _dated_tables(r: Reader, tables: list[str]) -> list[str]:
    """The tables, then the tables they reference (orders for order_items), breadth first."""
    out = list(dict.fromkeys(tables))
    for name in out:
        for rel in r.catalog.relationships:
            if rel.from_table == name and rel.to_table not in out and not _is_entity(r, rel.to_table):
                out.append(rel.to_table)
    return out


def _fact_date(r: Reader, tables: list[str]) -> tuple[str, str]:
    for name in _dated_tables(r, tables):
        if _is_entity(r, name) and not r.p.has("new"):
            raise r.fail(f"The offline engine could not tell which date of {name} the period is on (say "
                         f"'signed up', 'launched', 'ordered', or name the date column)")
        dated = [c for c in table_of(r.catalog, name).columns if c.is_temporal]
        if not dated:
            continue
        preferred = [c for c in dated if any(k in c.name.lower() for k in ("date", "day", "created", "time"))]
        if len(preferred) > 1 or (not preferred and len(dated) > 1):
            names = ", ".join(c.name for c in (preferred or dated))
            raise r.fail(f"{name} has several dates ({names}); say which one the period is on")
        return name, (preferred or dated)[0].name
    raise r.fail("The question has a time period, but the tables it reads have no date column")


def check_joins(r: Reader) -> None:
    """Every table the plan reads must join the measure's tables along declared relationships."""
    tables = r.used_tables()
    if r.plan.date:
        tables.append(r.plan.date[0])
    base = tables[0] if tables else None
    for t in tables[1:]:
        if base is not None and r.distance(base, t) is None:
            raise r.fail(f"The offline engine cannot join {base} to {t}: no relationship path (declare one under "
                         "relationships: in the annotation file)")
