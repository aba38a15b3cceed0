"""The ledger schema as SQLAlchemy Core tables, shared by SQLite and PostgreSQL.

``migrations/versions`` must create exactly this schema; ``tests/integration/test_migrations.py``
compares the two. Statuses are stored as their string values; every datetime column is
timezone-aware on PostgreSQL and naive UTC text on SQLite (the ledger re-attaches UTC on read).
"""

from __future__ import annotations

import sqlalchemy as sa

# Deterministic constraint names, so that migrations can refer to them on both dialects.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def _ts(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


teams = sa.Table(
    "teams",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    _ts("created", nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("key_hash", sa.String(200), nullable=False),
    _ts("created", nullable=False),
    _ts("last_used_at"),
    _ts("expires_at"),
    _ts("revoked_at"),
)

pipelines = sa.Table(
    "pipelines",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pipeline_id", sa.String(80), nullable=False, unique=True),
    sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.id"), nullable=False),
    sa.Column("name", sa.String(500), nullable=True),
    sa.Column("steps", sa.JSON, nullable=False),
    sa.Column("is_saved", sa.Boolean, nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False),
    sa.Column("active_version", sa.Integer, nullable=False, server_default=sa.text("0")),
    _ts("created", nullable=False),
    _ts("updated", nullable=False),
    # The listing: one team's pipelines, most recently updated first.
    sa.Index("ix_pipelines_team_id_updated", "team_id", "updated"),
)

pipeline_versions = sa.Table(
    "pipeline_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pipeline_pk", sa.Integer, sa.ForeignKey("pipelines.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("steps", sa.JSON, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    _ts("created", nullable=False),
    sa.UniqueConstraint("pipeline_pk", "version"),
)

executions = sa.Table(
    "executions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("execution_id", sa.String(80), nullable=False, unique=True),
    sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.id"), nullable=False),
    # Not a foreign key: an execution outlives edits of the pipeline it ran.
    sa.Column("pipeline_id", sa.String(80), nullable=False),
    sa.Column("pipeline_version", sa.Integer, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    # Bumped on every status change; the live store's freshness check compares it.
    sa.Column("seq", sa.BigInteger, nullable=False),
    _ts("created", nullable=False),
    _ts("started_at"),
    _ts("completed_at"),
    sa.Column("input_key", sa.String(500), nullable=False),
    sa.Column("config_snapshot", sa.JSON, nullable=False),
    sa.Column("input_config", sa.JSON, nullable=False),
    sa.Column("rate_breakdown", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("error_message", sa.Text, nullable=True),
    sa.Column("page_count", sa.Integer, nullable=True),
    # The listing: one pipeline's executions of a team, newest first.
    sa.Index("ix_executions_team_id_pipeline_id_created", "team_id", "pipeline_id", "created"),
)

step_runs = sa.Table(
    "step_runs",
    metadata,
    sa.Column(
        "execution_id",
        sa.String(80),
        sa.ForeignKey("executions.execution_id"),
        primary_key=True,
    ),
    sa.Column("step_index", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("step_type", sa.String(64), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("lookup_key", sa.String(80), nullable=False, unique=True),
    _ts("available_at"),
    sa.Column("lease_owner", sa.String(200), nullable=True),
    _ts("lease_expires_at"),
    _ts("heartbeat_at"),
    _ts("started_at"),
    _ts("finished_at"),
    sa.Column("result_key", sa.String(500), nullable=True),
    sa.Column("checkpoint_id", sa.String(200), nullable=True),
    sa.Column("error_message", sa.Text, nullable=True),
    # Executor cache outcome of the completed attempt: {"status": "hit"|"miss"|"bypass", …}.
    sa.Column("cache", sa.JSON, nullable=True),
    # Set on a running step when its execution is cancelled; its worker stops at the next beat.
    sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    # The claimer looks for due dispatched steps; the reaper for running steps past their lease.
    sa.Index("ix_step_runs_status_available_at", "status", "available_at"),
    sa.Index("ix_step_runs_status_lease_expires_at", "status", "lease_expires_at"),
)

step_results = sa.Table(
    "step_results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "execution_id",
        sa.String(80),
        sa.ForeignKey("executions.execution_id"),
        nullable=False,
    ),
    sa.Column("step_index", sa.Integer, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("result_key", sa.String(500), nullable=False),
    sa.Column("checkpoint_id", sa.String(200), nullable=True),
    sa.Column("page_count", sa.Integer, nullable=False),
    _ts("created", nullable=False),
    # One result per attempt: a fenced completion can only ever insert it once.
    sa.UniqueConstraint("execution_id", "step_index", "attempt"),
)

# The executor cache: identical work (same input bytes, processor and version, settings,
# upstream work, page range and output format) done once per team is reused.
step_cache = sa.Table(
    "step_cache",
    metadata,
    sa.Column("team_id", sa.String(80), sa.ForeignKey("teams.id"), primary_key=True),
    sa.Column("cache_key", sa.String(64), primary_key=True),
    sa.Column("result_key", sa.String(500), nullable=False),
    sa.Column("checkpoint_id", sa.String(200), nullable=True),
    sa.Column("page_count", sa.Integer, nullable=False),
    sa.Column("source_execution_id", sa.String(80), nullable=False),
    sa.Column("source_step_index", sa.Integer, nullable=False),
    _ts("created", nullable=False),
)

# Custom processors (``cp_…``): a team's named, versioned definitions that ``custom`` steps
# reference. Versions are immutable and never deleted; ``active_version`` picks one.
custom_processors = sa.Table(
    "custom_processors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("processor_id", sa.String(80), nullable=False, unique=True),
    sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("active_version", sa.Integer, nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False),
    _ts("created", nullable=False),
    _ts("updated", nullable=False),
    # The listing: one team's processors, most recently updated first.
    sa.Index("ix_custom_processors_team_id_updated", "team_id", "updated"),
)

custom_processor_versions = sa.Table(
    "custom_processor_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("processor_pk", sa.Integer, sa.ForeignKey("custom_processors.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    _ts("created", nullable=False),
    sa.UniqueConstraint("processor_pk", "version"),
)
