"""Index for a team's unfinished executions: the admission check's pages-in-flight sum.

Without it the sum reads every execution the team ever ran (through the listing index's
``team_id`` prefix), on every submit, so a submit got slower as the ledger grew.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_executions_team_id_status", "executions", ["team_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_executions_team_id_status", table_name="executions")
