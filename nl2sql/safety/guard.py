"""The SQL guard: L1 (sqlglot allow-list) and L2 (DuckDB's own parser). DESIGN §6.

`guard(sql, catalog, max_rows)` returns a GuardedSQL, whose `.sql` is the exact text that
may run, or raises UnsafeSQLError / InvalidSQLError saying what was refused and why.

L1 fails closed: every node type and every function must be on an allow-list, so whatever
DuckDB adds in a future release is refused until someone reviews it; a function is judged by
the name DuckDB sees. Tables must be names from the catalog (`schema.table` only for a catalog
table of that schema) or CTEs of the query. SQL nested deeper than the parser's stack allows is
refused before parsing. L2 parses the exact text about to run with
DuckDB's parser on an empty, locked connection and requires one SELECT statement; sqlglot's
own rendering of the query is never run (it rewrites some constructs, e.g. SELECT … INTO).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, SqlglotError

from nl2sql.core.errors import InvalidSQLError, UnsafeSQLError, did_you_mean
from nl2sql.safety.allowlist import ALLOWED_FUNCTIONS, ALLOWED_NODES, function_name
from nl2sql.safety.parse import check_one_select

if TYPE_CHECKING:
    from nl2sql.data.catalog import Catalog

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its parse warnings are ours to report

MAX_SQL_CHARS = 100_000
MAX_NESTING = 25  # parentheses deep; sqlglot's parser recurses per level and Python's stack is finite
CARTESIAN_LIMIT = 50_000_000  # rows a join without any join condition may produce

@dataclasses.dataclass(frozen=True)
class GuardedSQL:
    """SQL that passed L1 (and L2, unless `parsed` is False): `sql` is the exact text that may run."""

    sql: str
    original: str
    tables: tuple[str, ...] = ()
    limit: int | None = None  # the row cap added or lowered by the guard, if any
    parsed: bool = False  # L2 done in this process; otherwise the worker does it right before running

    @property
    def as_written(self) -> str:
        """The query without the guard's row cap (its own LIMIT kept): what people are shown."""
        return without_cap(self.sql) if self.limit else self.sql


def _refuse(what: str, why: str, hint: str | None = None) -> UnsafeSQLError:
    return UnsafeSQLError(f"Refused: {what}. {why}", hint=hint or "Ask for a single SELECT query over the tables "
                          "listed by `nl2sql schema`.")


def _nesting(text: str) -> int:
    """How deeply parentheses nest in `text`, outside string literals, quoted names and comments."""
    depth = deepest = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"":
            end = text.find(ch, i + 1)
            while end != -1 and text[end + 1: end + 2] == ch:  # '' inside a literal
                end = text.find(ch, end + 2)
            i = n if end == -1 else end + 1
            continue
        if text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end == -1 else end + 1
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end == -1 else end + 2
            continue
        if ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")":
            depth -= 1
        i += 1
    return deepest


def _statement_kind(node: exp.Expr) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return {"Summarize": "SUMMARIZE", "Show": "SHOW", "Use": "USE", "Set": "SET", "Pragma": "PRAGMA",
            "Describe": "DESCRIBE", "Copy": "COPY", "Insert": "INSERT", "Update": "UPDATE", "Delete": "DELETE",
            "Drop": "DROP", "Create": "CREATE", "Alter": "ALTER", "Merge": "MERGE", "Attach": "ATTACH",
            "Detach": "DETACH", "Install": "INSTALL", "Load": "LOAD", "Export": "EXPORT"}.get(
        type(node).__name__, type(node).__name__.upper())


def _split_statements(sql: str) -> list[exp.Expr]:
    try:
        trees = sqlglot.parse(sql, read="duckdb")
    except ParseError as exc:
        errors = exc.errors[0] if exc.errors else {}
        detail = errors.get("description") or str(exc).splitlines()[0]
        line = errors.get("line")
        where = f" (line {line}, column {errors.get('col')})" if line else ""
        raise InvalidSQLError(f"The SQL does not parse{where}: {detail}.",
                              hint="Check the syntax near that point; DuckDB's SQL dialect is expected.") from None
    except SqlglotError as exc:
        raise InvalidSQLError(f"The SQL does not parse: {str(exc).splitlines()[0]}.") from None
    return [t for t in trees if t is not None and not isinstance(t, exp.Semicolon)]


