"""F10: a saved chat that cannot be read is listed as damaged, and resuming it says so; it is never
skipped silently nor swapped for an older chat."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import run_cli


def _saved_chat(home: Path) -> Path:
    result = run_cli("chat", "--json", stdin="Revenue by category in 2025\n")
    assert result.returncode == 0, result.stderr
    [path] = (home / "sessions").glob("*.json")
    return path


def test_a_truncated_chat_is_listed_as_damaged_and_resuming_it_says_so(isolated_home: Path) -> None:
    good = _saved_chat(isolated_home)
    damaged = good.with_name("29990101-000000-dead.json")  # the newest
    damaged.write_text(good.read_text(encoding="utf-8")[:80], encoding="utf-8")  # cut short, as by a full disk

    listed = run_cli("chat", "--list", "--json")
    assert listed.returncode == 0, listed.stderr
    entries = {e["id"]: e for e in json.loads(listed.stdout)}
    assert set(entries) == {good.stem, damaged.stem}
    assert "cut short" in entries[damaged.stem]["damaged"]
    shown = run_cli("chat", "--list", env={"COLUMNS": "200"})
    assert damaged.stem in shown.stdout and "damaged" in shown.stdout

    for args in (("--resume",), ("--resume", damaged.stem), ("--resume", "29990101")):
        resumed = run_cli("chat", *args, stdin="/history\n")
        assert resumed.returncode == 2, (args, resumed.stdout)
        assert "damaged" in resumed.stderr and damaged.stem in resumed.stderr, resumed.stderr
        assert good.stem in resumed.stderr  # what can be resumed instead
        as_json = json.loads(run_cli("chat", "--json", *args, stdin="/history\n").stdout)
        assert as_json["error"]["type"] == "UsageError" and "damaged" in as_json["error"]["message"]

    resumed = run_cli("chat", "--json", "--resume", good.stem, stdin="/history\n")
    assert resumed.returncode == 0 and json.loads(resumed.stdout)["session"] == good.stem
