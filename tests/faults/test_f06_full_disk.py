"""F6: a chart (or an export) that cannot be written on a full disk leaves the old file as it was and
no partial file behind, and says so; the answer itself is still shown.

The full disk is a file-size limit (RLIMIT_FSIZE) on the nl2sql process: a write past it fails
with EFBIG as a write to a full disk fails with ENOSPC, for root too."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

LIMIT = 25_000  # bytes: the history and profiles fit, a chart (~37 KB) does not


def _limited() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing us
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def _ask_on_a_full_disk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nl2sql", "ask", "Revenue by category in 2025", *args],
                          capture_output=True, text=True, env=dict(os.environ), preexec_fn=_limited, timeout=120)


def test_a_chart_that_cannot_be_written_keeps_the_old_file(tmp_path: Path) -> None:
    keep = tmp_path / "keep.png"
    keep.write_bytes(b"the previous chart " * 50)
    result = _ask_on_a_full_disk("--chart", str(keep))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "Internal error" not in result.stderr
    assert "could not be written" in result.stderr and "keep.png" in result.stderr
    assert "Books" in result.stdout  # the answer was shown before the chart failed
    assert keep.read_bytes() == b"the previous chart " * 50
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]  # no temporary file left behind


def test_a_new_chart_that_cannot_be_written_leaves_nothing(tmp_path: Path) -> None:
    result = _ask_on_a_full_disk("--chart", str(tmp_path / "new.png"))
    assert result.returncode == 1 and "could not be written" in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_export_that_cannot_be_written_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    result = subprocess.run([sys.executable, "-m", "nl2sql", "sql", "SELECT * FROM order_items", "-o", str(out)],
                            capture_output=True, text=True, preexec_fn=_limited, timeout=120)
    assert result.returncode == 1 and "Could not write" in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []
