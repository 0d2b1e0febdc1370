"""`python -m nl2sql` runs the command-line interface."""

from nl2sql.cli.app import app

app(prog_name="nl2sql")
