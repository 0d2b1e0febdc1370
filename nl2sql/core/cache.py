"""On-disk cache of model replies, keyed by a hash of (base URL, model, messages, parameters).

A repeated question costs no tokens. The API key is never part of the key or the stored data.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from nl2sql.core.files import write_atomic


class ResponseCache:
    """A directory of JSON files, one per request hash."""

    def __init__(self, directory: Path, enabled: bool = True, problems: list[str] | None = None) -> None:
        self.directory = directory
        self.enabled = enabled
        self.problems = problems if problems is not None else []  # replies that could not be stored

    @staticmethod
    def key(base_url: str | None, model: str, messages: list[dict[str, str]], params: dict[str, Any]) -> str:
        """The cache key of one chat request."""
        payload = json.dumps({"base_url": base_url or "", "model": model, "messages": messages, "params": params},
                             sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored reply for `key`, or None (a damaged entry counts as missing)."""
        if not self.enabled:
            return None
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("content"), str) else None

    def put(self, key: str, content: str, usage: dict[str, int]) -> None:
        """Store a reply (written atomically); a cache that cannot be written costs tokens later, never this answer."""
        if not self.enabled:
            return
        try:
            write_atomic(self._path(key), json.dumps({"content": content, "usage": usage}, ensure_ascii=False))
        except OSError as exc:
            self.problems.append(f"A model reply could not be cached in {self.directory} "
                                 f"({exc.strerror or type(exc).__name__}); the question will cost tokens again.")

    def clear(self) -> int:
        """Delete every entry; return how many there were."""
        if not self.directory.is_dir():
            return 0
        count = sum(1 for _ in self.directory.rglob("*.json"))
        shutil.rmtree(self.directory, ignore_errors=True)
        return count
