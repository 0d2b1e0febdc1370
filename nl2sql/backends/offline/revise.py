"""Follow-ups: a short question read as a change to the previous plan.

- a value ('only Clothing', 'what about Asia Pacific?', 只看企业客户) replaces the filter on its column;
- 'split by X' / 'by X' adds X and drops any filter on X; 'by X instead' / 'make that per week' replaces;
- a grain adds a time bucket ('by month'), or replaces the breakdown with 'instead';
- a period replaces the period; 'and last year?' / 'same period last year' shift it (both periods of a
  comparison);
- 'top 3 only', 'bottom 2', 前三名 rank by the measure (also on a time series); 'which X is the worst'
  ranks by X instead;
- a measure replaces the measures; 'how many of them placed an order' keeps the rows that have facts.
"""

from __future__ import annotations

import copy

import nl2sql.backends.offline.dims as dims
import nl2sql.backends.offline.roles as roles
import nl2sql.backends.offline.shapes as shapes
from nl2sql.backends.offline.parse import Parse
from nl2sql.backends.offline.plan import Dim, Filter, Period, Plan, Relation
from nl2sql.backends.offline.reader import Reader
from nl2sql.backends.offline.readings import (
    calendar_label,
    check_cues,
    check_joins,
    check_roles,
    lift_defaults,
    read_time,
    resolve_date,
    resolve_values,
    shift,
)

STEPS = (roles.read_values, roles.read_conditions, roles.read_aggregates, roles.read_counts, roles.read_first_last,
         roles.read_metrics, dims.read_qualifiers, dims.read_grains, dims.read_column_dims, dims.read_table_dims,
         shapes.read_per, shapes.read_share)


def is_follow_up(p: Parse) -> bool:
    """True when the question reads as a change to the previous answer."""
    starts_only = any(c.kind == "only" and not p.text[:c.start].strip() for c in p.cues)
    return p.has("followup", "instead", "them") or starts_only


def revise(previous: Plan, p: Parse) -> Plan:
    """The previous plan with the follow-up's changes, or RefusalError when nothing in it changes the plan."""
    if previous.relation is not None and previous.relation.negate:
        raise Reader(p).fail("The offline engine does not revise a 'never' listing")
    r = Reader(p)
    merged = copy.deepcopy(previous)
    if p.has("them"):
        _them(r, merged)
        r.used.add("them")
    for step in STEPS:
        step(r)
    changed = _merge(r, merged)
    if not changed:
        raise r.fail("The offline engine could not tell what to change in the previous answer")
    r.plan = merged
    anchors = r.measure_tables() or [t for t in (merged.listing,) if t]
    resolve_values(r, anchors)
    dims.resolve_dims(r, anchors)
    _split_lifts_filters(r, merged)
    check_roles(r)
    lift_defaults(r)
    if merged.date is None or any(d.grain and not d.table for d in merged.dims):
        resolve_date(r)
    check_joins(r)
    check_cues(r)
    return merged


def _them(r: Reader, merged: Plan) -> None:
    """'how many of them have placed an order': keep the rows that have rows in the named table."""
    for hit in r.p.hits:
        if hit.of("table") and r.role(hit) is None:
            merged.relation = Relation(str(hit.of("table")[0].table))
            r.give(hit, "relation")
    for cue in list(r.p.cues):
        if cue.kind == "count":
            r.p.cues.remove(cue)


def _merge(r: Reader, merged: Plan) -> bool:
    fresh = r.plan
    changed = bool(merged.relation is not None and merged.relation != r.plan.relation and r.p.has("them"))
    instead = r.p.has("instead")
    if fresh.measures:
        merged.measures, changed = fresh.measures, True
        if merged.listing:
            merged.dims = [r.label_dim(merged.listing)]
            merged.listing = None
    changed |= _merge_filters(r, merged)
    changed |= _merge_dims(r, merged, instead)
    changed |= _merge_time(r, merged)
    changed |= _merge_rank(r, merged)
    return changed


