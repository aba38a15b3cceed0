"""The operator's commands on the ledger itself: ``migrate``, ``keys`` and ``teams``."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer

from pagemill import bootstrap
from pagemill.cli.common import DatabaseUrl, DataDir, configure_logging, settings_from, when
from pagemill.domain.errors import PagemillError
from pagemill.domain.models import ApiKey
from pagemill.domain.teams import Member, Role
from pagemill.settings import Settings

keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
teams_app = typer.Typer(help="Teams and their members.", no_args_is_help=True)

TeamOption = Annotated[str, typer.Option(help="Team name or id.")]
T = TypeVar("T")


def migrate(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Create or upgrade the ledger schema."""
    settings = settings_from(data_dir=data_dir, database_url=database_url)
    configure_logging(settings)  # one line per migration applied

    async def run() -> None:
        async with bootstrap.open_ledger(settings):
            pass

    asyncio.run(run())
    typer.echo("The ledger schema is up to date.", err=True)


@keys_app.command("create")
def create_key(
    team: Annotated[str, typer.Option(help="Team name; created if it does not exist.")],
    name: Annotated[str, typer.Option(help="A label for the key.")] = "default",
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API key and print only the key, so scripts can capture it."""
    settings = settings_from(data_dir=data_dir, database_url=database_url)
    issued = asyncio.run(bootstrap.issue_key(settings, team, name))
    typer.echo(issued.secret)


def _admin(settings: Settings, work: Callable[[bootstrap.Admin], Awaitable[T]]) -> T:
    """Run ``work`` with the operator's services; a refusal is a message and exit code 1."""

    async def run() -> T:
        async with bootstrap.open_admin(settings) as admin:
            return await work(admin)

    try:
        return asyncio.run(run())
    except PagemillError as error:
        typer.echo(f"pagemill: {error.detail}", err=True)
        raise typer.Exit(1) from error


@keys_app.command("list")
def list_keys(team: TeamOption, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List a team's keys (prefix, never the secret): tab-separated, revoked ones included."""

    async def work(admin: bootstrap.Admin) -> list[ApiKey]:
        found = await admin.teams.team_named(team)
        return await admin.keys.list_keys(found.id, actor=Role.OWNER)

    keys = _admin(settings_from(data_dir=data_dir, database_url=database_url), work)
    typer.echo("id\tprefix\tname\tcreated\tlast_used\texpires\trevoked\tcreated_by")
    for k in keys:
        dates = (when(k.created), when(k.last_used_at), when(k.expires_at), when(k.revoked_at))
        typer.echo("\t".join((k.id, k.prefix, k.name, *dates, k.created_by or "-")))


@keys_app.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key id (key_…), as `keys list` shows it.")],
    team: TeamOption,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a key: it stops working within PAGEMILL_KEY_CACHE_SECONDS."""

    async def work(admin: bootstrap.Admin) -> ApiKey:
        found = await admin.teams.team_named(team)
        return await admin.keys.revoke_key(found.id, key_id, actor=Role.OWNER)

    revoked = _admin(settings_from(data_dir=data_dir, database_url=database_url), work)
    typer.echo(f"revoked {revoked.id} ({revoked.prefix}…)", err=True)


@teams_app.command("create")
def create_team(
    name: Annotated[str, typer.Argument(help="The team's name (unique).")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a team and print its id."""
    settings = settings_from(data_dir=data_dir, database_url=database_url)
    team = _admin(settings, lambda admin: admin.teams.create_team(name))
    typer.echo(team.id)


@teams_app.command("list")
def list_teams(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List every team: id, name and creation time, tab-separated."""
    settings = settings_from(data_dir=data_dir, database_url=database_url)
    for team in _admin(settings, lambda admin: admin.teams.list_teams()):
        typer.echo(f"{team.id}\t{team.name}\t{when(team.created)}")


@teams_app.command("add-member")
def add_member(
    team: TeamOption,
    email: Annotated[str, typer.Option(help="The user's email; the user is created if new.")],
    role: Annotated[Role, typer.Option(help="owner, admin or member.")] = Role.MEMBER,
    name: Annotated[str | None, typer.Option(help="Display name of a new user.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read a new user's password from stdin.")
    ] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a user to a team with a role. A new user's password is asked for (hidden) or read
    from stdin; an existing user keeps theirs."""
    settings = settings_from(data_dir=data_dir, database_url=database_url)

    async def work(admin: bootstrap.Admin) -> tuple[Member, bool]:
        found = await admin.teams.team_named(team)
        password = None
        if not await admin.teams.user_exists(email):
            password = (
                sys.stdin.readline().rstrip("\r\n")
                if password_stdin
                else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
            )
        return await admin.teams.add_member(
            found.id, email, role, actor=Role.OWNER, name=name, password=password
        )

    member, created = _admin(settings, work)
    typer.echo(member.user_id)
    what = "created user" if created else "added user"
    typer.echo(f"{what} {member.email} to {team} as {member.role.value}", err=True)
