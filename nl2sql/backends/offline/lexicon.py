"""The offline engine's lexicon: every name the catalog knows, normalised for matching.

Built from the catalog and its annotations: table, column and metric names and synonyms
(English and Chinese), and the values of low-cardinality text columns with their synonyms.
Built once per catalog and cached on it.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from nl2sql.data.catalog import Catalog, Column, Metric, Table

_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?|[\u4e00-\u9fff]")
CJK = re.compile(r"[\u4e00-\u9fff]")
_IRREGULAR = {"people": "person", "children": "child", "men": "man", "women": "woman", "sales": "sales",
              "series": "series", "status": "status", "analysis": "analysis", "business": "business",
              "address": "address", "campus": "campus"}


def singular(word: str) -> str:
    """A crude English lemma: plural nouns to singular (categories -> category)."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """Lower-case lemmatised tokens; underscores and camelCase split; CJK characters one by one."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text).replace("_", " ").lower()
    return [singular(t) for t in _TOKEN.findall(text)]


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
    """Phrase (as a token tuple) -> the terms it may mean; plus CJK phrases for substring search."""

    phrases: dict[tuple[str, ...], list[Term]]
    cjk: dict[str, list[Term]]
    max_len: int
    catalog: Catalog

    def known_words(self) -> list[str]:
        """Every single-word phrase (for 'closest known terms')."""
        return sorted({" ".join(p) for p in self.phrases})


def _add(store: dict[Any, list[Term]], key: Any, term: Term) -> None:
    bucket = store.setdefault(key, [])
    if term not in bucket:
        bucket.append(term)


def _names(name: str, synonyms: list[str]) -> list[str]:
    return [name, name.replace("_", " "), *synonyms]


def build_lexicon(catalog: Catalog) -> Lexicon:
    """The lexicon of a catalog (cached on the catalog object)."""
    cached = getattr(catalog, "_offline_lexicon", None)
    if cached is not None:
        return cached
    phrases: dict[tuple[str, ...], list[Term]] = {}
    cjk: dict[str, list[Term]] = {}

    def add(text: str, term: Term) -> None:
        text = str(text).strip()
        if not text:
            return
        if CJK.search(text):
            _add(cjk, text, term)
            return
        toks = tuple(tokens(text))
        if toks:
            _add(phrases, toks, term)

    for metric in catalog.metrics:
        for n in _names(metric.name, metric.synonyms):
            add(n, Term("metric", metric=metric.name))
    for table in catalog.tables:
        for n in _names(table.name, table.synonyms):
            add(n, Term("table", table=table.name))
        for col in table.columns:
            for n in _names(col.name, col.synonyms):
                add(n, Term("column", table=table.name, column=col.name))
            if col.is_text and not col.pii:
                for value in col.known_values():
                    add(value, Term("value", table=table.name, column=col.name, value=value))
                for value, syns in col.value_synonyms.items():
                    for s in syns:
                        add(s, Term("value", table=table.name, column=col.name, value=value))
    lexicon = Lexicon(phrases, cjk, max((len(p) for p in phrases), default=1), catalog)
    catalog._offline_lexicon = lexicon  # type: ignore[attr-defined]
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
