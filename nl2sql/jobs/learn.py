"""Learning from people: answers they confirm become verified examples; corrections become synonyms.

Poisoning is what peers' users complain of, so every path into the store runs the SQL through
the guard and the sandbox first (an answer that did not run, or a SQL that fails now, is never
stored); an example is guarded again against today's schema whenever it is offered to a model
and dropped with a note when its tables or columns are gone; a `bad` on an answer that used
examples lowers them; and examples hold SQL and a fingerprint of the result, never rows.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

from nl2sql.core.audit import AuditLog
from nl2sql.core.errors import Nl2SqlError, UsageError, did_you_mean
from nl2sql.data.catalog import Catalog, Example
from nl2sql.data.examples import ExampleStore, Fingerprint, StoredExample, most_similar
from nl2sql.safety.guard import guard
from nl2sql.safety.sandbox import Sandbox

MEANT = re.compile(r"""(?:by\s+)?["'‘“](?P<phrase>[^"'’”]+)["'’”]\s+(?:i\s+)?meant\s+(?P<target>.+?)[.!]?$""", re.I)
_LITERAL = re.compile(r"'(?:[^']|'')*'")


@dataclasses.dataclass
class Imported:
    """What an import did: examples added, and what was rejected with why."""

    added: list[StoredExample]
    rejected: list[tuple[str, str]]  # (question, reason)


def confirm(store: ExampleStore, catalog: Catalog, sandbox: Sandbox, question: str, sql: str, source: str,
            max_rows: int, reading: str | None = None, history_id: int | None = None) -> StoredExample:
    """Guard and run `sql` (as written: the guard adds its row cap again) now; store it as the verified answer
    to `question` only if it runs."""
    result = sandbox.run(guard(sql, catalog, max_rows, parse_here=False), max_rows=max_rows)
    fingerprint = Fingerprint.of(result.column_names, result.rows)
    return store.add(question, sql, fingerprint, source, reading=reading, history_id=history_id)


def answered_entry(audit: AuditLog, entry_id: int | None, answered: bool = True) -> dict[str, Any]:
    """The history entry feedback is about: `entry_id`, or the latest (answered) question."""
    entry = audit.entry(entry_id, answered=answered)
    if entry is None:
        raise UsageError("There is no answered question to give feedback on." if entry_id is None
                         else f"There is no history entry {entry_id}.", hint="`nl2sql history` lists them.")
    if entry.get("kind") != "ask" or (answered and not entry.get("sql")):
        raise UsageError(f"History entry {entry['id']} is not an answered question.",
                         hint="Feedback is for answers: pick an id of `nl2sql history` with SQL.")
    return entry


def feedback_good(store: ExampleStore, audit: AuditLog, catalog: Catalog, sandbox: Sandbox, max_rows: int,
                  entry_id: int | None = None) -> StoredExample:
    """Mark an answer good: its question and SQL become a verified example (if the SQL runs now)."""
    entry = answered_entry(audit, entry_id)
    if entry.get("verdict") != "accepted" or entry.get("row_count") is None:
        raise UsageError(f"History entry {entry['id']} did not run, so it cannot be confirmed.",
                         hint="Only answers that ran are stored; ask again, then mark the answer good.")
    example = confirm(store, catalog, sandbox, entry["question"], entry["sql"], "feedback", max_rows,
                      reading=entry.get("reading"), history_id=entry["id"])
    audit.set_feedback(entry["id"], "good")
    return example


def feedback_bad(store: ExampleStore, audit: AuditLog, catalog: Catalog, sandbox: Sandbox, max_rows: int,
                 entry_id: int | None = None, why: str | None = None,
                 corrected_sql: str | None = None) -> tuple[dict[str, Any], StoredExample | None, str | None]:
    """Mark an answer bad: the examples it used are trusted less; a corrected SQL (when given and it runs)
    becomes the verified example; "by 'area' I meant region" becomes a synonym.

    Returns (the history entry, the example stored from the correction, the synonym learned as 'phrase -> target').
    """
    entry = answered_entry(audit, entry_id, answered=False)  # a refusal can be wrong too ("I meant region")
    audit.set_feedback(entry["id"], "bad", why)
    used = [int(i) for i in str(entry.get("examples") or "").split(",") if i.strip().isdigit()]
    store.lower(used)
    stored = None
    if corrected_sql:
        stored = confirm(store, catalog, sandbox, entry["question"], corrected_sql, "feedback", max_rows,
                         history_id=entry["id"])
    synonym = None
    if why and (m := MEANT.search(why.strip())):
        target = resolve_target(catalog, m.group("target"))
        store.add_synonym(m.group("phrase"), target)
        synonym = f"{m.group('phrase')} -> {target}"
    return entry, stored, synonym


# -- synonyms -----------------------------------------------------------------------------------------

def resolve_target(catalog: Catalog, text: str) -> str:
    """What a correction names: a metric, a table, table.column, a column (unique) or a column's value."""
    wanted = " ".join(text.strip().strip("'\"").split()).lower()
    for metric in catalog.metrics:
        if wanted in (metric.name.lower(), *(s.lower() for s in metric.synonyms)):
            return f"metric:{metric.name}"
    candidates: list[str] = []
    for table in catalog.tables:
        if wanted in (table.name.lower(), *(s.lower() for s in table.synonyms)):
            return f"table:{table.name}"
        for column in table.columns:
            spellings = (column.name.lower(), f"{table.name}.{column.name}".lower(),
                         *(s.lower() for s in column.synonyms))
            if wanted in spellings:
                candidates.append(f"column:{table.name}.{column.name}")
            elif not column.pii and any(wanted == str(v).lower() for v in column.known_values()):
                value = next(str(v) for v in column.known_values() if str(v).lower() == wanted)
                candidates.append(f"value:{table.name}.{column.name}={value}")
    if len(candidates) == 1:
        return candidates[0]
    if candidates and all(c.startswith("column:") for c in candidates):  # one name in several tables: all of them
        return "column:" + "|".join(c.removeprefix("column:") for c in candidates)
    names = [m.name for m in catalog.metrics] + catalog.table_names
    names += [c.name for t in catalog.tables for c in t.columns]
    raise UsageError(f"'{text}' names nothing this database holds." if not candidates
                     else f"'{text}' is ambiguous here: {', '.join(candidates)}.",
                     hint=did_you_mean(wanted, names) or "Name a table, a column (table.column) or a metric.")


