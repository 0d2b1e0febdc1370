"""The state of one reading: the parse, the plan being filled, and the role each term was given.

Every catalog term of the question must end with a role (measure, dimension, filter, date,
qualifier ...); `readings.read` refuses the question when one has none. The helpers here answer
questions about the catalog the roles need: which of several same-named columns joins the
measure, which table a date belongs to, which tables a metric reads.
"""

from __future__ import annotations

import re

from nl2sql.backends.offline.lexicon import Term, column_of, label_column, metric_of, table_of
from nl2sql.backends.offline.match import Hit
from nl2sql.backends.offline.parse import Parse
from nl2sql.backends.offline.plan import Dim, Filter, Measure, Plan
from nl2sql.backends.offline.tokens import refuse
from nl2sql.core.errors import RefusalError
from nl2sql.data.catalog import Catalog, Column


class Reader:
    """One question being read into a Plan."""

    def __init__(self, p: Parse) -> None:
        self.p = p
        self.catalog: Catalog = p.lexicon.catalog
        self.plan = Plan()
        self.roles: dict[int, str] = {}  # id(hit) -> role
        self.pending_cols: list[tuple[Hit, list[Term]]] = []  # dimensions to resolve once measures are known
        self.pending_values: list[tuple[Hit, list[Term], bool]] = []  # (hit, values, negated)
        self.loose_cols: list[tuple[Hit, list[Term]]] = []  # numbers named with no role yet ('and their population')
        self.compared: list[tuple[Hit, list[Term]]] = []  # values compared ("web vs mobile"): by their column
        self.avg_of: Measure | None = None  # "average revenue": needs a per-grain or per-entity reading
        self.verb: Hit | None = None  # a fact verb ("ordered", "sold")
        self.date_hit: Hit | None = None  # an explicit date column ("launched", "signup date")
        self.used: set[str] = set()  # cue kinds a reading consumed (checked at the end)
        self.split: set[tuple[str, str]] = set()  # a follow-up's new breakdown columns
        self.fresh: set[int] = set()  # ids of the filters a follow-up set
        self.implicit_count: Hit | None = None  # 'customers by region': the table counted with no count word

    # -- roles -------------------------------------------------------------------------------
    def give(self, hit: Hit, role: str) -> None:
        """Record the role a term plays."""
        self.roles[id(hit)] = role

    def role(self, hit: Hit) -> str | None:
        """The role a term plays, if it has one yet."""
        return self.roles.get(id(hit))

    def unused(self, *kinds: str) -> list[Hit]:
        """Terms with no role yet that may mean one of these kinds."""
        return [h for h in self.p.hits if id(h) not in self.roles and (not kinds or h.kinds & set(kinds))]

    def fail(self, why: str, words: list[str] | None = None) -> RefusalError:
        """A refusal with a reason (and the words it concerns)."""
        return refuse(words or [], self.p.lexicon.known_words(), why)

    # -- catalog -----------------------------------------------------------------------------
    def column(self, term: Term) -> Column:
        """The catalog column of a column or value term."""
        return column_of(self.catalog, str(term.table), str(term.column))

    def metric_tables(self, name: str) -> list[str]:
        """The tables a metric's expression and filter read, in catalog order."""
        metric = metric_of(self.catalog, name)
        text = f"{metric.sql} {metric.filter or ''}"
        return [t.name for t in self.catalog.tables
                if re.search(rf"(?<![\w.]){re.escape(t.name)}\s*\.", text, re.I)]

    def measure_tables(self, measures: list[Measure] | None = None) -> list[str]:
        """The tables the measures read."""
        names: list[str] = []
        for m in measures if measures is not None else self.plan.measures:
            if m.kind == "metric":
                names += self.metric_tables(str(m.metric))
            elif m.table:
                names.append(m.table)
            for inner in (m.base, m.over):
                if inner is not None:
                    names += self.measure_tables([inner])
        return list(dict.fromkeys(names))

    def used_tables(self) -> list[str]:
        """Every table the plan reads so far."""
        tables = self.measure_tables() + [d.table for d in self.plan.dims] + [f.table for f in self.plan.filters]
        if self.plan.listing:
            tables.append(self.plan.listing)
        if self.plan.relation:
            tables.append(self.plan.relation.table)
        return list(dict.fromkeys(tables))

    def distance(self, a: str, b: str) -> int | None:
        """Join hops between two tables (None when no relationship path joins them)."""
        if a.lower() == b.lower():
            return 0
        path = self.catalog.join_path(a, b)
        return len(path) - 1 if path else None

    def pick(self, terms: list[Term], anchors: list[str], what: str) -> Term:
        """Among same-named terms, the one in (or nearest to) the anchor tables; refuse a tie.

        A column no anchor joins gives way to an anchor's column of the same name (渠道 names
        orders.channel; for marketing spend it is marketing_spend.channel)."""
        if anchors and all(self.distance(str(t.table), a) is None for t in terms for a in anchors):
            terms = self._same_named(terms, anchors) or terms
        if len({(t.table, t.column) for t in terms}) == 1:
            return terms[0]
        scored = []
        for t in terms:
            hops = [d for a in anchors if (d := self.distance(str(t.table), a)) is not None]
            scored.append((min(hops) if hops else 99, anchors.index(str(t.table)) if t.table in anchors else 99, t))
        scored.sort(key=lambda s: (s[0], s[1]))
        if scored[0][0] == 99 or (len(scored) > 1 and scored[0][:2] == scored[1][:2]):
            options = " or ".join(f"{t.table}.{t.column}" for t in terms)
            raise self.fail(f"'{what}' could mean {options}; the offline engine will not guess which")
        return scored[0][2]

    def _same_named(self, terms: list[Term], anchors: list[str]) -> list[Term]:
        out = []
        for t in terms:
            for a in anchors:
                found = table_of(self.catalog, a).column(str(t.column))
                if found is not None and t.kind in ("column", "value"):
                    out.append(Term(t.kind, table=a, column=found.name, value=t.value))
        return out

    def label_dim(self, table: str) -> Dim:
        """The breakdown by a table's rows: its name column, grouped with its key (names repeat)."""
        t = table_of(self.catalog, table)
        label = label_column(t)
        keys = [c.name for c in t.columns if c.primary_key] or t.primary_key
        key = keys[0] if len(keys) == 1 and keys[0] != label.name else None
        if key is None:
            key = next((c.name for c in t.columns if c.name.lower().endswith("id") and c.profile.distinct
                        and c.profile.distinct == t.row_count and c.name != label.name), None)
        return Dim(table, label.name, key=key, at=next((h.start for h in self.p.hits if any(
            t.table == table for t in h.of("table"))), 0))

    def add_dim(self, dim: Dim) -> None:
        """Add a breakdown once."""
        if all((d.table, d.column, d.grain) != (dim.table, dim.column, dim.grain) for d in self.plan.dims):
            self.plan.dims.append(dim)

    def add_filter(self, f: Filter) -> None:
        """Add a filter, merging the values of an IN on the same column."""
        same = next((g for g in self.plan.filters if (g.table, g.column, g.op) == (f.table, f.column, f.op)
                     and f.op in ("in", "not in")), None)
        if same is not None:
            same.values = list(dict.fromkeys([*same.values, *f.values]))
        else:
            self.plan.filters.append(f)

    def before_text(self, hit: Hit, chars: int = 12) -> str:
        """The question's text just before a term."""
        return self.p.text[max(0, hit.start - chars): hit.start]
