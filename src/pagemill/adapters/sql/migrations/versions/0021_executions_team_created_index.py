"""A team's executions across its pipelines, newest first: the dashboard's list reads them a
page at a time through this index (keyset on creation time and id) instead of per pipeline.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_executions_team_id_created_execution_id",
        "executions",
        ["team_id", "created", "execution_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_executions_team_id_created_execution_id", table_name="executions")
