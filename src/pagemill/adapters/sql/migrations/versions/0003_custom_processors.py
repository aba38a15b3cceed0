"""Custom processors: ``custom_processors`` and their immutable ``custom_processor_versions``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "custom_processors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("processor_id", sa.String(80), nullable=False),
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("active_version", sa.Integer(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        _ts("created"),
        _ts("updated"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_processors")),
        sa.UniqueConstraint("processor_id", name=op.f("uq_custom_processors_processor_id")),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_custom_processors_team_id_teams")
        ),
    )
    op.create_index(
        "ix_custom_processors_team_id_updated", "custom_processors", ["team_id", "updated"]
    )
    op.create_table(
        "custom_processor_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("processor_pk", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        _ts("created"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_processor_versions")),
        sa.UniqueConstraint(
            "processor_pk",
            "version",
            name=op.f("uq_custom_processor_versions_processor_pk_version"),
        ),
        sa.ForeignKeyConstraint(
            ["processor_pk"],
            ["custom_processors.id"],
            name=op.f("fk_custom_processor_versions_processor_pk_custom_processors"),
        ),
    )


def downgrade() -> None:
    op.drop_table("custom_processor_versions")
    op.drop_index("ix_custom_processors_team_id_updated", table_name="custom_processors")
    op.drop_table("custom_processors")