def _check_nodes(tree: exp.Expr) -> None:
    for node in tree.walk():
        if type(node) in ALLOWED_NODES:
            continue
        if isinstance(node, exp.Func):
            name = function_name(node)
            if name not in ALLOWED_FUNCTIONS:
                raise _refuse(f"function {name}()", "It is not on nl2sql's list of functions that only compute "
                              "on values (no files, settings, variables or system tables).")
            continue
        if isinstance(node, exp.DML | exp.Create | exp.Drop | exp.Command | exp.Into | exp.Alter):
            raise _refuse(_statement_kind(node) if not isinstance(node, exp.Into) else "SELECT … INTO",
                          "Only read-only queries run; nothing may write, create or change anything.")
        if isinstance(node, exp.Func | exp.Binary | exp.Unary | exp.Condition):
            # known expression shapes not yet reviewed: refuse rather than guess (fail closed)
            raise _refuse(f"the SQL construct {type(node).__name__}",
                          "It is not on nl2sql's allow-list of read-only query constructs.")
        raise _refuse(f"the SQL construct {type(node).__name__}",
                      "It is not on nl2sql's allow-list of read-only query constructs.")


def _cte_names(tree: exp.Expr) -> set[str]:
    names: set[str] = set()
    for with_ in tree.find_all(exp.With):
        if with_.args.get("recursive"):
            raise _refuse("a recursive CTE (WITH RECURSIVE)", "Recursive queries can run without end.",
                          hint="Rewrite it without recursion.")
        names.update(cte.alias_or_name.lower() for cte in with_.expressions)
    return names


def _check_tables(tree: exp.Expr, catalog: Catalog) -> list[str]:
    ctes = _cte_names(tree)
    used: list[str] = []
    for table in tree.find_all(exp.Table):
        this = table.this
        if not isinstance(this, exp.Identifier):
            fname = function_name(this) if isinstance(this, exp.Func) else type(this).__name__
            raise _refuse(f"reading from {fname}(…)", "Table functions (files, globs, system information) "
                          "cannot be used; only the catalog's tables can.")
        name = this.name
        schema = table.args.get("db")
        if schema is not None:  # schema.table: only a catalog table of that schema (never a system schema)
            known = catalog.table(f"{schema.name}.{name}") if isinstance(schema, exp.Identifier) else None
            if known is None or table.args.get("catalog"):
                raise _refuse(f"the qualified table name {table.sql(dialect='duckdb')}",
                              "Use the table names listed by `nl2sql schema`.")
            used.append(known.name)
            continue
        if table.args.get("catalog"):
            raise _refuse(f"the qualified table name {table.sql(dialect='duckdb')}",
                          "Use the table names listed by `nl2sql schema`.")
        if name.lower() in ctes:
            continue
        known = catalog.table(name)
        if known is None:
            looks_like_path = "/" in name or "." in name or "\\" in name or ":" in name
            if looks_like_path:
                raise _refuse(f"reading the file {name!r}", "Queries may only read the catalog's tables.")
            raise InvalidSQLError(f"Unknown table '{name}'.", hint=did_you_mean(name, catalog.table_names)
                                  or f"Tables: {', '.join(catalog.table_names)}.")
        used.append(known.name)
    return sorted(set(used))


