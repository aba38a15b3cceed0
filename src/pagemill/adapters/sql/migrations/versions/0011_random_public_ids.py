"""Random public numbers for files and pipelines: 64-bit ids, no sequences.

``files.id`` (the wire's ``file_id``), ``pipelines.id`` and ``pipeline_versions.id`` are now
random numbers above 2**32 chosen by pagemill (``domain.ids.new_public_number``) instead of a
global sequence whose gaps told every team how many uploads and pipelines the others made.
Existing rows keep their ids (clients hold them); the new ones cannot collide with them.

On PostgreSQL the columns become BIGINT and their sequences go. SQLite needs nothing: an
INTEGER primary key is 64 bits already, and without a sequence it takes the id it is given.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, whether it had a sequence of its own)
_COLUMNS = (
    ("files", "id", True),
    ("pipelines", "id", True),
    ("pipeline_versions", "id", True),
    ("pipeline_versions", "pipeline_pk", False),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, sequenced in _COLUMNS:
        op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer())
        if sequenced:
            op.alter_column(table, column, server_default=None, existing_type=sa.BigInteger())
            op.execute(f"DROP SEQUENCE IF EXISTS {table}_{column}_seq")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Only possible while no random id was issued: the old columns held 31 bits.
    for table, column, sequenced in reversed(_COLUMNS):
        op.alter_column(table, column, type_=sa.Integer(), existing_type=sa.BigInteger())
        if sequenced:
            sequence = f"{table}_{column}_seq"
            op.execute(f"CREATE SEQUENCE IF NOT EXISTS {sequence} OWNED BY {table}.{column}")
            highest = f"COALESCE((SELECT max({column}) FROM {table}), 0) + 1"
            op.execute(f"SELECT setval('{sequence}', {highest}, false)")
            op.alter_column(
                table,
                column,
                server_default=sa.text(f"nextval('{sequence}'::regclass)"),
                existing_type=sa.Integer(),
            )
