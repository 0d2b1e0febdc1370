"""The offline engine's lexicon: every name the catalog knows, normalised for matching.

Built from the catalog and its annotations: table, column and metric names and synonyms
(English and Chinese), the values of low-cardinality text columns with their synonyms, the
event noun of each date column ("signup" for signup_date), "<table> name" for a table's name
column, and any extra synonyms the caller has learned (`build_lexicon(catalog, synonyms)`).
Built once per catalog and set of synonyms, and cached on the catalog.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping

from nl2sql.backends.offline.tokens import CJK, words
from nl2sql.data.catalog import Catalog, Column, Metric, Table

_DATE_WORDS = {"date", "day", "time", "timestamp", "ts", "dt", "on", "at", "datetime", "日期", "时间"}


@dataclasses.dataclass(frozen=True)
class Term:
    """What a phrase means: a metric, a column, a table, or a value of a column."""

    kind: str  # metric | column | table | value
    table: str | None = None
    column: str | None = None
    value: str | None = None
    metric: str | None = None

    def describe(self) -> str:
        """A short human label for messages."""
        if self.kind == "metric":
            return f"metric {self.metric}"
        if self.kind == "value":
            return f"{self.table}.{self.column} = {self.value!r}"
        if self.kind == "column":
            return f"column {self.table}.{self.column}"
        return f"table {self.table}"


@dataclasses.dataclass
class Lexicon:
    """Phrase (a tuple of lemmas) -> the terms it may mean; CJK phrases by their characters."""

    phrases: dict[tuple[str, ...], list[Term]]
    cjk: dict[str, list[Term]]
    max_len: int
    catalog: Catalog

    def known_words(self) -> list[str]:
        """Every phrase the lexicon knows (for 'closest known terms')."""
        return sorted({" ".join(p) for p in self.phrases} | set(self.cjk))


def _add(store: dict, key: object, term: Term) -> None:
    bucket = store.setdefault(key, [])
    if term not in bucket:
        bucket.append(term)


def label_column(table: Table) -> Column:
    """The column that names a table's rows: a text column called *name* or *title*, else its key."""
    for c in table.columns:
        if c.is_text and ("name" in c.name.lower() or "title" in c.name.lower()):
            return c
    keys = [c for c in table.columns if c.primary_key] or [
        c for c in table.columns if c.name.lower().replace(" ", "").endswith("id")]
    return keys[0] if keys else table.columns[0]


def label_has_name(table: Table) -> bool:
    """True when a table's rows have names (a text column called *name* or *title*)."""
    label = label_column(table)
    return label.is_text and ("name" in label.name.lower() or "title" in label.name.lower())


def term_for(catalog: Catalog, target: str) -> Term | None:
    """The term a learned synonym points at: 'metric', 'table', 'table.column' or 'table.column=value'."""
    name, _, value = target.partition("=")
    table_name, _, column_name = name.strip().partition(".")
    metric = catalog.metric(table_name)
    if not column_name and metric is not None:
        return Term("metric", metric=metric.name)
    table = catalog.table(table_name)
    if table is None:
        return None
    if not column_name:
        return Term("table", table=table.name)
    column = table.column(column_name)
    if column is None:
        return None
    if value:
        return Term("value", table=table.name, column=column.name, value=value.strip())
    return Term("column", table=table.name, column=column.name)


class _Builder:
    def __init__(self) -> None:
        self.phrases: dict[tuple[str, ...], list[Term]] = {}
        self.cjk: dict[str, list[Term]] = {}

    def add(self, text: object, term: Term) -> None:
        text = str(text).strip()
        if not text:
            return
        if CJK.search(text):
            _add(self.cjk, text.lower(), term)
            return
        key = tuple(words(text))
        if key:
            _add(self.phrases, key, term)

    def known(self, text: str) -> bool:
        return (text in self.cjk) if CJK.search(text) else tuple(words(text)) in self.phrases


def _names(name: str, synonyms: Iterable[str]) -> list[str]:
    return [name, name.replace("_", " "), *synonyms]


