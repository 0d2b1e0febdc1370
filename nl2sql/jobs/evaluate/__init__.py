"""`nl2sql eval`: execution accuracy of backends and prompt variants on question files."""
