"""Settings precedence (flags > env > nl2sql.toml > defaults), .env, validation and masking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nl2sql.core.config import load_settings, mask
from nl2sql.core.errors import ConfigError


def test_defaults(tmp_path: Path) -> None:
    s = load_settings(env={}, cwd=tmp_path)
    assert (s.backend, s.max_rows, s.timeout, s.privacy) == ("auto", 1000, 30.0, "rows")
    assert s.sources["max_rows"] == "default"


def test_precedence(tmp_path: Path, isolated_home: Path) -> None:
    user_dir = isolated_home / "config" / "nl2sql"
    user_dir.mkdir(parents=True)
    (user_dir / "nl2sql.toml").write_text('model = "user-model"\nmax_rows = 10\ntimeout = 5\nthreads = 1\n')
    (tmp_path / "nl2sql.toml").write_text('[nl2sql]\nmax_rows = 20\ntimeout = 6\n')
    env = {"NL2SQL_TIMEOUT": "7", "XDG_CONFIG_HOME": str(isolated_home / "config")}
    s = load_settings(flags={"model": None, "threads": None, "timeout": None}, env=env, cwd=tmp_path)
    assert s.model == "user-model" and s.threads == 1      # user config dir beats defaults
    assert s.max_rows == 20                                # working-directory file beats user file
    assert s.timeout == 7.0 and s.sources["timeout"] == "env NL2SQL_TIMEOUT"  # env beats files
    s = load_settings(flags={"timeout": 8}, env=env, cwd=tmp_path)
    assert s.timeout == 8.0 and s.sources["timeout"] == "flag"  # flags beat everything


def test_openai_variables(tmp_path: Path) -> None:
    s = load_settings(env={"OPENAI_API_KEY": "sk-test-1234567890abcd", "OPENAI_BASE_URL": "http://127.0.0.1:1/v1"},
                      cwd=tmp_path)
    assert s.api_key == "sk-test-1234567890abcd" and s.base_url == "http://127.0.0.1:1/v1"
    assert s.masked()["api_key"] == "****abcd"
    assert "sk-test" not in json.dumps(s.masked())


def test_dotenv_is_read_but_never_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("NL2SQL_MAX_ROWS=77\nNL2SQL_THREADS=3\n")
    monkeypatch.setenv("NL2SQL_THREADS", "1")
    monkeypatch.setenv("NL2SQL_MAX_ROWS", "")  # recorded, so what .env loads into os.environ is undone afterwards
    monkeypatch.delenv("NL2SQL_MAX_ROWS")
    s = load_settings(cwd=tmp_path)
    assert s.max_rows == 77 and s.threads == 1


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("max_rows = [", "not valid TOML"),
        ("max_rowz = 5", "Unknown setting 'max_rowz'"),
        ('max_rows = "many"', "must be a whole number"),
        ('backend = "gpt"', "must be one of"),
        ('api_key = "sk-x"', "Keep secrets out"),
    ],
)
def test_bad_config_files(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "nl2sql.toml").write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_settings(env={}, cwd=tmp_path)


def test_unknown_setting_suggests(tmp_path: Path) -> None:
    (tmp_path / "nl2sql.toml").write_text("max_rowz = 5")
    with pytest.raises(ConfigError) as info:
        load_settings(env={}, cwd=tmp_path)
    assert info.value.hint == "Did you mean 'max_rows'?"


def test_mask() -> None:
    assert mask(None) is None
    assert mask("short") == "****"
    assert mask("sk-abcdefghijklmnop") == "****mnop"


