"""Build the catalog of a data source: introspection (cached on disk) + the annotation file.

The base catalog is cached under the data dir keyed by the source's files and their sizes and
times; the merged catalog is cached too, keyed by the data and the annotation file, so a warm
start parses neither the YAML nor the metric SQL again. A damaged cache is rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from nl2sql.core.files import write_atomic
from nl2sql.data.annotations import apply_annotations, load_annotations
from nl2sql.data.catalog import Catalog
from nl2sql.data.introspect import introspect
from nl2sql.data.sources import DataSource, connect

CACHE_FORMAT = 4  # 4: tables of every schema; files that were skipped


def _cache_path(home: Path, source: DataSource) -> Path:
    key = hashlib.sha256(f"{source.kind}:{source.path}".encode()).hexdigest()[:24]
    return home / "profiles" / f"{key}.json"


def _cached(path: Path | None, key: dict[str, Any]) -> Catalog | None:
    """The catalog stored at `path` when it was stored under the same key, else None."""
    if path is None:
        return None
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached.get("format") == CACHE_FORMAT and cached.get("key") == key:
            return Catalog.from_dict(cached["catalog"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # a missing or damaged cache is rebuilt, never trusted
    return None


def _store(path: Path | None, key: dict[str, Any], catalog: Catalog, problems: list[str] | None) -> None:
    """Cache the catalog; a cache that cannot be written costs time next run, never this answer."""
    if path is None:
        return
    try:
        write_atomic(path, json.dumps({"format": CACHE_FORMAT, "key": key, "catalog": catalog.to_dict()}))
    except OSError as exc:
        if problems is not None:
            problems.append(f"The profile cache could not be written ({exc.strerror or exc}); "
                            "the next run profiles the data again.")


def load_base_catalog(source: DataSource, home: Path | None, use_cache: bool = True,
                      problems: list[str] | None = None) -> Catalog:
    """Introspect and profile `source`; reuse the cached result while the data is unchanged."""
    key = {"fingerprint": [list(x) for x in source.fingerprint()]}
    path = _cache_path(home, source) if home and use_cache else None
    cached = _cached(path, key)
    if cached is not None:
        return cached
    skipped: list[str] = []  # files of a folder that could not be read (the catalog keeps them: warnings)
    con = connect(source, skipped)
    try:
        tables, relationships = introspect(con)
    finally:
        con.close()
    catalog = Catalog(name=source.name, tables=tables, relationships=relationships, skipped=skipped)
    _store(path, key, catalog, problems)
    return catalog


def build_catalog(source: DataSource, annotation_path: Path | None = None, home: Path | None = None,
                  use_cache: bool = True, problems: list[str] | None = None) -> Catalog:
    """The full catalog: introspection + profiles (cached) merged with the annotation file.

    `problems` collects what went wrong on the side (a cache that could not be written).
    """
    merged_path, key = None, {}
    if annotation_path is not None and home is not None and use_cache:
        stat = Path(annotation_path).stat()
        key = {"fingerprint": [list(x) for x in source.fingerprint()],
               "annotation": [str(Path(annotation_path).resolve()), stat.st_size, stat.st_mtime_ns]}
        merged_path = _cache_path(home, source).with_suffix(
            "." + hashlib.sha256(json.dumps(key["annotation"]).encode()).hexdigest()[:16] + ".json")
        cached = _cached(merged_path, key)
        if cached is not None:
            return cached
    catalog = load_base_catalog(source, home, use_cache, problems)
    if annotation_path is not None:
        apply_annotations(catalog, load_annotations(annotation_path), annotation_path)
        _store(merged_path, key, catalog, problems)
    return catalog