def _event_nouns(column: Column) -> list[str]:
    """'signup' for signup_date, 'launched' for launched_on, '注册' for 注册日期."""
    out = []
    for name in _names(column.name, column.synonyms):
        if CJK.search(name):
            stem = re.sub(r"(日期|时间)$", "", name)
            out += [stem] if stem != name and len(stem) >= 2 else []
            continue
        parts = [w for w in words(name) if w not in _DATE_WORDS]
        out += [" ".join(parts)] if parts and len(parts) < len(words(name)) else []
    return out


def _add_table(b: _Builder, table: Table) -> None:
    for n in _names(table.name, table.synonyms):
        b.add(n, Term("table", table=table.name))
    for col in table.columns:
        for n in _names(col.name, col.synonyms):
            b.add(n, Term("column", table=table.name, column=col.name))
        if col.is_text and not col.pii:
            for value in col.known_values():
                b.add(value, Term("value", table=table.name, column=col.name, value=value))
            for value, syns in col.value_synonyms.items():
                for s in syns:
                    b.add(s, Term("value", table=table.name, column=col.name, value=value))


def _add_derived(b: _Builder, table: Table) -> None:
    """Event nouns of date columns and '<table> name', where nothing else uses the words."""
    for col in table.columns:
        if col.is_temporal:
            for noun in _event_nouns(col):
                if not b.known(noun):
                    b.add(noun, Term("column", table=table.name, column=col.name))
    label = label_column(table)
    if "name" in label.name.lower() or "title" in label.name.lower():
        for n in _names(table.name, table.synonyms):
            if not CJK.search(n):
                for word in ("name", "title"):
                    phrase = f"{' '.join(words(n))} {word}"
                    if not b.known(phrase):
                        b.add(phrase, Term("column", table=table.name, column=label.name))


def _fingerprint(catalog: Catalog) -> int:
    """Changes when a name or synonym is added to the catalog (learned synonyms arrive mid-session)."""
    parts: list[object] = [(m.name, tuple(m.synonyms)) for m in catalog.metrics]
    for t in catalog.tables:
        parts.append((t.name, tuple(t.synonyms)))
        parts += [(c.name, tuple(c.synonyms), tuple(c.values),
                   tuple((k, tuple(v)) for k, v in c.value_synonyms.items())) for c in t.columns]
    return hash(tuple(parts))


def build_lexicon(catalog: Catalog, synonyms: Mapping[str, Iterable[str]] | None = None) -> Lexicon:
    """The lexicon of a catalog (cached on it), with extra synonyms: target -> phrases (see term_for)."""
    extra = (_fingerprint(catalog), tuple(sorted((k, tuple(v)) for k, v in (synonyms or {}).items())))
    cache: dict[tuple, Lexicon] = catalog.__dict__.setdefault("_offline_lexicons", {})
    if extra in cache:
        return cache[extra]
    b = _Builder()
    for metric in catalog.metrics:
        for n in _names(metric.name, metric.synonyms):
            b.add(n, Term("metric", metric=metric.name))
    for table in catalog.tables:
        _add_table(b, table)
    for target, phrases in extra[1]:
        term = term_for(catalog, target)
        if term is not None:
            for phrase in phrases:
                b.add(phrase, term)
    for table in catalog.tables:
        _add_derived(b, table)
    lexicon = Lexicon(b.phrases, b.cjk, max((len(p) for p in b.phrases), default=1), catalog)
    cache[extra] = lexicon
    return lexicon


def table_of(catalog: Catalog, name: str) -> Table:
    """The table called name (it must exist)."""
    table = catalog.table(name)
    assert table is not None, name
    return table


def column_of(catalog: Catalog, table: str, column: str) -> Column:
    """The column table.column (it must exist)."""
    col = table_of(catalog, table).column(column)
    assert col is not None, (table, column)
    return col


def metric_of(catalog: Catalog, name: str) -> Metric:
    """The metric called name (it must exist)."""
    metric = catalog.metric(name)
    assert metric is not None, name
    return metric