def apply_synonyms(catalog: Catalog, synonyms: dict[str, str]) -> list[str]:
    """Merge learned synonyms into the catalog (both engines read it); returns notes on ones that no longer fit."""
    notes = []
    for phrase, target in synonyms.items():
        kind, _, name = target.partition(":")
        if kind == "metric" and (metric := catalog.metric(name)):
            metric.synonyms.append(phrase)
        elif kind == "table" and (table := catalog.table(name)):
            table.synonyms.append(phrase)
        elif kind == "column" and (found := [c for dotted in name.split("|") if (c := _column(catalog, dotted))]):
            for column in found:
                column.synonyms.append(phrase)
        elif kind == "value" and (column := _column(catalog, name.split("=")[0])):
            column.value_synonyms.setdefault(name.split("=", 1)[1], []).append(phrase)
        else:
            notes.append(f"The learned synonym '{phrase}' -> {target} no longer fits the data and was not used.")
    return notes


def _column(catalog: Catalog, dotted: str) -> Any:
    table_name, _, column_name = dotted.partition(".")
    table = catalog.table(table_name)
    return table.column(column_name) if table else None


# -- retrieval ----------------------------------------------------------------------------------------

def examples_for(question: str, store: ExampleStore, catalog: Catalog, privacy: str, max_rows: int,
                 k: int = 3) -> tuple[list[Example], list[str]]:
    """The verified examples to show a model for `question`, each guarded against today's schema.

    An example whose tables or columns are gone is dropped with a note; under privacy `schema` the
    literals in an example's SQL (data values) are replaced by '…'.
    """
    chosen, notes = [], []
    for _, example in most_similar(question, store.all(), catalog, k=k):
        try:
            guard(example.sql, catalog, max_rows, parse_here=False)
        except Nl2SqlError as exc:
            notes.append(f"Verified example {example.id} ('{example.question[:60]}') no longer fits the data and was "
                         f"not used: {exc.message}")
            continue
        sql = _LITERAL.sub("'…'", example.sql) if privacy == "schema" else example.sql
        chosen.append(Example(example.question, sql, id=example.id))
    return chosen, notes


# -- import and export --------------------------------------------------------------------------------

def read_pairs(path: Path) -> list[tuple[str, str]]:
    """(question, sql) pairs from a YAML file (an annotation file's `examples:` or a list) or JSON Lines."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Cannot read {path}: {exc}.") from None
    if path.suffix.lower() in (".jsonl", ".json"):
        items = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    items.append(json.loads(line))
                except ValueError:
                    raise UsageError(f"{path}, line {number}: not valid JSON.") from None
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise UsageError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}.") from None
        items = data.get("examples", []) if isinstance(data, dict) else data
    pairs = []
    for item in items if isinstance(items, list) else []:
        sql = item.get("sql") or (item.get("gold_sql") or [None])[0] if isinstance(item, dict) else None
        if isinstance(item, dict) and isinstance(item.get("question"), str) and isinstance(sql, str):
            pairs.append((item["question"], sql))
    if not pairs:
        raise UsageError(f"{path} holds no examples.", hint="Each needs a 'question' and an 'sql'.")
    return pairs


def import_examples(store: ExampleStore, catalog: Catalog, sandbox: Sandbox, path: Path, max_rows: int) -> Imported:
    """Add the pairs of a file; each SQL runs through the guard and the sandbox, and what fails is rejected."""
    done = Imported([], [])
    for question, sql in read_pairs(path):
        try:
            done.added.append(confirm(store, catalog, sandbox, question, sql, "import", max_rows))
        except Nl2SqlError as exc:
            done.rejected.append((question, exc.message))
    return done


def export_yaml(examples: list[StoredExample], existing: dict[str, Any] | None = None) -> str:
    """The examples as an annotation file's `examples:` (merged into `existing`, which keeps its other keys)."""
    import yaml

    data = dict(existing or {})
    known = {e.get("question"): e for e in data.get("examples") or [] if isinstance(e, dict)}
    for example in examples:
        known[example.question] = {"question": example.question, "sql": example.sql}
    data["examples"] = list(known.values())
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
