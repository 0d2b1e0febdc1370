"""Readings that change the shape of the answer: listings, 'never', shares and rates, averages per
day or per order, rankings.

- listing: no measure, a table ('Corporate customers in Japan') or a column's values ('the
  subcategories under Sports'); with a fact verb or 'never' the rows that have (no) facts.
- share: each group's share of the total, or within the first dimension ('of its revenue');
  rate: the share of the measure's rows that match a value ('percentage of orders on mobile',
  取消率); margin %: a margin metric over revenue.
- per: 'average daily revenue' averages the daily totals; 'average revenue per customer' divides
  by the number of customers; 'average shipping cost per order' is the column's average.
- rank: top/bottom N by the first measure; best/worst follow the measure's polarity.
"""

from __future__ import annotations

import re

import nl2sql.backends.offline.words as w
from nl2sql.backends.offline.dims import WHICH
from nl2sql.backends.offline.lexicon import label_column, label_has_name, metric_of, table_of
from nl2sql.backends.offline.match import Hit
from nl2sql.backends.offline.plan import Filter, Measure, Relation
from nl2sql.backends.offline.reader import Reader


def read_relation(r: Reader) -> None:
    """Fact verbs ('ordered', 'sold', 购买) and 'never': the entity's rows with (or without) facts."""
    never = next(iter(r.p.of("never")), None) or next(
        (c for c in r.p.of("exclude") if any(h.verb and h.start >= c.end and r.p.quiet(c.end, h.start)
                                             for h in r.p.hits)), None)  # "products not sold in 2025"
    tables = [h for h in r.p.hits if (h.of("table") or (_event(r, h) and never is not None))
              and r.role(h) in (None, "qualifier", "dimension", "relation", "date")]
    if never is not None:
        fact_hit = next((h for h in tables if h.start >= never.end), None)
        entity_hit = next((h for h in tables if h.end <= never.start and h.of("table") and not h.verb), None) or next(
            (h for h in tables if fact_hit is not None and h.start >= fact_hit.end and h.of("table") and not h.verb),
            None)  # 从未下单的客户
    else:
        fact_hit = next((h for h in reversed(tables) if h.verb), None)
        entity_hit = next((h for h in tables if not h.verb and h is not fact_hit), None)
    if fact_hit is None:
        if never is not None:
            raise r.fail("The offline engine could not tell what 'never' is about")
        return
    fact = str((fact_hit.of("table") or fact_hit.of("column"))[0].table)
    r.give(fact_hit, "relation")
    if r.date_hit is fact_hit:
        r.date_hit = None
    r.verb = fact_hit
    r.plan.relation = Relation(fact, negate=never is not None)
    if entity_hit is None:
        if never is not None and not any(m.kind == "count" for m in r.plan.measures):
            raise r.fail("The offline engine could not tell which rows 'never' is about")
        return
    entity = str(entity_hit.of("table")[0].table)
    if not r.plan.measures and r.avg_of is None and not r.plan.dims and not r.pending_cols:
        r.plan.listing = entity
        r.give(entity_hit, "listing")
    elif never is not None and r.role(entity_hit) is None:
        r.give(entity_hit, "qualifier")


def _event(r: Reader, hit: Hit) -> bool:
    """A date column named as an event ('下单' for order_date): the rows of its table."""
    return bool(hit.of("column")) and all(r.column(t).is_temporal for t in hit.of("column")) and not hit.of("table")


def read_listing(r: Reader) -> None:
    """No measure: list a table's rows or a column's distinct values."""
    if r.plan.measures or r.avg_of is not None or r.plan.listing or r.p.has("share", "rate"):
        return
    tables = [h for h in r.p.hits if h.of("table") and not h.verb and r.role(h) in (None, "qualifier")]
    columns = [h for h, _ in r.pending_cols]
    split = r.plan.dims or any(r.p.cue_before(h, ("by",), ("function",)) or _which(r, h) for h in columns) or any(
        _breakdown_by(r, h) for h in tables[1:])
    if r.p.has("rank") and not r.p.has("price"):
        if tables and split:  # "customers by region": the count of the table
            return
        raise r.fail("The question ranks rows without naming what to rank them by (say 'by revenue', 'by units')")
    if tables and split:
        return  # "customers by region": counted in read_entity_counts
    if tables:
        listed = table_of(r.catalog, str(tables[0].of("table")[0].table))
        if not label_has_name(listed):
            raise r.fail(f"The offline engine lists rows of tables with a name column; '{tables[0].text}' has none "
                         "(ask for a count or a total instead)")
        r.plan.listing = listed.name
        r.give(tables[0], "listing")
        _price_order(r, r.plan.listing)
        for hit, terms in [*r.pending_cols, *r.loose_cols]:  # 'cities and their population': shown columns
            own = [t for t in terms if t.table == r.plan.listing]
            if own:
                r.plan.shown.append((str(own[0].table), str(own[0].column)))
                r.give(hit, "shown")
        r.pending_cols = [(h, t) for h, t in r.pending_cols if r.role(h) != "shown"]
        r.loose_cols = []
        return
    if len(columns) == 1 and not r.plan.grain and r.p.cue_before(columns[0], ("by",), ("function",)) is None:
        hit, terms = r.pending_cols.pop()
        term = r.pick(terms, [f.table for f in r.plan.filters] or [str(terms[0].table)], hit.text)
        r.plan.list_column = (str(term.table), str(term.column))
        r.give(hit, "listing")


