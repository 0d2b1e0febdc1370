"""Properties over inputs nobody listed: any setting value is accepted or a ConfigError; any CSV shape
is loaded or a DataSourceError; any column names profile exactly; any text is made terminal-safe."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nl2sql.core.config import FIELDS, Settings, load_settings, override
from nl2sql.core.errors import ConfigError, DataSourceError
from nl2sql.core.text import terminal_safe, untrusted
from nl2sql.data.introspect import introspect
from nl2sql.data.sources import connect, resolve
from tests.faults.common import assert_terminal_safe

ENV_FIELDS = [f for f in FIELDS if f.env]
SETTING_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30),
                           st.sampled_from(["0", "-1", "1e400", "nan", "inf", "1GB", "0GB", "2025-02-30", "offline",
                                            " 12 ", "1_000", "0x10", "true", "TRUE", "", "٣"]),
                           st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                                 max_size=2))


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(ENV_FIELDS), raw=st.text(max_size=40))
def test_any_environment_value_is_a_setting_or_a_config_error(field, raw: str) -> None:  # type: ignore[no-untyped-def]
    try:
        loaded = load_settings({}, env={field.env[0]: raw}, read_dotenv=False)
    except ConfigError as exc:
        assert field.name in exc.message
        return
    assert isinstance(loaded, Settings)


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(FIELDS), raw=SETTING_VALUES)
def test_any_value_of_any_type_is_a_setting_or_a_config_error(field, raw) -> None:  # type: ignore[no-untyped-def]
    base = load_settings({}, env={}, read_dotenv=False)
    try:
        changed = override(base, **{field.name: raw})
    except ConfigError:
        return
    value = getattr(changed, field.name)
    assert raw is None or value is None or isinstance(value, field.type)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.lists(st.text(alphabet="ab ,;\"'é\t", min_size=0, max_size=4), min_size=1, max_size=4),
       rows=st.lists(st.lists(st.text(alphabet="x1,;\"\n\r\t é\x00", max_size=5), max_size=5), max_size=6),
       delimiter=st.sampled_from([",", ";", "\t", "|"]), newline=st.sampled_from(["\n", "\r\n"]),
       bom=st.booleans())
def test_any_csv_shape_loads_or_is_a_data_source_error(tmp_path: Path, header: list[str], rows: list[list[str]],
                                                        delimiter: str, newline: str, bom: bool) -> None:
    path = tmp_path / "shape.csv"
    text = newline.join(delimiter.join(r) for r in [header, *rows]) + newline
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    try:
        con = connect(resolve(path))
    except DataSourceError as exc:
        assert "shape.csv" in exc.message
        return
    try:
        tables, _ = introspect(con)
    finally:
        con.close()
    assert [t.name for t in tables] == ["shape"]
    assert tables[0].row_count <= len(rows) + 1


NAMES = st.lists(st.text(min_size=1, max_size=10).filter(lambda s: s.strip() and "\x00" not in s), min_size=1,
                 max_size=6, unique_by=lambda s: s.lower())


@settings(max_examples=80, deadline=None)
@given(names=NAMES, values=st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "v", "n", "value", "'"])),
                                    min_size=1, max_size=8))
def test_any_column_names_are_profiled_exactly(names: list[str], values: list[str | None]) -> None:
    con = duckdb.connect()
    cols = ", ".join('"' + n.replace('"', '""') + '" VARCHAR' for n in names)
    con.execute(f"CREATE TABLE t ({cols})")
    marks = ", ".join("?" for _ in names)
    con.executemany(f"INSERT INTO t VALUES ({marks})", [[v] * len(names) for v in values])
    [table], _ = introspect(con)
    assert [c.name for c in table.columns] == names and table.row_count == len(values)
    present = [v for v in values if v is not None]
    for c in table.columns:
        assert c.profile.distinct == len(set(present))
        assert sorted(tuple(x) for x in c.profile.top_values) == sorted({(v, present.count(v)) for v in present})


CLOSING = re.compile(r"<\s*/\s*(?:data|error)\s*>", re.I)


@settings(max_examples=500)
@given(st.one_of(st.text(), st.text(alphabet="<>/ dataeror\x1b\x9b", max_size=20)))
def test_any_text_is_made_terminal_safe_and_cannot_close_a_block(text: str) -> None:
    assert_terminal_safe(terminal_safe(text))
    assert terminal_safe(terminal_safe(text)) == terminal_safe(text)
    assert not CLOSING.search(untrusted(text))


@pytest.mark.parametrize("raw", ["1e400GB", "nanGB", "-1GB", "0GB", "GB", "1.5.2GB"])
def test_memory_limits_that_are_not_sizes_are_config_errors(raw: str) -> None:
    with pytest.raises(ConfigError, match="memory_limit"):
        load_settings({"memory_limit": raw}, env={}, read_dotenv=False)
