"""Eval rubrics: ``eval_rubrics`` and their immutable ``eval_rubric_versions``.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "eval_rubrics",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rubric_id", sa.String(80), nullable=False),
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        _ts("created"),
        _ts("updated"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_rubrics")),
        sa.UniqueConstraint("rubric_id", name=op.f("uq_eval_rubrics_rubric_id")),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_eval_rubrics_team_id_teams")
        ),
    )
    op.create_index("ix_eval_rubrics_team_id_updated", "eval_rubrics", ["team_id", "updated"])
    op.create_table(
        "eval_rubric_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rubric_pk", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("eval_definition", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        _ts("created"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_rubric_versions")),
        sa.UniqueConstraint(
            "rubric_pk", "version", name=op.f("uq_eval_rubric_versions_rubric_pk_version")
        ),
        sa.ForeignKeyConstraint(
            ["rubric_pk"],
            ["eval_rubrics.id"],
            name=op.f("fk_eval_rubric_versions_rubric_pk_eval_rubrics"),
        ),
    )


def downgrade() -> None:
    op.drop_table("eval_rubric_versions")
    op.drop_index("ix_eval_rubrics_team_id_updated", table_name="eval_rubrics")
    op.drop_table("eval_rubrics")
