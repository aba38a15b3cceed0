"""Bytes stored per team, for the storage quota; counted from the files and run inputs there are.

Results and checkpoints written before this revision are not counted (their sizes were never
recorded); everything stored from now on is.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "team_storage",
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("bytes_used", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_team_storage")),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_team_storage_team_id_teams")
        ),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    input_size = (
        "CAST(input_config->>'file_size' AS BIGINT)"
        if postgres
        else "CAST(json_extract(input_config, '$.file_size') AS INTEGER)"
    )
    op.execute(
        f"""
        INSERT INTO team_storage (team_id, bytes_used)
        SELECT team_id, SUM(size) FROM (
            SELECT team_id, COALESCE(file_size, 0) AS size FROM files
            UNION ALL
            SELECT team_id, COALESCE({input_size}, 0) AS size FROM executions
        ) AS stored
        GROUP BY team_id
        """
    )


def downgrade() -> None:
    op.drop_table("team_storage")
