"""The catalog: what the data holds (tables, columns, profiles) and what it means (annotations).

A plain model with no I/O: `introspect.py` fills it from an engine, `annotations.py` merges
the semantic layer into it, `build.py` puts the two together and caches the result. The join
graph (relationships as edges) is a method: `catalog.join_path(a, b)`.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import Any

from nl2sql.core.values import is_date_type, is_numeric_type, is_temporal_type, is_text_type


@dataclasses.dataclass
class Profile:
    """Statistics of one column, computed once per data version."""

    distinct: int | None = None
    null_share: float = 0.0
    min: Any = None
    max: Any = None
    top_values: list[list[Any]] = dataclasses.field(default_factory=list)  # [value, count]


@dataclasses.dataclass
class Column:
    """A column with its type, keys, profile and annotation."""

    name: str
    type: str
    nullable: bool = True
    primary_key: bool = False
    description: str | None = None
    synonyms: list[str] = dataclasses.field(default_factory=list)
    values: list[str] = dataclasses.field(default_factory=list)  # annotated value list
    value_synonyms: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    pii: bool = False
    profile: Profile = dataclasses.field(default_factory=Profile)

    @property
    def is_text(self) -> bool:
        """True for string-like columns."""
        return is_text_type(self.type)

    @property
    def is_numeric(self) -> bool:
        """True for integer, decimal and floating-point columns."""
        return is_numeric_type(self.type)

    @property
    def is_temporal(self) -> bool:
        """True for DATE and TIMESTAMP columns."""
        return is_temporal_type(self.type)

    def known_values(self) -> list[str]:
        """The column's values as far as we know them: annotated, else profiled (low cardinality)."""
        if self.values:
            return list(self.values)
        return [str(v) for v, _ in self.profile.top_values]


@dataclasses.dataclass
class Table:
    """A table or view in the data."""

    name: str
    columns: list[Column]
    row_count: int = 0
    primary_key: list[str] = dataclasses.field(default_factory=list)
    description: str | None = None
    synonyms: list[str] = dataclasses.field(default_factory=list)

    def column(self, name: str) -> Column | None:
        """The column called `name` (case-insensitive), if any."""
        lowered = name.lower()
        return next((c for c in self.columns if c.name.lower() == lowered), None)


@dataclasses.dataclass(frozen=True)
class Relationship:
    """A join path: from_table.from_column references to_table.to_column."""

    from_table: str
    from_column: str
    to_table: str
    to_column: str
    origin: str = "inferred"  # declared (a foreign key), annotated or inferred (from names)

    def __str__(self) -> str:
        return f"{self.from_table}.{self.from_column} -> {self.to_table}.{self.to_column}"


@dataclasses.dataclass
class Metric:
    """A business metric from the annotations: an aggregate expression and a default filter."""

    name: str
    sql: str
    description: str | None = None
    filter: str | None = None
    synonyms: list[str] = dataclasses.field(default_factory=list)
    format: str | None = None  # number, currency, percent


@dataclasses.dataclass
class Example:
    """A verified question -> SQL pair: from the annotation file, or confirmed by people (with its store id)."""

    question: str
    sql: str
    id: int | None = None


@dataclasses.dataclass
class Catalog:
    """Everything known about one database."""

    name: str
    tables: list[Table]
    relationships: list[Relationship] = dataclasses.field(default_factory=list)
    metrics: list[Metric] = dataclasses.field(default_factory=list)
    examples: list[Example] = dataclasses.field(default_factory=list)
    description: str | None = None
    annotation_path: str | None = None

    def table(self, name: str) -> Table | None:
        """The table called `name` (case-insensitive), if any."""
        lowered = name.lower()
        return next((t for t in self.tables if t.name.lower() == lowered), None)

    @property
    def table_names(self) -> list[str]:
        """All table names, in catalog order."""
        return [t.name for t in self.tables]

    def metric(self, name: str) -> Metric | None:
        """The metric called `name`, if any."""
        return next((m for m in self.metrics if m.name.lower() == name.lower()), None)

    def latest_date(self) -> str | None:
        """The data's latest date: the max of the date column of the largest table that has one."""
        for table in sorted(self.tables, key=lambda t: -t.row_count):
            dates = [c for c in table.columns if is_date_type(c.type) and c.profile.max
                     and str(c.profile.max)[:4].isdigit()]
            if dates:
                return str(max(str(c.profile.max) for c in dates))[:10]
        return None

    def join_path(self, start: str, goal: str) -> list[str]:
        """Tables on the shortest relationship path from start to goal (inclusive), or []."""
        graph: dict[str, set[str]] = {}
        for r in self.relationships:
            graph.setdefault(r.from_table, set()).add(r.to_table)
            graph.setdefault(r.to_table, set()).add(r.from_table)
        previous: dict[str, str | None] = {start: None}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if node == goal:
                path = [node]
                while (before := previous[path[-1]]) is not None:
                    path.append(before)
                return path[::-1]
            for nxt in sorted(graph.get(node, ())):
                if nxt not in previous:
                    previous[nxt] = node
                    queue.append(nxt)
        return []

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (used by `nl2sql schema --json` and the cache)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Catalog:
        """Rebuild a Catalog from `to_dict()` output."""
        tables = [
            Table(**{**t, "columns": [Column(**{**c, "profile": Profile(**c["profile"])})
                                      for c in t["columns"]]})
            for t in data["tables"]
        ]
        return cls(
            name=data["name"], tables=tables,
            relationships=[Relationship(**r) for r in data.get("relationships", [])],
            metrics=[Metric(**m) for m in data.get("metrics", [])],
            examples=[Example(**e) for e in data.get("examples", [])],
            description=data.get("description"), annotation_path=data.get("annotation_path"),
        )
