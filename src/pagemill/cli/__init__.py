"""The ``pagemill`` command: the entry point.

One module per group of commands; this one puts them together in the order ``--help`` shows
them: the server's processes (``serve``, ``worker``, ``reaper``), the operator's work on the
ledger (``migrate``, ``keys``, ``teams``), and the client side (``run``, ``pipelines``,
``executions``), which talks to a server's HTTP API or runs pipelines in this process.
"""

from __future__ import annotations

import os

import typer

from pagemill.cli import admin, serve, workers
from pagemill.cli import run as run_command
from pagemill.cli.executions import executions_app
from pagemill.cli.pipelines import pipelines_app
from pagemill.domain.errors import PagemillError

__all__ = ["app", "main"]

SERVER = "Server processes"
OPERATOR = "Operator: the ledger"
CLIENT = "Pipelines and runs (on a server, or run in this process)"

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
app.command(rich_help_panel=CLIENT)(run_command.run)
app.add_typer(pipelines_app, name="pipelines", rich_help_panel=CLIENT)
app.add_typer(executions_app, name="executions", rich_help_panel=CLIENT)


def main() -> None:
    # Whatever pagemill creates (the ledger, secrets, blobs and their directories) is readable
    # by its own user only: nodes sharing a blob directory run as the same user.
    os.umask(0o077)
    try:
        app()
    except PagemillError as error:
        # A missing database or a bad URL is the operator's to fix: say so, no traceback.
        typer.echo(f"pagemill: {error.detail}", err=True)
        raise SystemExit(1) from error
    except ValueError as error:
        typer.echo(f"pagemill: {error}", err=True)
        raise SystemExit(2) from error
