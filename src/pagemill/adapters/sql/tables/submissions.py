"""What arrives twice or in bulk: Idempotency-Keys, collections and batch runs."""

from __future__ import annotations

import sqlalchemy as sa

from pagemill.adapters.sql.tables.base import PublicNumber, metadata, timestamp

# Idempotency-Keys a team submitted with: recorded in the transaction that creates the
# execution, and unique per team, so that concurrent duplicates on any replica agree on one
# execution. ``fingerprint`` identifies the request; an expired key is free to be used again.
# ``execution_id`` is not a foreign key: the key row is written first in that transaction.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.id"), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("execution_id", sa.String(80), nullable=False),
    timestamp("created", nullable=False),
    timestamp("expires_at", nullable=False),
    # The sweeper drops expired keys; deleting an execution drops its keys.
    sa.Index("ix_idempotency_keys_expires_at", "expires_at"),
    sa.Index("ix_idempotency_keys_execution_id", "execution_id"),
)

# Collections of a team's files (``/api/v1/collections``) and the files linked to them. A link
# is removed with its file; a batch run copies the links when it starts.
collections = sa.Table(
    "collections",
    metadata,
    sa.Column("id", PublicNumber, primary_key=True, autoincrement=False),
    sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    timestamp("created", nullable=False),
    timestamp("updated", nullable=False),
    sa.Index("ix_collections_team_id_created", "team_id", "created"),
)

collection_files = sa.Table(
    "collection_files",
    metadata,
    sa.Column("collection_id", PublicNumber, primary_key=True, autoincrement=False),
    sa.Column("file_id", PublicNumber, primary_key=True, autoincrement=False),
    # The order files were added in (one request adds many at the same instant).
    sa.Column("position", sa.BigInteger, nullable=False),
    timestamp("added", nullable=False),
    sa.Index("ix_collection_files_file_id", "file_id"),
)

# Batch runs (``/api/v1/eval_batch_runs``): a pipeline over a collection's files. The admitter
# holding ``lease_owner`` until ``lease_until`` admits its items; ``completed_at`` is set once
# no item is pending or running (a cancelled run winds down first).
batch_runs = sa.Table(
    "batch_runs",
    metadata,
    sa.Column("id", PublicNumber, primary_key=True, autoincrement=False),
    sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.id"), nullable=False),
    sa.Column("collection_id", PublicNumber, nullable=False),
    sa.Column("pipeline_id", sa.String(80), nullable=False),
    sa.Column("pipeline_version", sa.Integer, nullable=False),
    sa.Column("eval_rubric_id", PublicNumber, nullable=True),
    sa.Column("options", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("cancel_requested", sa.Boolean, nullable=False),
    sa.Column("total_files", sa.Integer, nullable=False),
    sa.Column("lease_owner", sa.String(200), nullable=True),
    timestamp("lease_until"),
    timestamp("created", nullable=False),
    timestamp("started_at"),
    timestamp("completed_at"),
    sa.Index("ix_batch_runs_team_id_created", "team_id", "created"),
    # The admitter's scan: runs not wound down yet.
    sa.Index("ix_batch_runs_completed_at", "completed_at"),
)

# One row per file of a batch run, numbered from 1 in the collection's order.
batch_run_files = sa.Table(
    "batch_run_files",
    metadata,
    sa.Column("run_id", PublicNumber, primary_key=True, autoincrement=False),
    sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("file_id", PublicNumber, nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("execution_id", sa.String(80), nullable=True),
    sa.Column("eval_score", sa.Float, nullable=True),
    sa.Column("eval_results", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("error_message", sa.Text, nullable=True),
    timestamp("created", nullable=False),
    timestamp("finished_at"),
    # Counts by status, and the admitter's next pending items, without a walk of the run.
    sa.Index("ix_batch_run_files_run_id_status_position", "run_id", "status", "position"),
)
