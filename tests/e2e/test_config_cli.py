"""`nl2sql config` as a user runs it: secrets masked, a broken nl2sql.toml is exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import run_cli


def test_config_command_masks_secrets(tmp_path: Path) -> None:
    secret = "sk-live-SECRET-value-9876"
    result = run_cli("config", "--json", env={"OPENAI_API_KEY": secret}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["settings"]["api_key"] == "****9876"
    assert data["sources"]["api_key"] == "env OPENAI_API_KEY"
    result = run_cli("config", env={"OPENAI_API_KEY": secret, "COLUMNS": "200"}, cwd=tmp_path)
    assert "SECRET" not in result.stdout + result.stderr
    assert "****9876" in result.stdout


def test_config_command_reports_bad_file(tmp_path: Path) -> None:
    (tmp_path / "nl2sql.toml").write_text("timeout = 'soon'")
    result = run_cli("config", cwd=tmp_path)
    assert result.returncode == 2
    assert "must be a number" in result.stderr and "Traceback" not in result.stderr
