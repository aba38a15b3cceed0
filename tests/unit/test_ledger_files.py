"""The embedded ledger's files: private modes, secrets sealed, and an existing file that is not
a ledger is refused instead of re-initialised; missing scale-out extras are one line naming the
install."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pagemill import bootstrap
from pagemill.adapters.sql.sqlite_files import LedgerFileError
from pagemill.services.secret_box import SecretBox
from pagemill.settings import Settings
from tests.acceptance.conftest import clean_env
from tests.support.app import test_server
from tests.support.processes import free_port
from tests.support.processors import test_registry


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def first_start(data_dir: Path) -> None:
    asyncio.run(bootstrap.first_run_key(Settings(data_dir=data_dir)))


def test_the_data_dir_ledger_and_secret_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first_start(data)
    bootstrap.url_signing_secret(Settings(data_dir=data))

    assert mode(data) == 0o700
    for name in ("pagemill.db", "pagemill.db-wal", "pagemill.db-shm", "url_signing_secret"):
        if (data / name).exists():  # -wal/-shm exist while a connection is open
            assert mode(data / name) == 0o600, name
    assert mode(data / "pagemill.db") == 0o600


def test_files_an_older_version_left_readable_are_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first_start(data)
    bootstrap.url_signing_secret(Settings(data_dir=data))
    os.chmod(data, 0o755)  # noqa: S103 - what an older version left
    os.chmod(data / "pagemill.db", 0o644)
    os.chmod(data / "url_signing_secret", 0o644)

    first_start(data)
    bootstrap.url_signing_secret(Settings(data_dir=data))

    assert mode(data) == 0o700
    assert mode(data / "pagemill.db") == 0o600
    assert mode(data / "url_signing_secret") == 0o600


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "is empty (0 bytes)"),
        (b"not a database at all, just some bytes" * 100, "not a usable pagemill ledger"),
        (b"SQLite format 3\x00" + b"\xff" * 4000, "not a usable pagemill ledger"),
    ],
    ids=["zero-bytes", "foreign", "corrupt"],
)
def test_an_existing_file_that_is_not_a_ledger_is_refused(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "pagemill.db").write_bytes(content)

    with pytest.raises(LedgerFileError, match=re.escape(reason)):
        first_start(data)

    assert (data / "pagemill.db").read_bytes() == content  # left exactly as it was


def test_an_empty_sqlite_database_is_not_a_ledger(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    connection = sqlite3.connect(data / "pagemill.db")
    connection.execute("CREATE TABLE something_else (x)")
    connection.commit()
    connection.close()

    with pytest.raises(LedgerFileError, match="has no pagemill schema"):
        first_start(data)


@pytest.mark.slow
def test_serve_refuses_a_zero_byte_ledger_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "pagemill.db").touch()

    done = subprocess.run(
        [sys.executable, "-m", "pagemill", "serve", "--data-dir", str(data)],
        env=clean_env(PAGEMILL_PORT=str(free_port())),
        capture_output=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    errors = done.stderr.decode().strip().splitlines()
    assert len(errors) == 1, done.stderr.decode()
    assert errors[0].startswith("pagemill: The ledger file") and "is empty" in errors[0]
    assert b"pm_" not in done.stdout  # no new team, no new key
    assert (data / "pagemill.db").stat().st_size == 0


_WITHOUT_EXTRAS = """
import sys
for name in ("psycopg", "procrastinate", "redis"):
    sys.modules[name] = None  # as if the extras were not installed
from pagemill.cli import main
sys.argv = ["pagemill", *sys.argv[1:]]
main()
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "package"),
    [
        (["migrate", "--database-url", "postgresql://nobody@127.0.0.1:1/none"], "psycopg"),
        (["serve", "--live-url", "redis://127.0.0.1:1/0"], "redis"),
        (["worker", "--database-url", "postgresql://nobody@127.0.0.1:1/none"], "psycopg"),
    ],
    ids=["migrate", "serve-redis", "worker"],
)
def test_missing_scale_out_extras_are_one_line_with_the_install(
    tmp_path: Path, args: list[str], package: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_EXTRAS, *args, "--data-dir", str(tmp_path / "d")],
        env=clean_env(PAGEMILL_PORT=str(free_port())),
        capture_output=True,
        timeout=60,
        check=False,
    )

    errors = done.stderr.decode().strip().splitlines()
    assert done.returncode == 2, done.stderr.decode()
    assert len(errors) == 1, done.stderr.decode()
    assert f"'{package}'" in errors[0]
    assert "pip install 'pagemill[postgres,redis]'" in errors[0]


def _ledger_bytes(data: Path) -> bytes:
    return b"".join(
        (data / name).read_bytes()
        for name in ("pagemill.db", "pagemill.db-wal")
        if (data / name).exists()
    )


def _stored(data: Path, query: str) -> list[str]:
    connection = sqlite3.connect(data / "pagemill.db")
    try:
        return [row[0] for row in connection.execute(query)]
    finally:
        connection.close()


async def test_the_ledger_holds_no_secret_in_plain_text(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with test_server(data, test_registry()) as server:
        response = await server.client.get(
            "/api/v1/teams/current/webhook-secret", headers=server.headers()
        )
        webhook_secret = response.json()["secret"]
        await server.runtime.ledger.ping()

    box = SecretBox((data / "secrets_key").read_text().strip().encode())
    [session_sealed] = _stored(data, "SELECT value FROM server_secrets WHERE name = 'session'")
    session_key = box.open("server:session", session_sealed)
    ledger = _ledger_bytes(data)

    # The attack: read the ledger file and pull the signing keys out of it.
    assert webhook_secret.encode() not in ledger
    assert session_key.encode() not in ledger
    assert all(v.startswith("enc:v1:") for v in _stored(data, "SELECT secret FROM webhook_secrets"))
    assert (data / "secrets_key").read_bytes().strip() not in ledger  # the key lives apart
    assert mode(data / "secrets_key") == 0o600


async def test_secrets_an_older_version_stored_plain_are_sealed_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    await bootstrap.first_run_key(Settings(data_dir=data))  # a ledger with the default team
    connection = sqlite3.connect(data / "pagemill.db")
    connection.execute(
        "INSERT INTO server_secrets (name, value, created) VALUES ('session', :v, '2026-01-01')",
        {"v": "s" * 64},
    )
    team_id = connection.execute("SELECT id FROM teams").fetchone()[0]
    connection.execute(
        "INSERT INTO webhook_secrets (team_id, secret, created) VALUES (:t, :s, '2026-01-01')",
        {"t": team_id, "s": "whsec_plainfromanolderversion"},
    )
    connection.commit()
    connection.close()

    async with test_server(data, test_registry()) as server:
        response = await server.client.get(
            "/api/v1/teams/current/webhook-secret",
            headers={"X-API-Key": (await server.services.keys.issue("default")).secret},
        )

    assert response.json()["secret"] == "whsec_plainfromanolderversion"  # the same secret
    box = SecretBox((data / "secrets_key").read_text().strip().encode())
    [session] = _stored(data, "SELECT value FROM server_secrets WHERE name = 'session'")
    [webhook] = _stored(data, "SELECT secret FROM webhook_secrets")
    assert box.open("server:session", session) == "s" * 64
    assert box.open(f"webhook:{team_id}", webhook) == "whsec_plainfromanolderversion"
