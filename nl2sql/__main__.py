"""`python -m nl2sql` runs the command-line interface."""

from nl2sql.cli import app

app(prog_name="nl2sql")
