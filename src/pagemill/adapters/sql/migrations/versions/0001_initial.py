"""The initial ledger schema: teams, keys, pipelines and versions, executions and steps.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Hand-written to match ``pagemill.adapters.sql.tables`` exactly, constraint names included
(they follow that module's naming convention); ``tests/integration/test_migrations.py`` checks it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        _ts("created", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_teams_name")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("key_hash", sa.String(200), nullable=False),
        _ts("created", nullable=False),
        _ts("last_used_at"),
        _ts("expires_at"),
        _ts("revoked_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_api_keys_team_id_teams")),
    )
    op.create_table(
        "pipelines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pipeline_id", sa.String(80), nullable=False),
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(500), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("is_saved", sa.Boolean(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("active_version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _ts("created", nullable=False),
        _ts("updated", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipelines")),
        sa.UniqueConstraint("pipeline_id", name=op.f("uq_pipelines_pipeline_id")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_pipelines_team_id_teams")),
    )
    op.create_index("ix_pipelines_team_id_updated", "pipelines", ["team_id", "updated"])
    op.create_table(
        "pipeline_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pipeline_pk", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        _ts("created", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_versions")),
        sa.UniqueConstraint(
            "pipeline_pk", "version", name=op.f("uq_pipeline_versions_pipeline_pk_version")
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_pk"],
            ["pipelines.id"],
            name=op.f("fk_pipeline_versions_pipeline_pk_pipelines"),
        ),
    )
    op.create_table(
        "executions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("execution_id", sa.String(80), nullable=False),
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("pipeline_id", sa.String(80), nullable=False),
        sa.Column("pipeline_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        _ts("created", nullable=False),
        _ts("started_at"),
        _ts("completed_at"),
        sa.Column("input_key", sa.String(500), nullable=False),
        sa.Column("config_snapshot", sa.JSON(), nullable=False),
        sa.Column("input_config", sa.JSON(), nullable=False),
        sa.Column("rate_breakdown", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_executions")),
        sa.UniqueConstraint("execution_id", name=op.f("uq_executions_execution_id")),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_executions_team_id_teams")
        ),
    )
    op.create_index(
        "ix_executions_team_id_pipeline_id_created",
        "executions",
        ["team_id", "pipeline_id", "created"],
    )
    op.create_table(
        "step_runs",
        sa.Column("execution_id", sa.String(80), nullable=False),
        sa.Column("step_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("step_type", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("lookup_key", sa.String(80), nullable=False),
        _ts("available_at"),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        _ts("lease_expires_at"),
        _ts("heartbeat_at"),
        _ts("started_at"),
        _ts("finished_at"),
        sa.Column("result_key", sa.String(500), nullable=True),
        sa.Column("checkpoint_id", sa.String(200), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("execution_id", "step_index", name=op.f("pk_step_runs")),
        sa.UniqueConstraint("lookup_key", name=op.f("uq_step_runs_lookup_key")),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.execution_id"],
            name=op.f("fk_step_runs_execution_id_executions"),
        ),
    )
    op.create_index("ix_step_runs_status_available_at", "step_runs", ["status", "available_at"])
    op.create_index(
        "ix_step_runs_status_lease_expires_at", "step_runs", ["status", "lease_expires_at"]
    )
    op.create_table(
        "step_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("execution_id", sa.String(80), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("result_key", sa.String(500), nullable=False),
        sa.Column("checkpoint_id", sa.String(200), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=False),
        _ts("created", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_step_results")),
        sa.UniqueConstraint(
            "execution_id",
            "step_index",
            "attempt",
            name=op.f("uq_step_results_execution_id_step_index_attempt"),
        ),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.execution_id"],
            name=op.f("fk_step_results_execution_id_executions"),
        ),
    )


def downgrade() -> None:
    op.drop_table("step_results")
    op.drop_index("ix_step_runs_status_lease_expires_at", table_name="step_runs")
    op.drop_index("ix_step_runs_status_available_at", table_name="step_runs")
    op.drop_table("step_runs")
    op.drop_index("ix_executions_team_id_pipeline_id_created", table_name="executions")
    op.drop_table("executions")
    op.drop_table("pipeline_versions")
    op.drop_index("ix_pipelines_team_id_updated", table_name="pipelines")
    op.drop_table("pipelines")
    op.drop_table("api_keys")
    op.drop_table("teams")
