"""Honest retention: per team and pipeline, and each execution's expiry and purge.

Executions that ended before this revision keep no expiry (they are kept until deleted). The
checkpoint index the purge also reads is 0014's.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("teams", sa.Column("retention_seconds", sa.Integer(), nullable=True))
    op.add_column("pipelines", sa.Column("retention_seconds", sa.Integer(), nullable=True))
    op.add_column("executions", sa.Column("retention_seconds", sa.Integer(), nullable=True))
    op.add_column("executions", sa.Column("expires_at", sa.DateTime(timezone=True)))
    op.add_column("executions", sa.Column("purged_at", sa.DateTime(timezone=True)))
    op.create_index("ix_executions_purged_at_expires_at", "executions", ["purged_at", "expires_at"])
    op.create_index("ix_executions_input_key", "executions", ["input_key"])
    op.create_index("ix_step_runs_result_key", "step_runs", ["result_key"])


def downgrade() -> None:
    op.drop_index("ix_step_runs_result_key", "step_runs")
    op.drop_index("ix_executions_input_key", "executions")
    op.drop_index("ix_executions_purged_at_expires_at", "executions")
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("purged_at")
        batch.drop_column("expires_at")
        batch.drop_column("retention_seconds")
    with op.batch_alter_table("pipelines") as batch:
        batch.drop_column("retention_seconds")
    with op.batch_alter_table("teams") as batch:
        batch.drop_column("retention_seconds")
