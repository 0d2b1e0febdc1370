"""The semantic layer: `schemas/<name>.yaml` (DESIGN §4), loaded, validated and merged.

Every table, column and relationship the file names must exist in the data; anything that
does not gets an AnnotationError with the file, the line where possible, and a "did you mean".
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from nl2sql.core.errors import AnnotationError, did_you_mean
from nl2sql.core.resources import bundled
from nl2sql.data.catalog import Catalog, Example, Metric, Relationship

TOP_KEYS = {"name", "description", "tables", "relationships", "metrics", "examples"}
TABLE_KEYS = {"description", "synonyms", "columns", "hidden"}
COLUMN_KEYS = {"description", "synonyms", "values", "value_synonyms", "pii", "hidden"}
METRIC_KEYS = {"description", "sql", "filter", "synonyms", "format"}
_NAME = r'(?:"[^"]+"|`[^`]+`|\w+)'  # a plain name, or any name in double quotes or backticks ("Agent ID")
_REL = re.compile(rf"^\s*({_NAME})\.({_NAME})\s*->\s*({_NAME})\.({_NAME})\s*$")
_DOTTED = re.compile(rf"^\s*({_NAME})\.({_NAME})\s*$")


def _loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_annotations(path: Path) -> dict[str, Any]:
    """Parse an annotation YAML file; malformed YAML is an error naming the line."""
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AnnotationError(f"Annotation file not found: {path}.",
                              hint="Check --schema, or run `nl2sql schema init` to write one.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnotationError(f"Cannot read annotation file {path}: {exc}.") from None
    try:
        data = yaml.load(text, Loader=_loader())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        opened = getattr(exc, "context_mark", None)
        if opened is not None and mark is not None and opened.line != mark.line:
            where += f" (in what opens at line {opened.line + 1})"
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise AnnotationError(f"{path} is not valid YAML{where}: {problem}.",
                              hint="Fix the YAML at that line (indentation and colons are the usual culprits).",
                              ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise AnnotationError(f"{path} must be a mapping with keys such as tables, metrics, examples.")
    return data


def _str_list(value: Any, where: str, path: Path) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return [str(v) for v in value]
    raise AnnotationError(f"{path}: {where} must be a list of strings.")


def _check_keys(found: dict[str, Any], allowed: set[str], where: str, path: Path) -> None:
    for key in found:
        if key not in allowed:
            hint = did_you_mean(str(key), allowed) or f"Allowed here: {', '.join(sorted(allowed))}."
            raise AnnotationError(f"{path}: unknown key '{key}' in {where}.", hint=hint)


def _mapping(value: Any, where: str, path: Path) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AnnotationError(f"{path}: {where} must be a mapping.")
    return value


def apply_annotations(catalog: Catalog, data: dict[str, Any], path: Path) -> Catalog:
    """Merge annotation `data` (from `path`) into `catalog` in place, validating every name."""
    _check_keys(data, TOP_KEYS, "the top level", path)
    catalog.annotation_path = str(path)
    catalog.description = data.get("description")
    hidden_tables: set[str] = set()
    for tname, tdata in _mapping(data.get("tables"), "tables", path).items():
        table = catalog.table(str(tname))
        if table is None:
            raise AnnotationError(
                f"{path}: table '{tname}' does not exist in {catalog.name}.",
                hint=did_you_mean(str(tname), catalog.table_names) or f"Tables: {', '.join(catalog.table_names)}.",
            )
        tdata = _mapping(tdata, f"tables.{tname}", path)
        _check_keys(tdata, TABLE_KEYS, f"tables.{tname}", path)
        if tdata.get("hidden"):
            hidden_tables.add(table.name)
        table.description = tdata.get("description", table.description)
        table.synonyms = _str_list(tdata.get("synonyms"), f"tables.{tname}.synonyms", path)
        hidden_cols: set[str] = set()
        for cname, cdata in _mapping(tdata.get("columns"), f"tables.{tname}.columns", path).items():
            column = table.column(str(cname))
            if column is None:
                names = [c.name for c in table.columns]
                raise AnnotationError(
                    f"{path}: column '{tname}.{cname}' does not exist.",
                    hint=did_you_mean(str(cname), names) or f"Columns of {tname}: {', '.join(names)}.",
                )
            cdata = _mapping(cdata, f"tables.{tname}.columns.{cname}", path)
            _check_keys(cdata, COLUMN_KEYS, f"tables.{tname}.columns.{cname}", path)
            where = f"tables.{tname}.columns.{cname}"
            column.description = cdata.get("description", column.description)
            column.synonyms = _str_list(cdata.get("synonyms"), f"{where}.synonyms", path)
            column.values = _str_list(cdata.get("values"), f"{where}.values", path)
            column.value_synonyms = {
                str(k): _str_list(v, f"{where}.value_synonyms.{k}", path)
                for k, v in _mapping(cdata.get("value_synonyms"), f"{where}.value_synonyms", path).items()
            }
            column.pii = bool(cdata.get("pii", False))
            if cdata.get("hidden"):
                hidden_cols.add(column.name)
        # hidden columns never reach a prompt or the guard's allow-list
        table.columns = [c for c in table.columns if c.name not in hidden_cols]
    catalog.tables = [t for t in catalog.tables if t.name not in hidden_tables]
    catalog.relationships = [r for r in catalog.relationships
                             if r.from_table not in hidden_tables and r.to_table not in hidden_tables]

    _apply_relationships(catalog, data.get("relationships") or [], path)

    catalog.metrics = []
    for name, mdata in _mapping(data.get("metrics"), "metrics", path).items():
        mdata = _mapping(mdata, f"metrics.{name}", path)
        _check_keys(mdata, METRIC_KEYS, f"metrics.{name}", path)
        if not isinstance(mdata.get("sql"), str) or not mdata["sql"].strip():
            raise AnnotationError(f"{path}: metric '{name}' needs an 'sql' expression.",
                                  hint="For example: sql: SUM(orders.amount)")
        for part in ("sql", "filter"):
            if mdata.get(part):
                _check_expression(catalog, str(mdata[part]), f"metrics.{name}.{part}", path)
        catalog.metrics.append(Metric(
            name=str(name), sql=mdata["sql"].strip(), description=mdata.get("description"),
            filter=(str(mdata["filter"]).strip() if mdata.get("filter") else None),
            synonyms=_str_list(mdata.get("synonyms"), f"metrics.{name}.synonyms", path),
            format=mdata.get("format"),
        ))

    catalog.examples = []
    for i, ex in enumerate(data.get("examples") or []):
        if not isinstance(ex, dict) or not ex.get("question") or not ex.get("sql"):
            raise AnnotationError(f"{path}: examples[{i}] needs 'question' and 'sql'.")
        _check_query(catalog, str(ex["sql"]), f"examples[{i}]", path)
        catalog.examples.append(Example(str(ex["question"]).strip(), str(ex["sql"]).strip()))
    return catalog


def _apply_relationships(catalog: Catalog, relationships: list[Any], path: Path) -> None:
    """Declared relationships replace inferred ones from the same column; names as the catalog spells them."""
    for i, rel in enumerate(relationships):
        parsed = _parse_relationship(rel, i, path)
        spelled: list[str] = []
        for t, c in ((parsed[0], parsed[1]), (parsed[2], parsed[3])):
            spelled += _require_column(catalog, t, c, f"relationships[{i}]", path)
        new = Relationship(spelled[0], spelled[1], spelled[2], spelled[3], origin="annotated")
        catalog.relationships = [r for r in catalog.relationships
                                 if (r.from_table, r.from_column) != (new.from_table, new.from_column)]
        catalog.relationships.append(new)


def _unquote(name: str) -> str:
    return name[1:-1] if name[:1] in "\"`" and name[-1:] == name[:1] else name


def _parse_relationship(rel: Any, i: int, path: Path) -> tuple[str, str, str, str]:
    if isinstance(rel, str) and (m := _REL.match(rel)):
        return _unquote(m.group(1)), _unquote(m.group(2)), _unquote(m.group(3)), _unquote(m.group(4))
    if isinstance(rel, dict) and isinstance(rel.get("from"), str) and isinstance(rel.get("to"), str):
        a, b = _DOTTED.match(rel["from"]), _DOTTED.match(rel["to"])
        if a and b:
            return _unquote(a.group(1)), _unquote(a.group(2)), _unquote(b.group(1)), _unquote(b.group(2))
    raise AnnotationError(f"{path}: relationships[{i}] must look like 'orders.customer_id -> customers.customer_id' "
                          "(quote names with spaces: tickets.\"Assigned Agent\" -> agents.\"Agent ID\").")


def _require_column(catalog: Catalog, table: str, column: str, where: str, path: Path) -> list[str]:
    """[table, column] as the catalog spells them; an error naming the closest names if either is missing."""
    t = catalog.table(table)
    if t is None:
        raise AnnotationError(f"{path}: {where} names table '{table}', which does not exist.",
                              hint=did_you_mean(table, catalog.table_names))
    found = t.column(column)
    if found is None:
        raise AnnotationError(f"{path}: {where} names column '{table}.{column}', which does not exist.",
                              hint=did_you_mean(column, [c.name for c in t.columns]))
    return [t.name, found.name]


def _check_expression(catalog: Catalog, text: str, where: str, path: Path) -> None:
    """A metric expression must parse and name only existing tables and columns."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise AnnotationError(f"{path}: {where} is not valid SQL: {str(exc).splitlines()[0]}") from None
    all_columns = {c.name.lower() for t in catalog.tables for c in t.columns}
    for col in tree.find_all(exp.Column):
        if col.table:
            _require_column(catalog, col.table, col.name, where, path)
        elif col.name.lower() not in all_columns:
            raise AnnotationError(f"{path}: {where} names column '{col.name}', which no table has.",
                                  hint=did_you_mean(col.name, sorted(all_columns)))


