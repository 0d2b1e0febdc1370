"""The catalog: what the data holds (introspection + profiles) and what it means (annotations).

`build_catalog()` introspects tables, columns, types and declared keys, infers relationships
from column names, profiles every column once (cached on disk until the data changes), and
merges the semantic layer from `schemas/<name>.yaml` (see `annotations.py`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from nl2sql.datasource import DataSource, connect

CACHE_FORMAT = 2
TEXT_TYPES = ("VARCHAR", "TEXT", "STRING", "CHAR", "BPCHAR", "ENUM")
LOW_CARDINALITY = 50  # text columns with at most this many distinct values get their values listed
TOP_VALUES = 50


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
        return self.type.upper().startswith(TEXT_TYPES)

    @property
    def is_numeric(self) -> bool:
        """True for integer, decimal and floating-point columns."""
        t = self.type.upper()
        return t.startswith(("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                             "USMALLINT", "UINTEGER", "UBIGINT", "DECIMAL", "NUMERIC", "REAL",
                             "FLOAT", "DOUBLE", "INT"))

    @property
    def is_temporal(self) -> bool:
        """True for DATE and TIMESTAMP columns."""
        return self.type.upper().startswith(("DATE", "TIMESTAMP", "TIME"))

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
    """A verified question -> SQL pair."""

    question: str
    sql: str


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


def json_safe(value: Any) -> Any:
    """A value as JSON can hold it: dates as ISO text, decimals as floats, bytes as hex."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, str) and len(value) > 200:
        return value[:199] + "…"
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def introspect(con: Any, profile: bool = True) -> tuple[list[Table], list[Relationship]]:
    """Tables, columns, types, declared keys and (optionally) column profiles of a connection."""
    rows = con.execute(
        "SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal "
        "ORDER BY table_name, column_index"
    ).fetchall()
    tables: dict[str, Table] = {}
    for table, column, dtype, nullable in rows:
        tables.setdefault(table, Table(table, [])).columns.append(Column(column, dtype, bool(nullable)))
    declared: list[Relationship] = []
    for table, ctype, cols, ref_table, ref_cols in con.execute(
        "SELECT table_name, constraint_type, constraint_column_names, referenced_table, "
        "referenced_column_names FROM duckdb_constraints() "
        "WHERE database_name = current_database() AND schema_name = 'main' "
        "AND constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY')"
    ).fetchall():
        if table not in tables:
            continue
        if ctype == "PRIMARY KEY":
            tables[table].primary_key = list(cols)
            if len(cols) == 1 and (col := tables[table].column(cols[0])):
                col.primary_key = True
        elif ref_table and len(cols) == 1 and ref_cols:
            declared.append(Relationship(table, cols[0], ref_table, ref_cols[0], "declared"))
    for t in tables.values():
        if profile:
            _profile_table(con, t)
        else:
            t.row_count = con.execute(f"SELECT count(*) FROM {_quote(t.name)}").fetchone()[0]
    ordered = sorted(tables.values(), key=lambda t: t.name)
    return ordered, declared + infer_relationships(ordered, declared)


def _profile_table(con: Any, table: Table) -> None:
    parts = ["count(*)"]
    for c in table.columns:
        q = _quote(c.name)
        comparable = not c.type.upper().startswith(("STRUCT", "MAP", "LIST", "UNION", "BLOB", "JSON")) \
            and not c.type.endswith("]")
        parts.append(f"count(DISTINCT {q})" if comparable else "NULL")
        parts.append(f"count({q})")
        parts.append(f"min({q})" if comparable else "NULL")
        parts.append(f"max({q})" if comparable else "NULL")
    row = con.execute(f"SELECT {', '.join(parts)} FROM {_quote(table.name)}").fetchone()
    table.row_count = int(row[0])
    for i, c in enumerate(table.columns):
        distinct, non_null, lo, hi = row[1 + 4 * i: 5 + 4 * i]
        c.profile = Profile(
            distinct=int(distinct) if distinct is not None else None,
            null_share=round(1 - non_null / table.row_count, 4) if table.row_count else 0.0,
            min=json_safe(lo), max=json_safe(hi),
        )
        if c.is_text and distinct is not None and distinct <= LOW_CARDINALITY:
            values = con.execute(
                f"SELECT {_quote(c.name)} AS v, count(*) AS n FROM {_quote(table.name)} "
                f"WHERE {_quote(c.name)} IS NOT NULL GROUP BY v ORDER BY n DESC, v LIMIT {TOP_VALUES}"
            ).fetchall()
            c.profile.top_values = [[json_safe(v), int(n)] for v, n in values]


def _singular(word: str) -> set[str]:
    w = word.lower()
    forms = {w}
    if w.endswith("ies"):
        forms.add(w[:-3] + "y")
    if w.endswith("es"):
        forms.add(w[:-2])
    if w.endswith("s"):
        forms.add(w[:-1])
    return forms