def _breakdown_by(r: Reader, hit: Hit) -> bool:
    """'tickets by agent' (a breakdown), not 'courses taken by students' (who did it)."""
    cue = r.p.cue_before(hit, ("by",), ("function",))
    if cue is None:
        return False
    before = re.search(r"(\w+)\s*$", r.p.text[:cue.start])
    return not (before and re.fullmatch(r"\w+(?:ed|en|wn|ld|ht|de|un)|sold|paid|made|won", before.group(1)))


def _which(r: Reader, hit: Hit) -> bool:
    return bool(WHICH.search(r.p.text[max(0, hit.start - 20): hit.start]))


def _price_order(r: Reader, table: str) -> None:
    cue = next(iter(r.p.of("price")), None)
    if cue is None:
        return
    t = table_of(r.catalog, table)
    prices = [c for c in t.columns if c.is_numeric and "price" in c.name.lower()]
    if not prices:
        raise r.fail(f"The offline engine could not tell which column of {table} is its price")
    r.plan.list_order = (table, prices[0].name, str(cue.value))
    rank = next((c for c in r.p.cues if c.kind in ("rank", "price") and c.n), None)
    listed = next((h for h in r.p.hits if r.role(h) == "listing"), None)
    r.plan.limit = rank.n if rank else (1 if listed is not None and listed.text.isascii() and not listed.plural else 10)


def read_entity_counts(r: Reader) -> None:
    """'customers by region', 'customer signups per month': with a breakdown and no measure, count the rows."""
    if r.plan.measures or r.avg_of is not None or r.plan.listing or r.plan.list_column:
        return
    tables = [h for h in r.p.hits if h.of("table") and not h.verb and r.role(h) in (None, "qualifier")]
    date_tables = [str(t.table) for t in r.date_hit.of("column")] if r.date_hit else []
    by_tables = [h for h in tables[1:] if _breakdown_by(r, h)]
    if by_tables:  # "tickets by agent": count the first table by the other's names
        tables = [h for h in tables if h not in by_tables]
        for hit in by_tables:
            r.add_dim(r.label_dim(str(hit.of("table")[0].table)))
            r.give(hit, "dimension")
    if (r.plan.dims or r.pending_cols) and (tables or date_tables):
        table = str(tables[0].of("table")[0].table) if tables else date_tables[0]
        r.plan.measures.append(Measure("count", table, table=table))
        r.implicit_count = tables[0] if tables else None
        if tables:
            r.give(tables[0], "measure")


def _negative(r: Reader, m: Measure) -> bool:
    """True for measures where more is worse (returns, cancellations, costs): by their names and synonyms."""
    while m.base is not None and m.kind != "rate":
        m = m.base
    words = " ".join(str(x) for x in (m.label, m.metric, m.column) if x)
    if m.kind == "metric":
        words += " " + " ".join(metric_of(r.catalog, str(m.metric)).synonyms)
    return any(n in words.lower() for n in w.NEGATIVE_WORDS)


