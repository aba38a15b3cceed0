"""Legacy workflows: ``workflows`` and ``workflow_executions``.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Random public numbers up to 2**53: BIGINT on PostgreSQL, the 64-bit rowid on SQLite.
_NUMBER = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "workflows",
        sa.Column("id", _NUMBER, autoincrement=False, nullable=False),
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("paths", sa.JSON(), nullable=False),
        _ts("created"),
        _ts("updated"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflows")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_workflows_team_id_teams")),
    )
    op.create_index("ix_workflows_team_id_created", "workflows", ["team_id", "created"])
    op.create_table(
        "workflow_executions",
        sa.Column("id", _NUMBER, autoincrement=False, nullable=False),
        sa.Column("workflow_id", _NUMBER, nullable=False),
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("input_config", sa.JSON(), nullable=False),
        sa.Column("runs", sa.JSON(), nullable=False),
        _ts("created"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_executions")),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
            name=op.f("fk_workflow_executions_workflow_id_workflows"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_workflow_executions_team_id_teams")
        ),
    )
    op.create_index("ix_workflow_executions_workflow_id", "workflow_executions", ["workflow_id"])


def downgrade() -> None:
    op.drop_index("ix_workflow_executions_workflow_id", table_name="workflow_executions")
    op.drop_table("workflow_executions")
    op.drop_index("ix_workflows_team_id_created", table_name="workflows")
    op.drop_table("workflows")
