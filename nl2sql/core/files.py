"""One way to write a file: to a temporary file beside it, then renamed over it.

Readers see the old content or the new, never half of either; a full disk or a crash leaves the
old file as it was and no partial file behind. The new file gets the permissions the user's
umask gives a newly created file (a temporary file alone would be 0600).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@functools.cache
def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_output(path: str | Path, binary: bool = False) -> Iterator[IO[Any]]:
    """A file object to write `path` through; the file appears only when the block ends cleanly."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        handle: IO[Any] = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8")
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path` for a writer that wants a file name (DuckDB's COPY); renamed
    over `path`, with the umask's permissions, when the block ends cleanly, removed otherwise."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Write text or bytes to `path` atomically (see the module docstring)."""
    with atomic_output(path, binary=isinstance(data, bytes)) as handle:
        handle.write(data)


def why_unreadable(exc: BaseException) -> str:
    """Why a file we wrote earlier cannot be read back, in words (for a JSON file: where it breaks)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"it is cut short or not JSON (line {exc.lineno}, column {exc.colno})"
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    if isinstance(exc, KeyError):
        return f"the field {exc.args[0]!r} is missing"
    return f"its content is not what nl2sql wrote ({type(exc).__name__})"
