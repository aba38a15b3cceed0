"""Collections of files and batch runs of a pipeline over them.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# BIGINT on PostgreSQL; on SQLite an INTEGER primary key already holds 64 bits.
_NUMBER = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "collections",
        sa.Column("id", _NUMBER, autoincrement=False, nullable=False),
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        _ts("created", nullable=False),
        _ts("updated", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collections")),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_collections_team_id_teams")
        ),
    )
    op.create_index("ix_collections_team_id_created", "collections", ["team_id", "created"])
    op.create_table(
        "collection_files",
        sa.Column("collection_id", _NUMBER, autoincrement=False, nullable=False),
        sa.Column("file_id", _NUMBER, autoincrement=False, nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        _ts("added", nullable=False),
        sa.PrimaryKeyConstraint("collection_id", "file_id", name=op.f("pk_collection_files")),
    )
    op.create_index("ix_collection_files_file_id", "collection_files", ["file_id"])
    op.create_table(
        "batch_runs",
        sa.Column("id", _NUMBER, autoincrement=False, nullable=False),
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("collection_id", _NUMBER, nullable=False),
        sa.Column("pipeline_id", sa.String(80), nullable=False),
        sa.Column("pipeline_version", sa.Integer(), nullable=False),
        sa.Column("eval_rubric_id", _NUMBER, nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("total_files", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        _ts("lease_until"),
        _ts("created", nullable=False),
        _ts("started_at"),
        _ts("completed_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_runs")),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_batch_runs_team_id_teams")
        ),
    )
    op.create_index("ix_batch_runs_team_id_created", "batch_runs", ["team_id", "created"])
    op.create_index("ix_batch_runs_completed_at", "batch_runs", ["completed_at"])
    op.create_table(
        "batch_run_files",
        sa.Column("run_id", _NUMBER, autoincrement=False, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("file_id", _NUMBER, nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("execution_id", sa.String(80), nullable=True),
        sa.Column("eval_score", sa.Float(), nullable=True),
        sa.Column("eval_results", sa.JSON(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        _ts("created", nullable=False),
        _ts("finished_at"),
        sa.PrimaryKeyConstraint("run_id", "position", name=op.f("pk_batch_run_files")),
    )
    op.create_index(
        "ix_batch_run_files_run_id_status_position",
        "batch_run_files",
        ["run_id", "status", "position"],
    )


def downgrade() -> None:
    op.drop_table("batch_run_files")
    op.drop_table("batch_runs")
    op.drop_table("collection_files")
    op.drop_table("collections")
