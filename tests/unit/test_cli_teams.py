"""``pagemill teams`` and ``pagemill keys``: the operator's commands, on a SQLite data dir."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from pagemill import bootstrap
from pagemill.cli import app
from pagemill.domain.teams import Member, User
from pagemill.services.passwords import verify_password
from pagemill.settings import Settings


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, data_dir: Path, *args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, [*args, "--data-dir", str(data_dir)], input=stdin)


def members_and_user(data_dir: Path, team: str, email: str) -> tuple[list[Member], User | None]:
    async def read() -> tuple[list[Member], User | None]:
        async with bootstrap.open_ledger(Settings(data_dir=data_dir)) as ledger:
            found = await ledger.tenancy.team_by_name(team)
            assert found is not None
            return await ledger.tenancy.team_members(found.id), await ledger.tenancy.user_by_email(
                email
            )

    return asyncio.run(read())


def test_teams_are_created_once_and_listed(cli: CliRunner, tmp_path: Path) -> None:
    created = invoke(cli, tmp_path, "teams", "create", "acme")
    again = invoke(cli, tmp_path, "teams", "create", "acme")
    invoke(cli, tmp_path, "teams", "create", "zeta")
    listed = invoke(cli, tmp_path, "teams", "list")

    assert created.exit_code == 0, created.output
    team_id = created.stdout.strip()
    assert team_id.startswith("team_")
    assert again.exit_code == 1
    assert "already exists" in again.stderr
    lines = [line.split("\t") for line in listed.stdout.splitlines()]
    assert (lines[0][0], lines[0][1]) == (team_id, "acme")
    assert [row[1] for row in lines] == ["acme", "zeta"]


def test_keys_are_created_listed_and_revoked(cli: CliRunner, tmp_path: Path) -> None:
    created = invoke(cli, tmp_path, "keys", "create", "--team", "acme", "--name", "ci")
    secret = created.stdout.strip()
    listed = invoke(cli, tmp_path, "keys", "list", "--team", "acme")

    assert created.exit_code == 0, created.output
    assert created.stdout == secret + "\n"  # only the key on stdout: scripts capture it
    assert secret.startswith("pm_")
    header, row = listed.stdout.splitlines()
    assert header.split("\t")[:3] == ["id", "prefix", "name"]
    key_id, prefix, name, *_, revoked, created_by = row.split("\t")
    assert (key_id, prefix, name) == ("key_" + secret[3:15], secret[:15], "ci")
    assert (revoked, created_by) == ("-", "-")
    assert secret not in listed.stdout

    revoked_run = invoke(cli, tmp_path, "keys", "revoke", key_id, "--team", "acme")
    after = invoke(cli, tmp_path, "keys", "list", "--team", "acme")

    assert revoked_run.exit_code == 0, revoked_run.output
    assert after.stdout.splitlines()[1].split("\t")[6] != "-"
    wrong_team = invoke(cli, tmp_path, "keys", "revoke", key_id, "--team", "other")
    assert wrong_team.exit_code == 1
    assert "not found" in wrong_team.stderr


def test_add_member_creates_the_user_with_a_password(cli: CliRunner, tmp_path: Path) -> None:
    invoke(cli, tmp_path, "teams", "create", "acme")

    added = invoke(
        cli,
        tmp_path,
        "teams",
        "add-member",
        "--team",
        "acme",
        "--email",
        "Olga@Example.com",
        "--role",
        "owner",
        "--password-stdin",
        stdin="a long passphrase\n",
    )

    assert added.exit_code == 0, added.output
    assert added.stdout.strip().startswith("usr_")
    assert "created user olga@example.com" in added.stderr
    members, user = members_and_user(tmp_path, "acme", "olga@example.com")
    assert [(m.email, m.role.value) for m in members] == [("olga@example.com", "owner")]
    assert user is not None
    assert verify_password("a long passphrase", user.password_hash)

    twice = invoke(
        cli, tmp_path, "teams", "add-member", "--team", "acme", "--email", "olga@example.com"
    )
    assert twice.exit_code == 1
    assert "already a member" in twice.stderr


def test_add_member_prompts_for_a_new_users_password(cli: CliRunner, tmp_path: Path) -> None:
    invoke(cli, tmp_path, "teams", "create", "acme")

    added = invoke(
        cli,
        tmp_path,
        "teams",
        "add-member",
        "--team",
        "acme",
        "--email",
        "max@example.com",
        stdin="passphrase one\npassphrase one\n",
    )

    assert added.exit_code == 0, added.output
    _, user = members_and_user(tmp_path, "acme", "max@example.com")
    assert user is not None
    assert verify_password("passphrase one", user.password_hash)


def test_refusals_exit_1_with_a_message(cli: CliRunner, tmp_path: Path) -> None:
    invoke(cli, tmp_path, "teams", "create", "acme")
    add = ("teams", "add-member", "--email", "a@example.com", "--password-stdin")

    unknown_team = invoke(cli, tmp_path, "keys", "list", "--team", "nope")
    no_team = invoke(cli, tmp_path, *add, "--team", "nope", stdin="long enough\n")
    short_password = invoke(cli, tmp_path, *add, "--team", "acme", stdin="short\n")

    assert (unknown_team.exit_code, no_team.exit_code, short_password.exit_code) == (1, 1, 1)
    assert "Team 'nope' not found." in unknown_team.stderr
    assert "Team 'nope' not found." in no_team.stderr
    assert "8 to 1024 characters" in short_password.stderr
