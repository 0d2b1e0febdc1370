"""The command-line interface (`nl2sql`): typer commands over the Workspace, rich views, the chat REPL."""

from nl2sql.cli.app import app

__all__ = ["app"]