def read_rank(r: Reader) -> None:
    """Top/bottom N: order by the first measure, highest or lowest first; 'best'/'worst' by polarity."""
    cues = r.p.of("rank")
    if not cues or r.plan.list_order:
        return
    directions = [str(c.value) for c in cues if c.value]
    counts = [c.n for c in cues if c.n]
    if not directions:
        raise r.fail("The offline engine could not tell whether to rank highest or lowest first")
    if not r.plan.measures:
        raise r.fail("The question ranks rows without naming what to rank them by")
    direction = directions[0]
    if direction in ("good", "bad"):
        negative = _negative(r, r.plan.measures[0])
        direction = "desc" if (direction == "good") != negative else "asc"
    if not r.plan.dims and not r.plan.grain:
        raise r.fail("The question ranks without saying what to rank (say 'which product', 'by channel')")
    if r.implicit_count is not None and not _most_of(r, r.implicit_count):
        raise r.fail("The question ranks rows without naming what to rank them by (say 'by revenue', 'by units')")
    r.plan.order = direction
    r.plan.limit = counts[0] if counts else (1 if _single(r) else None)
    if r.plan.limit and len([d for d in r.plan.dims if not d.grain]) > 1 and re.search(
            r"\b(?:each|every|per)\b|各|每", r.p.text):
        raise r.fail("The offline engine ranks over the whole result, not within each group (ask for one group at "
                     "a time, e.g. 'top 3 products in Electronics')")


def _most_of(r: Reader, counted: Hit) -> bool:
    """'the most customers', 最多的客户: a count ranked by 'most', 'fewest' right before what is counted."""
    cue = next((c for c in reversed(r.p.of("rank")) if c.end <= counted.start), None)
    words = r.p.text[cue.start:cue.end] if cue is not None else ""
    if cue is not None and re.search(r"most|fewest|least|最多|最少", words) and r.p.quiet(
            cue.end, counted.start, ("function", "rank")):
        return True
    after = next((c for c in r.p.of("rank") if c.start >= counted.end), None)  # 哪个国家的客户最多
    return after is not None and bool(re.match(r"最多|最少", r.p.text[after.start:after.end])) and r.p.quiet(
        counted.end, after.start)


def _single(r: Reader) -> bool:
    """'which product had the highest ...', 'the least popular category': one row."""
    for hit in r.p.hits:
        if r.role(hit) == "dimension" and hit.text.isascii():
            return not hit.plural
    return not re.search(r"哪些", r.p.text)


def read_share(r: Reader) -> None:
    """Share of total, share within a group, rate of a value, margin %."""
    share = r.p.has("share")
    rate = r.p.has("rate")
    if not (share or rate):
        return
    if not r.plan.measures and r.plan.listing:
        table = r.plan.listing
        r.plan.listing = None
        r.plan.measures.append(Measure("count", table, table=table))
    if not r.plan.measures and r.avg_of is None:
        tables = [h for h in r.p.hits if h.of("table") and r.role(h) in (None, "qualifier")]
        part = _part(r)
        if tables:
            table = str(tables[0].of("table")[0].table)
            r.give(tables[0], "measure")
        elif part is not None and len({t.table for t in part[1]}) == 1:
            table = str(part[1][0].table)  # 取消率, "cancellation rate": of the value's table's rows
        else:
            raise r.fail("The offline engine could not tell what the share is of")
        r.plan.measures.append(Measure("count", table, table=table))
    part = _part(r)
    parts = [part] if part is not None else []
    if _percent_after_margin(r) and _margin(r):
        return
    if parts:
        _rate(r, parts[-1])
    elif share and (r.plan.dims or r.pending_cols):
        base = r.plan.measures[0]
        within = 1 if re.search(r"\b(its|their|within)\b|各自|内部|其中", r.p.text) else 0
        r.plan.measures.insert(1, Measure("share", f"{base.label}_share_pct", base=base, within=within))
    elif share and _margin(r):
        return
    else:
        raise r.fail("The offline engine could not tell what the share or rate is of (say 'by channel', "
                     "'on mobile', 'cancelled')")


def _part(r: Reader) -> tuple[Hit, list, bool] | None:
    """The value a rate is of: the one right before 'rate' (cancellation rate on mobile), else the last one."""
    values = [v for v in r.pending_values if not v[2]]
    for cue in r.p.of("rate"):
        before = next((v for v in values if v[0].end <= cue.start and r.p.quiet(v[0].end, cue.start)), None)
        if before is not None:
            return before
    return values[-1] if values else None


def _rate(r: Reader, part: tuple[Hit, list, bool]) -> None:
    hit, values, _ = part
    r.pending_values.remove(part)
    base = r.plan.measures[0]
    value = r.pick(values, r.measure_tables() or [str(values[0].table)], hit.text)
    word = re.sub(r"\W+", "_", str(value.value).lower()).strip("_") or "part"
    filters = [Filter(str(value.table), str(value.column), "in", [str(t.value) for t in values
                                                               if (t.table, t.column) == (value.table, value.column)])]
    r.plan.measures[0] = Measure("rate", f"{word}_pct", base=base, part=filters)
    r.plan.assumptions.append(f"{word}_pct is the share of {base.label} where {filters[0].describe()}, in percent")