def _check_query(catalog: Catalog, text: str, where: str, path: Path) -> None:
    """An example query must parse and read only tables that exist."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise AnnotationError(f"{path}: {where} is not valid SQL: {str(exc).splitlines()[0]}") from None
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if table.name.lower() not in ctes and catalog.table(table.name) is None:
            raise AnnotationError(f"{path}: {where} reads table '{table.name}', which does not exist.",
                                  hint=did_you_mean(table.name, catalog.table_names))


def find_annotation_file(
    name: str, explicit: str | None, schemas_dir: str | None, cwd: Path | None = None
) -> Path | None:
    """The annotation file to use: --schema, else schemas/<name>.yaml in the configured
    schemas dir, the working directory's schemas/, or the bundled schemas (first found)."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise AnnotationError(f"Annotation file not found: {explicit}.",
                                  hint="Check the path given to --schema.")
        return path
    dirs = [Path(schemas_dir).expanduser()] if schemas_dir else []
    dirs += [(cwd or Path.cwd()) / "schemas", bundled("schemas")]
    for d in dirs:
        for ext in (".yaml", ".yml"):
            candidate = d / f"{name}{ext}"
            if candidate.is_file():
                return candidate
    return None


def skeleton(catalog: Catalog) -> str:
    """A YAML annotation skeleton pre-filled from introspection (`nl2sql schema init`)."""
    import yaml

    tables: dict[str, Any] = {}
    for t in catalog.tables:
        cols: dict[str, Any] = {}
        for c in t.columns:
            entry: dict[str, Any] = {"description": ""}
            if c.is_text and c.profile.top_values:
                entry["values"] = [str(v) for v, _ in c.profile.top_values[:20]]
            if c.is_text and any(k in c.name.lower() for k in ("email", "phone", "name", "address")):
                entry["pii"] = False
            cols[c.name] = entry
        tables[t.name] = {"description": "", "synonyms": [], "columns": cols}
    data = {
        "tables": tables,
        "relationships": [f"{r.from_table}.{r.from_column} -> {r.to_table}.{r.to_column}"
                          for r in catalog.relationships],
        "metrics": {},
        "examples": [],
    }
    header = (f"# Semantic layer for '{catalog.name}', written by `nl2sql schema init`.\n"
              "# Fill in descriptions and synonyms; add metrics (sql + filter) and verified\n"
              "# examples (question + sql). Delete what you do not need.\n")
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