def _merge_filters(r: Reader, merged: Plan) -> bool:
    changed = False
    for hit, values, negated in r.pending_values:
        anchors = r.measure_tables(merged.measures) or [t for t in (merged.listing,) if t]
        term = r.pick(values, anchors, hit.text)
        chosen: list[object] = [str(t.value) for t in values if (t.table, t.column) == (term.table, term.column)]
        merged.filters = [f for f in merged.filters if (f.table, f.column) != (term.table, term.column)]
        merged.filters.append(Filter(str(term.table), str(term.column), "not in" if negated else "in", chosen))
        r.fresh.add(id(merged.filters[-1]))
        changed = True
    r.pending_values = []
    for f in r.plan.filters:
        merged.filters = [g for g in merged.filters if (g.table, g.column, g.op) != (f.table, f.column, f.op)] + [f]
        r.fresh.add(id(f))
        changed = True
    return changed


def _merge_dims(r: Reader, merged: Plan, instead: bool) -> bool:
    new_dims = list(r.plan.dims)
    anchors = r.measure_tables(merged.measures) or [t for t in (merged.listing,) if t]
    for hit, columns in r.pending_cols:
        term = r.pick(columns, anchors, hit.text)
        new_dims.append(Dim(str(term.table), str(term.column)))
    r.pending_cols = []
    if not new_dims:
        return False
    r.split = {(d.table, d.column) for d in new_dims if not d.grain}
    ranked = r.p.has("rank")
    about = any(c.kind == "followup" and "about" in r.p.text[c.start:c.end] for c in r.p.cues)
    if instead or about or (ranked and not all(d.grain for d in new_dims)):
        keep: list[Dim] = []  # 'by month instead', 'which subcategory is the worst': the new breakdown only
    else:
        keep = [d for d in merged.dims if not (d.grain and any(n.grain for n in new_dims))]
    merged.dims = keep + [n for n in new_dims if n not in keep]
    return True


def _split_lifts_filters(r: Reader, merged: Plan) -> None:
    """'split by status' after 'only completed': a new breakdown replaces the earlier filter on that column
    ('only Europe' after 'by region' keeps both: the filter is the follow-up's own)."""
    merged.filters = [f for f in merged.filters if f.op not in ("in", "not in") or (f.table, f.column) not in r.split
                      or id(f) in r.fresh]


def _merge_time(r: Reader, merged: Plan) -> bool:
    """A new period replaces the old one; 'and last year?' / 'same period last year' shift it; with 'compare' /
    'vs' the new period is compared with the old one."""
    ranges = [m for m in r.p.times if m.kind != "shift" and m.period is not None]
    shifts = [m.shift_years for m in r.p.times if m.kind == "shift"]
    last_year = len(ranges) == 1 and ranges[0].period is not None and ranges[0].period.label == "last year"
    if (shifts and not ranges) or (last_year and merged.periods):
        if not merged.periods:
            raise r.fail("'same period last year' needs a period in the previous question to shift")
        moved = [shift(p, shifts[0] if shifts else -1) for p in merged.periods]
        merged.periods = _compared(r, merged, merged.periods[0], moved[0]) if r.p.has("compare") and \
            len(merged.periods) == 1 else moved
        return True
    if len(ranges) == 1 and r.p.has("compare") and len(merged.periods) == 1:
        found = ranges[0].period
        assert found is not None
        fresh = Period(found.start, found.end, calendar_label(Period(found.start, found.end, "")) or found.label)
        merged.periods = _compared(r, merged, merged.periods[0], fresh)
        return True
    if ranges:
        r.plan = merged
        read_time(r, follow_up=True)
        return True
    return False


def _compared(r: Reader, merged: Plan, old: Period, new: Period) -> list[Period]:
    if merged.grain:
        raise r.fail("The offline engine compares two periods as totals or by a column, not by a time bucket")
    old = Period(old.start, old.end, calendar_label(old) or old.label)
    return sorted([old, new], key=lambda p: p.start)


def _merge_rank(r: Reader, merged: Plan) -> bool:
    cues = r.p.of("rank")
    if not cues:
        return False
    if not merged.measures:
        raise r.fail("The previous answer has no measure to rank by")
    directions = [str(c.value) for c in cues if c.value] or ["desc"]
    direction = directions[0]
    if direction in ("good", "bad"):
        negative = shapes._negative(r, merged.measures[0])
        direction = "desc" if (direction == "good") != negative else "asc"
    counts = [c.n for c in cues if c.n]
    merged.order = direction
    merged.limit = counts[0] if counts else (1 if shapes._single(r) else merged.limit)
    if not merged.dims:
        raise r.fail("The previous answer has one row; there is nothing to rank")
    return True