def infer_relationships(tables: list[Table], known: list[Relationship]) -> list[Relationship]:
    """Join paths from naming conventions: orders.customer_id -> customers.customer_id.

    A column `x_id` (or `xid`) references table T's column of the same name when that column
    is T's primary key or unique in T and T's name is x (singular or plural); a column `x_id`
    references `xs.id` when that is the key of table xs.
    """
    seen = {(r.from_table, r.from_column) for r in known}
    found: list[Relationship] = []

    def is_key(t: Table, col: Column) -> bool:
        return col.primary_key or t.primary_key == [col.name] or (
            t.row_count > 0 and col.profile.distinct == t.row_count and col.profile.null_share == 0
        )

    for a in tables:
        for col in a.columns:
            name = col.name.lower()
            if not name.endswith("id") or (a.name, col.name) in seen or col.primary_key:
                continue
            stem = name[:-3] if name.endswith("_id") else name[:-2]
            if not stem:
                continue
            for b in tables:
                if b is a or stem not in _singular(b.name):
                    continue
                target = b.column(col.name) or (b.column("id") if name.endswith("_id") else None)
                if target is not None and is_key(b, target):
                    found.append(Relationship(a.name, col.name, b.name, target.name, "inferred"))
                    seen.add((a.name, col.name))
                    break
    # second rule: a non-key id column whose name is the key of exactly one other table
    # (writes.aid -> author.aid), for schemas whose names do not follow table_id
    for a in tables:
        for col in a.columns:
            name = col.name.lower()
            if not name.endswith("id") or name == "id" or (a.name, col.name) in seen or is_key(a, col):
                continue
            owners = [b for b in tables if b is not a and (t := b.column(col.name)) and is_key(b, t)]
            stem = name[:-3] if name.endswith("_id") else name[:-2]
            # several candidates (small tables are unique by chance): prefer the one named like
            # the column (pid -> publication), then the biggest; give up on a tie
            ranked = sorted(owners, key=lambda b: (b.name.lower().startswith(stem), b.row_count), reverse=True)
            best = ranked[0] if ranked else None
            if best is not None and (len(ranked) == 1 or (best.name.lower().startswith(stem), best.row_count)
                                     != (ranked[1].name.lower().startswith(stem), ranked[1].row_count)):
                target = best.column(col.name)
                assert target is not None
                found.append(Relationship(a.name, col.name, best.name, target.name, "inferred"))
                seen.add((a.name, col.name))
    # third rule: prefixed names that end alike (sbTxCustId -> sbCustomer.sbCustId)
    keys = [(b, c) for b in tables for c in b.columns if c.name.lower().endswith("id") and is_key(b, c)]
    for a in tables:
        for col in a.columns:
            name = col.name.lower()
            if not name.endswith("id") or (a.name, col.name) in seen or is_key(a, col):
                continue
            matches = [(b, c) for b, c in keys if b is not a and _common_suffix(name, c.name.lower()) >= 6]
            if len(matches) == 1:
                b, c = matches[0]
                found.append(Relationship(a.name, col.name, b.name, c.name, "inferred"))
                seen.add((a.name, col.name))
    return found


def _common_suffix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _cache_path(home: Path, source: DataSource) -> Path:
    key = hashlib.sha256(f"{source.kind}:{source.path}".encode()).hexdigest()[:24]
    return home / "profiles" / f"{key}.json"


def load_base_catalog(source: DataSource, home: Path | None, use_cache: bool = True) -> Catalog:
    """Introspect and profile `source`; reuse the cached result while the data is unchanged."""
    fingerprint = [list(x) for x in source.fingerprint()]
    path = _cache_path(home, source) if home else None
    if use_cache and path and path.is_file():
        try:
            cached = json.loads(path.read_text(encoding="utf-8"))
            if cached.get("format") == CACHE_FORMAT and cached.get("fingerprint") == fingerprint:
                return Catalog.from_dict(cached["catalog"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged cache is rebuilt, never trusted
    con = connect(source)
    try:
        tables, relationships = introspect(con)
    finally:
        con.close()
    catalog = Catalog(name=source.name, tables=tables, relationships=relationships)
    if use_cache and path:
        write_atomic(path, json.dumps(
            {"format": CACHE_FORMAT, "fingerprint": fingerprint, "catalog": catalog.to_dict()}))
    return catalog


def write_atomic(path: Path, text: str) -> None:
    """Write a file so readers see the old or the new content, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build_catalog(
    source: DataSource,
    annotation_path: Path | None = None,
    home: Path | None = None,
    use_cache: bool = True,
) -> Catalog:
    """The full catalog: introspection + profiles (cached) merged with the annotation file."""
    from nl2sql.annotations import apply_annotations, load_annotations

    merged_path = None
    if annotation_path is not None and home is not None and use_cache:
        # the merged catalog is cached too, keyed by the data and the annotation file, so a warm
        # start parses neither the YAML nor the metric SQL again
        stat = Path(annotation_path).stat()
        ann_key = [str(Path(annotation_path).resolve()), stat.st_size, stat.st_mtime_ns]
        merged_path = _cache_path(home, source).with_suffix(
            "." + hashlib.sha256(json.dumps(ann_key).encode()).hexdigest()[:16] + ".json")
        fingerprint = [list(x) for x in source.fingerprint()]
        try:
            cached = json.loads(merged_path.read_text(encoding="utf-8"))
            if cached.get("format") == CACHE_FORMAT and cached.get("fingerprint") == fingerprint \
                    and cached.get("annotation") == ann_key:
                return Catalog.from_dict(cached["catalog"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    catalog = load_base_catalog(source, home, use_cache)
    if annotation_path is not None:
        apply_annotations(catalog, load_annotations(annotation_path), annotation_path)
        if merged_path is not None:
            write_atomic(merged_path, json.dumps({"format": CACHE_FORMAT, "fingerprint": fingerprint,
                                                  "annotation": ann_key, "catalog": catalog.to_dict()}))
    return catalog
