"""The offline engine: common analytics questions answered with no model, deterministically."""

from nl2sql.backends.offline.engine import OfflineBackend

__all__ = ["OfflineBackend"]
