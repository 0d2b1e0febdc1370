"""F14: data files that cannot be read as they are say which file, which line and why; only known
extensions are read; a bad file in a folder is skipped with a warning naming it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import run_cli


def _error(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 2, result.stdout
    assert "Internal error" not in result.stderr
    return result.stderr


def test_a_ragged_csv_names_the_file_and_the_line(tmp_path: Path) -> None:
    db = tmp_path / "ragged.csv"
    db.write_text("a,b\n1,2\n3,4,5,6\n7,8\n")
    message = _error(run_cli("sql", "SELECT * FROM ragged", "--db", str(db)))
    assert "ragged.csv" in message and "line 3" in message and "4 field(s)" in message
    late = tmp_path / "late.csv"  # the odd line comes after DuckDB's sample
    late.write_text("a,b\n" + "1,2\n" * 30_000 + "3,4,5\n")
    message = _error(run_cli("sql", "SELECT * FROM late", "--db", str(late)))
    assert "late.csv" in message and "line" in message


def test_an_encoding_error_keeps_its_cause(tmp_path: Path) -> None:
    db = tmp_path / "latin.csv"
    db.write_bytes("name,city\nJosé,Zürich\n".encode("latin-1"))
    message = _error(run_cli("sql", "SELECT * FROM latin", "--db", str(db)))
    assert "latin.csv" in message and "line 2" in message and "utf-8" in message.lower()


def test_only_known_extensions_are_read(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("a b c\nd e f\n")
    message = _error(run_cli("sql", "SELECT 1", "--db", str(notes)))
    assert "notes.txt" in message and ".csv" in message


def test_a_bad_file_in_a_folder_is_skipped_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "good.csv").write_text("a,b\n1,2\n")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really parquet")
    (tmp_path / "readme.txt").write_text("not data")
    for _ in range(2):  # the second run reads the cached catalog: the warning stays
        result = run_cli("sql", "SELECT * FROM good", "--db", str(tmp_path), "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["rows"] == [[1, 2]]
        assert "empty.csv" in result.stderr and "broken.parquet" in result.stderr
        assert "readme.txt" not in result.stderr
    missing = run_cli("sql", "SELECT * FROM broken", "--db", str(tmp_path), "--json")
    assert json.loads(missing.stdout)["error"]["type"] == "InvalidSQLError"
