"""What a model may be told about a failed query: repair rounds under each privacy tier.

DuckDB's error text can quote data ("Could not convert string 'SECRET…' to INT32"): about forty
characters of any cell per round. Under `schema` and `stats` no value may reach a model, so the
error is told by its kind and every quoted text or number that is not a name or literal of the
query or the catalog is replaced. Under every tier the text is untrusted: e-mail addresses are
masked, long values cut, and the delimiters of the <error> block defused.
"""

from __future__ import annotations

import re

from nl2sql.core.errors import short_error
from nl2sql.core.text import untrusted
from nl2sql.data.catalog import Catalog


def repair_error(message: str, privacy: str = "rows", known: str = "") -> str:
    """The error text a repair round sends back to the model: untrusted, so shortened and scrubbed.

    DuckDB echoes data values in some errors ("Could not convert string 'ann@example.com' ...").
    Under every tier e-mail addresses and long quoted values are masked; under `schema` and `stats`
    (no values may reach the model) every value that is not in `known` (the query and the catalog's
    names) is replaced by its kind, so a failed query cannot carry a cell to the model.
    """
    text = re.sub(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", "<email>", message)
    if privacy != "rows":
        text = withhold_values(text, known)
    text = re.sub(r"'([^']{40})[^']+'", r"'\1…'", text)
    return short_error(Exception(untrusted(text)), 400)


_CONVERSION = re.compile(r"(?i)(?:could not convert|cannot cast|could not cast|conversion)[^'\"]*(['\"]).*?\1"
                         r"(?:\s*(?:to|as)\s+(?P<type>[A-Z][A-Z0-9_]*(?:\([^)]*\))?))?")
_QUOTED = re.compile(r"'((?:[^']|'')*)'|\"((?:[^\"]|\"\")*)\"")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
_TOKEN = re.compile(r"'((?:[^']|'')*)'|\"((?:[^\"]|\"\")*)\"|([\w.]+)")


def withhold_values(text: str, known: str) -> str:
    """Error text with no data values: a failed conversion told by its kind; quoted text and numbers
    that are not a name, literal or number of `known` (the query, the catalog) replaced by placeholders."""
    allowed = {next(g for g in m.groups() if g is not None).lower() for m in _TOKEN.finditer(known)}
    text = _CONVERSION.sub(lambda m: f"a value could not be converted to {m.group('type') or 'the type asked for'}",
                           text)
    text = _QUOTED.sub(lambda m: m.group(0) if (m.group(1) or m.group(2) or "").lower() in allowed else "<value>",
                       text)
    return _NUMBER.sub(lambda m: m.group(0) if m.group(0) in allowed else "<number>", text)


def catalog_names(catalog: Catalog) -> str:
    """The catalog's table and column names, as text a repair error may quote under any privacy tier."""
    return " ".join(f"{t.name} {' '.join(c.name for c in t.columns)}" for t in catalog.tables)


def reads_pii(sql: str, catalog: Catalog) -> bool:
    """True when `sql` names a column annotated `pii: true` (its error text may quote personal data)."""
    names = {c.name.lower() for t in catalog.tables for c in t.columns if c.pii}
    return bool(names) and any(w.lower() in names for w in re.findall(r"[A-Za-z_][\w$]*", sql))


def repair_tier(sql: str, catalog: Catalog, privacy: str) -> str:
    """The privacy tier a repair round's error text gets: values withheld whenever the query reads PII."""
    return "schema" if reads_pii(sql, catalog) else privacy
