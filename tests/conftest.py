"""Shared fixtures: an isolated nl2sql home, the bundled shop, and the sql-eval databases."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, SQL_EVAL


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own NL2SQL_HOME and no API keys from the machine."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("NL2SQL_HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "NL2SQL_API_KEY", "NL2SQL_BASE_URL", "NL2SQL_DB",
                "NL2SQL_BACKEND", "NL2SQL_MODEL", "OPENAI_MODEL"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture(scope="session")
def shop_dir() -> Path:
    """The committed shop sample data."""
    return REPO / "sample_data" / "shop"


@pytest.fixture(scope="session")
def sqleval_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sql-eval databases, built fresh from ../shared (skipped when it is absent)."""
    if not (SQL_EVAL / "build.py").is_file():
        pytest.skip("../shared/benchmarks/sql-eval is not available")
    out = tmp_path_factory.mktemp("sqleval")
    subprocess.run([sys.executable, str(SQL_EVAL / "build.py"), str(out)], check=True,
                   capture_output=True)
    return out


@pytest.fixture(scope="module")
def shop():  # type: ignore[no-untyped-def]
    """(catalog, sandbox) over the bundled shop with its annotations, one warm sandbox per test module."""
    from nl2sql.data.annotations import find_annotation_file
    from nl2sql.data.build import build_catalog
    from nl2sql.data.sources import resolve
    from nl2sql.safety.sandbox import Limits, Sandbox

    source = resolve(None)
    catalog = build_catalog(source, find_annotation_file("shop", None, None), None, use_cache=False)
    with Sandbox(source, Limits(timeout=30)) as sandbox:
        yield catalog, sandbox
