"""What the fault tests share: hostile text, a check that output is terminal-safe, small data files."""

from __future__ import annotations

import csv
import re
from pathlib import Path

# real escape payloads: clear screen, full reset, a window title (OSC ... BEL), C1 CSI and DCS, a bidi override
PAYLOADS = ("\x1b[2J", "\x1bc", "\x1b]0;pwned\x07", "\x9b31m", "\x90q", "\u202e")
MARKUP = "[bold red]X[/]"
HOSTILE = "".join(PAYLOADS) + MARKUP
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def assert_terminal_safe(text: str, where: str = "output") -> None:
    """No control character (C0 but newline and tab, DEL, C1, bidi) in `text`."""
    found = UNSAFE.search(text)
    context = text[max(0, found.start() - 40):][:80] if found else ""
    assert found is None, f"{where} holds {found.group(0)!r} at {found.start()}: {context!r}"


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    """A CSV file with these rows (written with Python's csv module: quoted as needed)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path
