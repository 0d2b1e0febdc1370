"""What `--db` points at, and how to open it in DuckDB.

Accepted: a DuckDB file (every schema in it: names are qualified, `sales.orders`, only where two
schemas hold a table of the same name); a CSV / TSV / Parquet / JSON (or JSON Lines) file; a glob
of such files (read as one table, the way DuckDB reads globs); a folder of such files (one table
per file, named after it; a file that cannot be read is skipped with a warning naming it). Only
these extensions are read. No `--db` means the bundled shop sample data.

A CSV file whose rows do not all have the header's number of fields, or that is not UTF-8, is an
error naming the file, the line and the cause; it is never read as one wide text column.

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
    ".csv": "read_csv", ".tsv": "read_csv",
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


def resolve(db: str | Path | None, problems: list[str] | None = None) -> DataSource:
    """Turn the `--db` value into a DataSource, or raise a DataSourceError a person can act on.

    `problems` collects warnings: files of a folder that are skipped (empty ones, here)."""
    if db is None or str(db) == "":
        folder = bundled("shop")
        return DataSource("shop", "files", folder, _folder_tables(folder, problems))
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
        return DataSource(path.name, "files", path, _folder_tables(path, problems))
    _check_nonempty(path)
    suffix = path.suffix.lower()
    if suffix in READERS:
        return DataSource(path.stem, "files", path,
                          ((table_name_for(path), READERS[suffix], (str(path),)),))
    if suffix in DUCKDB_SUFFIXES or _is_duckdb_file(path):
        return DataSource(path.stem, "duckdb", path)
    raise DataSourceError(
        f"{path.name} is not a DuckDB database or a CSV/Parquet/JSON file.",
        hint="Supported: .duckdb/.db/.ddb, .csv/.tsv, .parquet/.pq, .json/.jsonl/.ndjson, a glob, or a folder "
             "of them; rename a CSV file that has another extension to .csv.",
    )


def _is_duckdb_file(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(16)[8:12] == b"DUCK"


def _folder_tables(folder: Path, problems: list[str] | None = None) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    files = _data_files_in(folder)
    if not files:
        raise DataSourceError(
            f"{folder} holds no CSV, Parquet or JSON files.",
            hint="Each data file in the folder becomes a table named after the file.",
        )
    tables: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    for p in files:
        name = table_name_for(p)
        if name in tables:
            raise DataSourceError(
                f"Two files in {folder} would both become table '{name}'.",
                hint="Rename one of them.",
            )
        if p.stat().st_size == 0:
            _skip(problems, p, "it is empty")
            continue
        tables[name] = (name, READERS[p.suffix.lower()], (str(p),))
    if not tables:
        raise DataSourceError(f"Every data file in {folder} is empty.", hint="Point --db at files that hold data.")
    return tuple(tables.values())


def _skip(problems: list[str] | None, path: Path, why: str) -> None:
    if problems is not None:
        problems.append(f"Skipped {path.name} in {path.parent}: {why}.")


def connect(source: DataSource, problems: list[str] | None = None) -> duckdb.DuckDBPyConnection:
    """Open the data: a DuckDB file read-only, or files loaded as tables into memory.

    In a folder, a file that cannot be read is skipped (its reason added to `problems`) as long
    as another file can be; a single file or a glob that cannot be read is an error. The caller
    hardens the connection afterwards (sandbox) or uses it as is (introspection).
    """
    import duckdb

    if source.kind == "duckdb":
        return _open_duckdb_file(source.path)
    con = duckdb.connect(":memory:")
    in_folder = source.path.is_dir() and len(source.files) > 1
    loaded = 0
    for table, reader, paths in source.files:
        try:
            _load_table(con, table, reader, paths)
            loaded += 1
        except DataSourceError as exc:
            if not in_folder:
                con.close()
                raise
            _skip(problems, Path(paths[0]), exc.message[0].lower() + exc.message[1:].rstrip("."))
            con.execute(f'DROP TABLE IF EXISTS "{table}"')
    if not loaded:
        con.close()
        raise DataSourceError(f"No file in {source.path} could be read.",
                              hint="Check that the files are complete and in the format their extensions say.")
    return con


def _open_duckdb_file(path: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB file opened read-only, every schema of it on the search path (main first)."""
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise DataSourceError(
            f"Cannot open {path.name} as a DuckDB database: {short_error(exc)}",
            hint="Is it a DuckDB file written by a compatible DuckDB version?",
        ) from None
    schemas = [r[0] for r in con.execute(
        "SELECT DISTINCT schema_name FROM duckdb_tables() WHERE database_name = current_database() "
        "UNION SELECT DISTINCT schema_name FROM duckdb_views() WHERE NOT internal "
        "AND database_name = current_database() ORDER BY 1").fetchall()]
    if not schemas:
        con.close()
        raise DataSourceError(f"{path.name} has no tables.", hint="Load data into it first.")
    search = ["main", *(s for s in schemas if s != "main")]
    con.execute("SET search_path = " + _literal(",".join(_ident(s) for s in search)))
    return con


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _load_table(con: duckdb.DuckDBPyConnection, table: str, reader: str, paths: tuple[str, ...]) -> None:
    """Load one table from its files; a file that cannot be read is a DataSourceError naming line and cause."""
    import duckdb

    args = ", header = true, delim = '\\t'" if reader == "read_csv" and paths[0].endswith(".tsv") else ""
    if reader == "read_csv" and not args:
        args = ", header = true"
    if len(paths) > 1:
        args += ", union_by_name = true"
    name = Path(paths[0]).name if len(paths) == 1 else f"{Path(paths[0]).name} (and {len(paths) - 1} more)"
    kind = {"read_csv": "CSV", "read_parquet": "Parquet", "read_json": "JSON"}[reader]
    try:
        con.execute(f'CREATE TABLE {_ident(table)} AS SELECT * FROM {reader}(?{args})', [list(paths)])
    except duckdb.Error as exc:
        raise DataSourceError(f"Cannot read {name} as {kind}: {_read_error(exc)}",
                              hint=_read_hint(str(exc))) from None
    if reader == "read_csv":
        _check_csv_shape(con, table, paths)


_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")


def _read_error(exc: Exception) -> str:
    """DuckDB's reason for a file it could not read: the line and the cause, not just the first line."""
    text = str(exc)
    line = _CSV_LINE.search(text)
    if not line:
        return short_error(exc)
    # DuckDB: "CSV Error on Line: 2\nOriginal Line: ...\n<the cause>\n\nPossible Solution: ..."
    rest = [ln.strip() for ln in text[line.end():].splitlines() if ln.strip()]
    cause = next((ln for ln in rest if not ln.startswith(("Original Line", "Possible", "file =", "  "))), "")
    return f"line {line.group(1)}: {short_error(Exception(cause)) if cause else 'malformed'}"


def _read_hint(text: str) -> str:
    if "unicode" in text.lower() or "utf-8" in text.lower():
        return "Save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 in.csv > out.csv`)."
    if "Expected Number of Columns" in text or "too many columns" in text.lower():
        return "Every row needs the header's number of fields; quote fields that contain the delimiter."
    return "Check that the file is complete and in the format its extension says."


_DELIMITERS = (",", ";", "\t", "|")


def _check_csv_shape(con: duckdb.DuckDBPyConnection, table: str, paths: tuple[str, ...]) -> None:
    """A CSV that DuckDB read as one column although its header holds a delimiter has ragged rows:
    name the first row whose number of fields differs from the header's."""
    import csv

    columns = [r[0] for r in con.execute(f"DESCRIBE {_ident(table)}").fetchall()]
    if len(columns) != 1 or not any(d in columns[0] for d in _DELIMITERS):
        return
    delimiter = max(_DELIMITERS, key=columns[0].count)
    for path in paths:
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            reader = csv.reader(f, delimiter=delimiter)
            header = next(reader, [])
            for row in reader:
                if row and len(row) != len(header):
                    raise DataSourceError(
                        f"Cannot read {Path(path).name} as CSV: line {reader.line_num} has {len(row)} "
                        f"field(s) where the header has {len(header)} ({delimiter!r}-separated).",
                        hint="Every row needs the header's number of fields; quote fields that contain "
                             "the delimiter, or fix that line.")
