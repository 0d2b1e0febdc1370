"""What `--db` points at, and how to open it in DuckDB.

Accepted: a DuckDB file; a CSV / TSV / Parquet / JSON (or JSON Lines) file; a glob of such
files (read as one table, the way DuckDB reads globs); a folder of such files (one table per
file, named after it). No `--db` means the bundled shop sample data.

Files are loaded into an in-memory database as tables, so a connection can cut off external
access afterwards (DESIGN §6 L3: data files are loaded before access is cut).
"""

from __future__ import annotations

import dataclasses
import glob as globlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from nl2sql.core.errors import DataSourceError, short_error
from nl2sql.core.resources import bundled

if TYPE_CHECKING:
    import duckdb

DUCKDB_SUFFIXES = {".duckdb", ".db", ".ddb"}
READERS = {
    ".csv": "read_csv", ".tsv": "read_csv", ".txt": "read_csv",
    ".parquet": "read_parquet", ".pq": "read_parquet",
    ".json": "read_json", ".jsonl": "read_json", ".ndjson": "read_json",
}
_GLOB_CHARS = re.compile(r"[*?\[]")


@dataclasses.dataclass(frozen=True)
class DataSource:
    """A resolved data source: a DuckDB file, or a set of tables read from data files."""

    name: str  # used to find schemas/<name>.yaml
    kind: str  # "duckdb" or "files"
    path: Path  # the file, folder or glob as given (resolved)
    files: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (table, reader, paths)

    def fingerprint(self) -> list[tuple[str, int, int]]:
        """(path, size, mtime) of everything the data is read from: changes when data changes."""
        paths = [self.path] if self.kind == "duckdb" else [Path(p) for _, _, ps in self.files for p in ps]
        out = []
        for p in sorted(paths):
            st = p.stat()
            out.append((str(p), st.st_size, st.st_mtime_ns))
        return out

    @property
    def table_names(self) -> list[str]:
        """Table names for file sources (a DuckDB file's tables come from introspection)."""
        return [t for t, _, _ in self.files]


def table_name_for(path: Path) -> str:
    """A safe SQL identifier from a file name: 'Sales 2024.csv' -> 'sales_2024'."""
    stem = path.name.split(".")[0]
    name = re.sub(r"\W+", "_", stem).strip("_").lower() or "data"
    return f"t_{name}" if name[0].isdigit() else name


def _data_files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in READERS)


def _check_nonempty(path: Path) -> None:
    if path.stat().st_size == 0:
        raise DataSourceError(f"{path} is empty.", hint="Point --db at a file that holds data.")


def resolve(db: str | Path | None) -> DataSource:
    """Turn the `--db` value into a DataSource, or raise a DataSourceError a person can act on."""
    if db is None or str(db) == "":
        folder = bundled("shop")
        return DataSource("shop", "files", folder, _folder_tables(folder))
    text = str(db)
    if _GLOB_CHARS.search(text):
        matches = sorted(Path(m) for m in globlib.glob(text, recursive=True) if Path(m).is_file())
        if not matches:
            raise DataSourceError(f"No files match {text}.", hint="Check the pattern and the folder.")
        suffixes = {p.suffix.lower() for p in matches}
        if len(suffixes) != 1 or next(iter(suffixes)) not in READERS:
            raise DataSourceError(
                f"{text} matches files of mixed or unsupported types ({', '.join(sorted(suffixes))}).",
                hint="Use a pattern that matches only .csv, .parquet or .json files.",
            )
        for p in matches:
            _check_nonempty(p)
        stem = _GLOB_CHARS.split(Path(text).name)[0].rstrip("_-. ") or Path(text).parent.name
        table = table_name_for(Path(stem or "data"))
        reader = READERS[next(iter(suffixes))]
        return DataSource(table, "files", Path(text),
                          ((table, reader, tuple(str(p.resolve()) for p in matches)),))
    path = Path(text).expanduser()
    if not path.exists():
        raise DataSourceError(
            f"No such file or folder: {text}.",
            hint="Pass --db a DuckDB file, a CSV/Parquet/JSON file or glob, or a folder of them.",
        )
    path = path.resolve()
    if path.is_dir():
        return DataSource(path.name, "files", path, _folder_tables(path))
    _check_nonempty(path)
    suffix = path.suffix.lower()
    if suffix in READERS:
        return DataSource(path.stem, "files", path,
                          ((table_name_for(path), READERS[suffix], (str(path),)),))
    if suffix in DUCKDB_SUFFIXES or _is_duckdb_file(path):
        return DataSource(path.stem, "duckdb", path)
    raise DataSourceError(
        f"{path.name} is not a DuckDB database or a CSV/Parquet/JSON file.",
        hint="Supported: .duckdb/.db, .csv/.tsv, .parquet, .json/.jsonl, a glob, or a folder.",
    )


def _is_duckdb_file(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(16)[8:12] == b"DUCK"


def _folder_tables(folder: Path) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    files = _data_files_in(folder)
    if not files:
        raise DataSourceError(
            f"{folder} holds no CSV, Parquet or JSON files.",
            hint="Each data file in the folder becomes a table named after the file.",
        )
    tables: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    for p in files:
        _check_nonempty(p)
        name = table_name_for(p)
        if name in tables:
            raise DataSourceError(
                f"Two files in {folder} would both become table '{name}'.",
                hint="Rename one of them.",
            )
        tables[name] = (name, READERS[p.suffix.lower()], (str(p),))
    return tuple(tables.values())


def connect(source: DataSource) -> duckdb.DuckDBPyConnection:
    """Open the data: a DuckDB file read-only, or files loaded as tables into memory.

    The caller hardens the connection afterwards (sandbox) or uses it as is (introspection).
    """
    import duckdb

    if source.kind == "duckdb":
        try:
            con = duckdb.connect(str(source.path), read_only=True)
        except duckdb.Error as exc:
            raise DataSourceError(
                f"Cannot open {source.path.name} as a DuckDB database: {short_error(exc)}",
                hint="Is it a DuckDB file written by a compatible DuckDB version?",
            ) from None
        tables = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchone()
        views = con.execute(
            "SELECT count(*) FROM duckdb_views() WHERE NOT internal AND database_name = current_database()"
        ).fetchone()
        if not (tables and tables[0]) and not (views and views[0]):
            con.close()
            raise DataSourceError(f"{source.path.name} has no tables.", hint="Load data into it first.")
        return con
    con = duckdb.connect(":memory:")
    for table, reader, paths in source.files:
        args = ", header = true, delim = '\\t'" if reader == "read_csv" and paths[0].endswith(".tsv") else ""
        if reader == "read_csv" and not args:
            args = ", header = true"
        if len(paths) > 1:
            args += ", union_by_name = true"
        try:
            con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM {reader}(?{args})', [list(paths)])
        except duckdb.Error as exc:
            con.close()
            kind = {"read_csv": "CSV", "read_parquet": "Parquet", "read_json": "JSON"}[reader]
            raise DataSourceError(
                f"Cannot read {Path(paths[0]).name} as {kind}: {short_error(exc)}",
                hint="Check that the file is complete and in the format its extension says.",
            ) from None
    return con
