"""F7: no user column name can bind where our own SQL means its own names: a table whose columns are
called `v`, `n`, `value`, `count`, `d` … is profiled, listed and queried like any other."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from nl2sql.data.build import build_catalog
from nl2sql.data.sources import resolve
from tests.faults.common import write_csv
from tests.helpers import run_cli

# every name our own SQL uses (profiling, checks, the row cap), and a few SQL words
OUR_NAMES = ["v", "n", "d", "value", "count", "nl2sql_value", "nl2sql_count", "nl2sql_rows", "nl2sql_distinct_0",
             "nl2sql_present_1", "nl2sql_min_0", "nl2sql_max_0", "nl2sql_capped", "order", "group", "select"]


def test_a_column_named_v_breaks_nothing(tmp_path: Path) -> None:
    db = write_csv(tmp_path / "people.csv", ["name", "v"], [["ann", 1], ["bob", 2], ["ann", 3]])
    for args in (("sql", "SELECT name, sum(v) AS total FROM people GROUP BY name ORDER BY name", "--json"),
                 ("schema", "--json")):
        result = run_cli(*args, "--db", str(db))
        assert result.returncode == 0, result.stderr
    columns = {c["name"]: c for c in json.loads(result.stdout)["tables"][0]["columns"]}
    assert columns["name"]["profile"]["top_values"] == [["ann", 2], ["bob", 1]]


def test_a_table_named_with_all_our_names_is_profiled_exactly(tmp_path: Path) -> None:
    rows = [[f"{name}-{i % (j + 2)}" if j % 2 == 0 else i * (j + 1) for j, name in enumerate(OUR_NAMES)]
            for i in range(30)]
    db = write_csv(tmp_path / "ours.csv", OUR_NAMES, rows)
    catalog = build_catalog(resolve(db), None, None, use_cache=False)
    table = catalog.tables[0]
    assert [c.name for c in table.columns] == OUR_NAMES and table.row_count == 30
    con = duckdb.connect()
    for c in table.columns:
        q = '"' + c.name + '"'
        distinct, lo, hi = con.execute(f"SELECT count(DISTINCT {q}), min({q}), max({q}) FROM read_csv(?)",
                                       [str(db)]).fetchone()
        assert (c.profile.distinct, c.profile.min, c.profile.max) == (distinct, lo, hi), c.name
        if c.is_text:
            expected = con.execute(f"SELECT {q}, count(*) FROM read_csv(?) GROUP BY 1 ORDER BY 2 DESC, 1",
                                   [str(db)]).fetchall()
            assert [tuple(v) for v in c.profile.top_values] == expected, c.name
