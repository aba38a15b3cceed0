"""Sealing the secrets a ledger stored in plain text before sealing existed."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from pagemill.adapters.sql.database import Database
from pagemill.adapters.sql.tables import server_secrets, webhook_secrets
from pagemill.ports.ledger.secrets import (
    SecretsLedger,
    server_secret_purpose,
    webhook_secret_purpose,
)


class SqlSecretsLedger(SecretsLedger):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def seal_stored(
        self, seal: Callable[[str, str], str], is_sealed: Callable[[str], bool]
    ) -> int:
        sealed = 0
        async with self._db.write() as conn:
            for name, value in (
                await conn.execute(sa.select(server_secrets.c.name, server_secrets.c.value))
            ).all():
                if not is_sealed(value):
                    await conn.execute(
                        sa.update(server_secrets)
                        .where(server_secrets.c.name == name)
                        .values(value=seal(server_secret_purpose(name), value))
                    )
                    sealed += 1
            w = webhook_secrets.c
            rows = (await conn.execute(sa.select(w.team_id, w.secret, w.previous_secret))).all()
            for team_id, secret, previous in rows:
                changes = {}
                purpose = webhook_secret_purpose(team_id)
                if not is_sealed(secret):
                    changes["secret"] = seal(purpose, secret)
                if previous is not None and not is_sealed(previous):
                    changes["previous_secret"] = seal(purpose, previous)
                if changes:
                    await conn.execute(
                        sa.update(webhook_secrets).where(w.team_id == team_id).values(**changes)
                    )
                    sealed += len(changes)
        return sealed
