"""The ``pagemill`` command: the entry point.

One module per group of commands; this one puts them together in the order ``--help`` shows
them: the server's processes (``serve``, ``worker``, ``reaper``), the operator's work on the
ledger (``migrate``, ``keys``, ``teams``).
"""

from __future__ import annotations

import typer

from pagemill.cli import admin, serve, workers
from pagemill.domain.errors import PagemillError

__all__ = ["app", "main"]

SERVER = "Server processes"
OPERATOR = "Operator: the ledger"

app = typer.Typer(
    help="pagemill: self-hosted document pipelines.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command(rich_help_panel=SERVER)(serve.serve)
app.command(rich_help_panel=SERVER)(workers.worker)
app.command(rich_help_panel=SERVER)(workers.reaper)
app.command(rich_help_panel=OPERATOR)(admin.migrate)
app.add_typer(admin.keys_app, name="keys", rich_help_panel=OPERATOR)
app.add_typer(admin.teams_app, name="teams", rich_help_panel=OPERATOR)


def main() -> None:
    try:
        app()
    except PagemillError as error:
        # A missing database or a bad URL is the operator's to fix: say so, no traceback.
        typer.echo(f"pagemill: {error.detail}", err=True)
        raise SystemExit(1) from error
    except ValueError as error:
        typer.echo(f"pagemill: {error}", err=True)
        raise SystemExit(2) from error