def _percent_after_margin(r: Reader) -> bool:
    """'gross margin %', 'margin rate', 毛利率: the percent word right after a margin metric (not 'share of margin')."""
    for hit in r.p.hits:
        if hit.of("metric") and any(x in f"{hit.text} {hit.of('metric')[0].metric}".lower() for x in w.MARGIN_WORDS):
            cue = next((c for c in r.p.of("share", "rate") if c.start >= hit.end), None)
            if cue is not None and r.p.quiet(hit.end, cue.start):
                return True
    return False


def _margin(r: Reader) -> bool:
    """'gross margin %': a margin metric divided by the revenue metric, in percent."""
    m = r.plan.measures[0]
    if m.kind != "metric" or not any(x in f"{m.metric} {m.label}".lower() for x in w.MARGIN_WORDS[:2]):
        return False
    revenue = next((x for x in r.catalog.metrics if x.name.lower() in w.REVENUE_WORDS or any(
        s.lower() in w.REVENUE_WORDS for s in x.synonyms[:3])), None)
    if revenue is None or revenue.name == m.metric:
        return False
    over = Measure("metric", revenue.name, metric=revenue.name)
    r.plan.measures[0] = Measure("ratio", f"{m.label}_pct", base=m, over=over, percent=True)
    return True


def read_per(r: Reader) -> None:
    """'average daily revenue', 'average revenue per customer', 'average shipping cost per order', 平均每单."""
    _per_metric(r)
    if r.avg_of is None and r.p.has("per_order") and len(r.plan.measures) == 1 and r.plan.measures[0].kind == "metric":
        r.avg_of = r.plan.measures.pop()  # 每单销售额: revenue per order
    if r.p.has("per_order") and any(m.agg == "avg" for m in r.plan.measures):
        r.used.add("per_order")  # 平均每单的运费: the average over orders
    if r.avg_of is None:
        return
    base = r.avg_of
    grain_dims = [d for d in r.plan.dims if d.grain and not d.table]
    per_entity = _per_entity(r)
    if per_entity is not None:
        table = per_entity
        if base.kind == "count" and base.table != table:
            base = _lines(r, str(base.table), table)
        key = r.label_dim(table).key or label_column(table_of(r.catalog, table)).name
        over = Measure("agg", f"distinct_{key}", agg="count_distinct", table=table, column=key)
        noun = table[:-1] if table.endswith("s") else table
        r.plan.measures.append(Measure("ratio", f"{base.label}_per_{noun}", base=base, over=over))
    elif grain_dims:
        grain = str(grain_dims[0].grain)
        r.plan.dims.remove(grain_dims[0])
        r.plan.measures.append(Measure("per", f"avg_{grain}ly_{base.label}".replace("dayly", "daily"), base=base,
                                       grain=grain))
    else:
        raise r.fail(f"'average {base.label}' needs a 'per': per day, per month, per order, per customer")


def _per_metric(r: Reader) -> None:
    """'revenue per unit', 'spend per order': one measure divided by another."""
    for cue in r.p.of("by"):
        hit = r.p.next_hit(cue.end)
        if r.p.text[cue.start:cue.end].strip().lower() != "per" or hit is None or not hit.of("metric"):
            continue
        name = hit.of("metric")[0].metric
        over = next((m for m in r.plan.measures if m.metric == name), None)
        base = next((m for m in r.plan.measures if m is not over), None)
        if over is not None and base is not None and len(r.plan.measures) == 2:
            r.plan.measures = [Measure("ratio", f"{base.label}_per_{over.label}", base=base, over=over)]


def _lines(r: Reader, counted: str, per: str) -> Measure:
    """'items per order': the rows of the table between them (order lines), counted."""
    path = r.catalog.join_path(counted, per)
    if len(path) > 2:
        r.plan.assumptions.append(f"'{counted} per {per}' counts {path[1]} rows")
        return Measure("count", path[1], table=path[1])
    return Measure("count", counted, table=counted)


def _per_entity(r: Reader) -> str | None:
    for cue in r.p.of("by", "per_order"):
        if cue.kind == "per_order":
            r.used.add("per_order")
            terms = r.p.lexicon.cjk.get("订单") or r.p.lexicon.phrases.get(("order",)) or []
            return next((str(t.table) for t in terms if t.kind == "table"), None)
        hit = r.p.next_hit(cue.end)
        if hit is not None and hit.of("table") and r.p.text[cue.start:cue.end].strip() == "per":
            r.give(hit, "per")
            return str(hit.of("table")[0].table)
    return None
