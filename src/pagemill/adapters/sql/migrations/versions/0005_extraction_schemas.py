"""Extraction schemas: ``extraction_schemas`` and their immutable ``extraction_schema_versions``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "extraction_schemas",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("schema_id", sa.String(80), nullable=False),
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        _ts("created"),
        _ts("updated"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extraction_schemas")),
        sa.UniqueConstraint("schema_id", name=op.f("uq_extraction_schemas_schema_id")),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_extraction_schemas_team_id_teams")
        ),
    )
    op.create_index(
        "ix_extraction_schemas_team_id_updated", "extraction_schemas", ["team_id", "updated"]
    )
    op.create_table(
        "extraction_schema_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("schema_pk", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("schema_json", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        _ts("created"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extraction_schema_versions")),
        sa.UniqueConstraint(
            "schema_pk",
            "version",
            name=op.f("uq_extraction_schema_versions_schema_pk_version"),
        ),
        sa.ForeignKeyConstraint(
            ["schema_pk"],
            ["extraction_schemas.id"],
            name=op.f("fk_extraction_schema_versions_schema_pk_extraction_schemas"),
        ),
    )


def downgrade() -> None:
    op.drop_table("extraction_schema_versions")
    op.drop_index("ix_extraction_schemas_team_id_updated", table_name="extraction_schemas")
    op.drop_table("extraction_schemas")