class _Components:
    """Union-find over the sources of one SELECT: which ones are linked by join conditions."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.parent = list(range(len(names)))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)

    def union_names(self, names: set[str], with_index: int | None = None) -> None:
        idx = [self.names.index(n) for n in sorted(names) if n in self.names]
        if with_index is not None:
            idx.append(with_index)
        for i in idx[1:]:
            self.union(idx[0], i)


def _check_joins(tree: exp.Expr, catalog: Catalog) -> None:
    """Refuse POSITIONAL joins and cartesian products of large tables (DoS, not analysis)."""
    for select in tree.find_all(exp.Select):
        joins = select.args.get("joins") or []
        if not joins:
            continue
        if any(str(j.args.get("method") or "").upper() == "POSITIONAL" for j in joins):
            raise _refuse("a POSITIONAL JOIN", "It pairs rows by position, which is rarely meant.",
                          hint="Join on a key column instead.")
        first = select.args["from_"].this if select.args.get("from_") else None
        sources = [first, *(j.this for j in joins)]
        parts = _Components([s.alias_or_name.lower() if s is not None else "" for s in sources])
        for i, join in enumerate(joins, start=1):
            cond = join.args.get("on")
            kind = str(join.args.get("kind") or "").upper()
            if join.args.get("using") or kind in ("SEMI", "ANTI") or isinstance(join.this, exp.Lateral):
                parts.union(i, i - 1)
            elif cond is not None and any(True for _ in cond.find_all(exp.Column)):
                # a condition on constants only (ON true, ON 1 = 1) links nothing
                qualified = {c.table.lower() for c in cond.find_all(exp.Column) if c.table}
                if qualified:
                    parts.union_names(qualified, with_index=i)
                else:
                    parts.union(i, i - 1)
        where = select.args.get("where")
        for pred in where.find_all(exp.Predicate) if where is not None else []:
            parts.union_names({c.table.lower() for c in pred.find_all(exp.Column) if c.table})
        largest: dict[int, int] = {}
        for i, source in enumerate(sources):
            root = parts.find(i)
            largest[root] = max(largest.get(root, 1), _source_rows(source, catalog))
        product = 1
        for size in largest.values():
            product *= max(size, 1)
        if len(largest) > 1 and product > CARTESIAN_LIMIT:
            raise _refuse("a join without a join condition",
                          f"It would pair every row with every row (about {product:,.0f} rows).",
                          hint="Add an ON condition that links the tables, e.g. ON a.id = b.a_id.")


def _source_rows(source: exp.Expr | None, catalog: Catalog) -> int:
    if isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
        db = source.args.get("db")
        table = catalog.table(f"{db.name}.{source.name}" if isinstance(db, exp.Identifier) else source.name)
        return table.row_count if table else 1
    return 1  # derived tables, CTEs and VALUES: their size is not known here; L4 limits them


def _check_columns(tree: exp.Expr, catalog: Catalog) -> None:
    """Unknown columns -> InvalidSQLError with a suggestion (sqlglot's optimizer qualifies them)."""
    from sqlglot.optimizer.qualify import qualify

    schema: dict[str, object] = {t.name: {c.name: c.type for c in t.columns} for t in catalog.tables}
    if any(t.schema for t in catalog.tables):  # several schemas: sqlglot wants one nesting depth for all
        nested: dict[str, dict[str, object]] = {}
        for table in catalog.tables:
            nested.setdefault(table.schema or "main", {})[table.base_name] = {c.name: c.type for c in table.columns}
        schema = dict(nested)
    try:
        qualify(tree.copy(), schema=schema, dialect="duckdb", validate_qualify_columns=True,
                quote_identifiers=False, identify=False)
    except OptimizeError as exc:
        match = re.search(r"Column '([^']+)' could not be resolved|Unknown column: (\S+)", str(exc))
        if not match:
            return  # not about a column we can name: DuckDB's binder will judge it
        name = (match.group(1) or match.group(2)).strip('"')
        known = {c.name.lower() for t in catalog.tables for c in t.columns}
        aliases = {a.alias.lower() for a in tree.find_all(exp.Alias)} | {
            c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
        if name.lower() in known or name.lower() in aliases:
            return  # sqlglot could not place a real column (scoping it does not model): let DuckDB bind it
        table_names = {t.alias_or_name.lower(): t.name for t in tree.find_all(exp.Table)}
        candidates = [c.name for n in set(table_names.values()) if (t := catalog.table(n)) for c in t.columns]
        hint = did_you_mean(name, candidates or known)
        raise InvalidSQLError(f"Unknown column '{name}'.",
                              hint=hint or "Run `nl2sql schema` to see the columns.") from None
    except SqlglotError:
        return


def _with_limit(text: str, tree: exp.Expr, cap: int) -> tuple[str, int | None]:
    """Add or lower the outermost LIMIT without letting sqlglot rewrite the query text."""
    limit = tree.args.get("limit")
    if limit is None and isinstance(tree, exp.Subquery | exp.Paren):
        return f"SELECT * FROM (\n{text}\n) AS nl2sql_capped\nLIMIT {cap}", cap
    if limit is None:
        if tree.args.get("offset") is not None or tree.args.get("fetch") is not None:
            return f"SELECT * FROM (\n{text}\n) AS nl2sql_capped\nLIMIT {cap}", cap
        return f"{text}\nLIMIT {cap}", cap
    value = limit.expression
    if isinstance(value, exp.Literal) and not value.is_string and value.this.isdigit() and int(value.this) <= cap:
        return text, None
    return f"SELECT * FROM (\n{text}\n) AS nl2sql_capped\nLIMIT {cap}", cap


_CAP_SUFFIX = re.compile(r"\nLIMIT \d+$")
_CAP_WRAPPER = re.compile(r"(?s)^SELECT \* FROM \(\n(.*)\n\) AS nl2sql_capped\nLIMIT \d+$")


def without_cap(sql: str) -> str:
    """The guarded text without the row cap the guard added (for storing or pinning the query)."""
    wrapped = _CAP_WRAPPER.match(sql)
    return wrapped.group(1) if wrapped else _CAP_SUFFIX.sub("", sql)


def _strip(text: str) -> str:
    """The SQL without surrounding whitespace and trailing semicolons."""
    stripped = text.strip()
    while stripped.endswith(";"):
        stripped = stripped[:-1].rstrip()
    return stripped


def duckdb_agrees(text: str) -> None:
    """L2: DuckDB's own parser must see exactly one SELECT statement in `text`."""
    check_one_select(text)


def guard(sql: str, catalog: Catalog, max_rows: int | None = 1000, parse_here: bool = True) -> GuardedSQL:
    """Prove `sql` is one read-only query over `catalog`'s tables (L1 + L2) and cap its rows.

    `max_rows=None` adds no cap: exports stream every row, within the sandbox's time and memory limits.

    With `parse_here=False`, L2 is left to the sandbox worker that runs the query: it parses the
    same text with DuckDB right before executing it, and refuses it otherwise.

    The row cap is `max_rows + 1`, so the sandbox can tell a result was truncated.
    """
    if not isinstance(sql, str) or not sql.strip():
        raise InvalidSQLError("The SQL is empty.", hint="Pass a SELECT query.")
    if len(sql) > MAX_SQL_CHARS:
        raise _refuse(f"SQL of {len(sql):,} characters", f"The limit is {MAX_SQL_CHARS:,}.",
                      hint="Shorten the query.")
    if "\x00" in sql:
        raise _refuse("a NUL character in the SQL", "It can make parsers disagree.")
    text = _strip(sql)
    if _nesting(text) > MAX_NESTING:
        raise _too_deep()
    try:
        return _guard(text, sql, catalog, max_rows, parse_here)
    except RecursionError:  # deep nesting without parentheses (NOT NOT NOT …, CASE in CASE …)
        raise _too_deep() from None


def _too_deep() -> UnsafeSQLError:
    return _refuse("SQL nested too deeply", f"The limit is {MAX_NESTING} levels (of parentheses, or as deep "
                   "without them); deeper SQL could exhaust the parser's stack.",
                   hint="Flatten the query: use WITH (CTEs) for the inner steps instead of nesting them.")


def _guard(text: str, sql: str, catalog: Catalog, max_rows: int | None, parse_here: bool) -> GuardedSQL:
    statements = _split_statements(text)
    if not statements:
        raise InvalidSQLError("The SQL holds no statement.", hint="Pass a SELECT query.")
    if len(statements) > 1:
        raise _refuse(f"{len(statements)} statements", "Only one query may run at a time.",
                      hint="Send a single SELECT without ';' between statements.")
    tree = statements[0]
    root = tree.this if isinstance(tree, exp.Subquery | exp.Paren) else tree
    if not isinstance(root, exp.Select | exp.SetOperation):
        raise _refuse(f"a {_statement_kind(tree)} statement", "Only read-only queries (SELECT, WITH … SELECT, "
                      "UNION) run.")
    if tree.find(exp.Into):
        raise _refuse("SELECT … INTO", "It creates a table; only read-only queries run.")
    _check_nodes(tree)
    tables = _check_tables(tree, catalog)
    _check_joins(tree, catalog)
    _check_columns(tree, catalog)
    final, cap = _with_limit(text, tree, max_rows + 1) if max_rows is not None else (text, None)
    if parse_here:
        duckdb_agrees(final)
    return GuardedSQL(sql=final, original=sql, tables=tuple(tables), limit=cap, parsed=parse_here)
