"""Steps are found by their checkpoint: a single-shot extract or segment names a checkpoint of
an earlier convert, and the team owning it is looked up through the step that wrote it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_step_runs_checkpoint_id", "step_runs", ["checkpoint_id"])


def downgrade() -> None:
    op.drop_index("ix_step_runs_checkpoint_id", table_name="step_runs")
