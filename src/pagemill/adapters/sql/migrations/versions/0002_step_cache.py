"""The executor cache: the ``step_cache`` table and each step's cache outcome.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("step_runs") as batch:
        batch.add_column(sa.Column("cache", sa.JSON, nullable=True))
    op.create_table(
        "step_cache",
        sa.Column("team_id", sa.String(80), nullable=False),
        sa.Column("cache_key", sa.String(64), nullable=False),
        sa.Column("result_key", sa.String(500), nullable=False),
        sa.Column("checkpoint_id", sa.String(200), nullable=True),
        sa.Column("page_count", sa.Integer, nullable=False),
        sa.Column("source_execution_id", sa.String(80), nullable=False),
        sa.Column("source_step_index", sa.Integer, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_step_cache_team_id_teams"),
        sa.PrimaryKeyConstraint("team_id", "cache_key", name="pk_step_cache"),
    )


def downgrade() -> None:
    op.drop_table("step_cache")
    with op.batch_alter_table("step_runs") as batch:
        batch.drop_column("cache")
