"""nl2sql: ask questions about your data in plain language."""

__version__ = "0.1.0"
