"""Introspection: tables, columns, types, keys and column profiles of an open DuckDB connection.

Relationships are taken from declared foreign keys and inferred from column names
(`orders.customer_id` -> `customers.customer_id`). Profiles (distinct counts, NULL share,
range, top values of low-cardinality text columns) are computed once per data version.
"""

from __future__ import annotations

from typing import Any

from nl2sql.core.values import json_safe
from nl2sql.data.catalog import Column, Profile, Relationship, Table

LOW_CARDINALITY = 50  # text columns with at most this many distinct values get their values listed
TOP_VALUES = 50


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def introspect(con: Any, profile: bool = True) -> tuple[list[Table], list[Relationship]]:
    """Tables, columns, types, declared keys and (optionally) column profiles of a connection.

    Every schema of the database is read. A table is named by its plain name, or `schema.name`
    when two schemas hold a table of that name (the connection's search path finds the others).
    """
    rows = con.execute(
        "SELECT schema_name, table_name, column_name, data_type, is_nullable FROM duckdb_columns() "
        "WHERE database_name = current_database() AND NOT internal "
        "AND schema_name NOT IN ('information_schema', 'pg_catalog') "
        "ORDER BY schema_name <> 'main', schema_name, table_name, column_index"
    ).fetchall()
    names = _display_names({(schema, table) for schema, table, *_ in rows})
    tables: dict[tuple[str, str], Table] = {}
    for schema, table, column, dtype, nullable in rows:
        entry = tables.setdefault((schema, table), Table(names[(schema, table)], [],
                                                         schema=None if schema == "main" else schema))
        entry.columns.append(Column(column, dtype, bool(nullable)))
    declared: list[Relationship] = []
    for schema, table, ctype, cols, ref_table, ref_cols in con.execute(
        "SELECT schema_name, table_name, constraint_type, constraint_column_names, referenced_table, "
        "referenced_column_names FROM duckdb_constraints() WHERE database_name = current_database() "
        "AND constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY')"
    ).fetchall():
        owner = tables.get((schema, table))
        if owner is None:
            continue
        if ctype == "PRIMARY KEY":
            owner.primary_key = list(cols)
            if len(cols) == 1 and (col := owner.column(cols[0])):
                col.primary_key = True
        elif ref_table and len(cols) == 1 and ref_cols and (schema, ref_table) in names:
            declared.append(Relationship(owner.name, cols[0], names[(schema, ref_table)], ref_cols[0], "declared"))
    for t in tables.values():
        if profile:
            _profile_table(con, t)
        else:
            t.row_count = con.execute(f"SELECT count(*) FROM {t.sql_ref}").fetchone()[0]
    ordered = sorted(tables.values(), key=lambda t: t.name)
    return ordered, declared + infer_relationships(ordered, declared)


def _display_names(keys: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(schema, table) -> the name people and SQL use: plain, or schema.table where names collide."""
    count: dict[str, int] = {}
    for _, table in keys:
        count[table.lower()] = count.get(table.lower(), 0) + 1
    return {(schema, table): table if count[table.lower()] == 1 else f"{schema}.{table}" for schema, table in keys}


def _profile_table(con: Any, table: Table) -> None:
    """Row count, distinct and non-NULL counts, range and top values of each column.

    Every expression has an alias of ours (nl2sql_*) and GROUP BY / ORDER BY use positions, so no
    column name of the table (`v`, `n`, `value`, `count` ...) can bind where our own names are meant.
    """
    parts = ["count(*) AS nl2sql_rows"]
    for i, c in enumerate(table.columns):
        q = _quote(c.name)
        comparable = not c.type.upper().startswith(("STRUCT", "MAP", "LIST", "UNION", "BLOB", "JSON")) \
            and not c.type.endswith("]")
        parts.append(f"count(DISTINCT {q}) AS nl2sql_distinct_{i}" if comparable else f"NULL AS nl2sql_distinct_{i}")
        parts.append(f"count({q}) AS nl2sql_present_{i}")
        parts.append(f"min({q}) AS nl2sql_min_{i}" if comparable else f"NULL AS nl2sql_min_{i}")
        parts.append(f"max({q}) AS nl2sql_max_{i}" if comparable else f"NULL AS nl2sql_max_{i}")
    row = con.execute(f"SELECT {', '.join(parts)} FROM {table.sql_ref}").fetchone()
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
                f"SELECT {_quote(c.name)} AS nl2sql_value, count(*) AS nl2sql_count FROM {table.sql_ref} "
                f"WHERE {_quote(c.name)} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {TOP_VALUES}"
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
