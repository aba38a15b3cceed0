"""Teams, people and keys; pipelines, executions and their steps; files, versioned resources,
workflows, webhooks, invitations and storage."""

from __future__ import annotations

import sqlalchemy as sa

from pagemill.adapters.sql.tables.base import PublicNumber, metadata, timestamp

teams = sa.Table(
    "teams",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    timestamp("created", nullable=False),
    # How long the team's results and checkpoints are kept after their execution ends; NULL:
    # the server's setting.
    sa.Column("retention_seconds", sa.Integer, nullable=True),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("key_hash", sa.String(200), nullable=False),
    timestamp("created", nullable=False),
    timestamp("last_used_at"),
    timestamp("expires_at"),
    timestamp("revoked_at"),
    # Shown in listings instead of the key: "pm_" and the key's id part (not the secret).
    sa.Column("prefix", sa.String(32), nullable=False, server_default=""),
    # The user who created the key; NULL for keys the operator created with the CLI.
    sa.Column("created_by", sa.String(64), sa.ForeignKey("users.id"), nullable=True),
    sa.Index("ix_api_keys_team_id", "team_id"),
)

# People who log in to the web app; ``password_hash`` is a self-describing argon2id (PHC) string,
# or scrypt as earlier versions stored it until the user's next login.
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.String(300), nullable=False),
    timestamp("created", nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
)

# Who belongs to which team, as owner, admin or member.
memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.id"), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    timestamp("created", nullable=False),
    sa.Index("ix_memberships_team_id", "team_id"),
)

# Browser sessions: the signed cookie names a row here, so logout and a password change end it.
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
    timestamp("created", nullable=False),
    timestamp("expires_at", nullable=False),
    sa.Index("ix_sessions_user_id", "user_id"),
    sa.Index("ix_sessions_expires_at", "expires_at"),
)

# Secrets the server generates for itself on first start (the session signing key), so that
# every replica of a scale-out deployment shares them.
server_secrets = sa.Table(
    "server_secrets",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
    timestamp("created", nullable=False),
)

pipelines = sa.Table(
    "pipelines",
    metadata,
    sa.Column("id", PublicNumber, primary_key=True, autoincrement=False),
    sa.Column("pipeline_id", sa.String(80), nullable=False, unique=True),
    sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.id"), nullable=False),
    sa.Column("name", sa.String(500), nullable=True),
    sa.Column("steps", sa.JSON, nullable=False),
    sa.Column("is_saved", sa.Boolean, nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False),
    sa.Column("active_version", sa.Integer, nullable=False, server_default=sa.text("0")),
    timestamp("created", nullable=False),
    timestamp("updated", nullable=False),
    # The pipeline's own retention (before the team's and the server's); NULL: not set.
    sa.Column("retention_seconds", sa.Integer, nullable=True),
    # The listing: one team's pipelines, most recently updated first.
    sa.Index("ix_pipelines_team_id_updated", "team_id", "updated"),
)

pipeline_versions = sa.Table(
    "pipeline_versions",
    metadata,
    sa.Column("id", PublicNumber, primary_key=True, autoincrement=False),
    sa.Column("pipeline_pk", PublicNumber, sa.ForeignKey("pipelines.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("steps", sa.JSON, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    timestamp("created", nullable=False),
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
    timestamp("created", nullable=False),
    timestamp("started_at"),
    timestamp("completed_at"),
    sa.Column("input_key", sa.String(500), nullable=False),
    sa.Column("config_snapshot", sa.JSON, nullable=False),
    sa.Column("input_config", sa.JSON, nullable=False),
    sa.Column("rate_breakdown", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("error_message", sa.Text, nullable=True),
    sa.Column("page_count", sa.Integer, nullable=True),
    # The run request's W3C trace context: workers parent their step spans to it.
    sa.Column("traceparent", sa.String(64), nullable=True),
    # Retention, decided at submit (NULL: kept until deleted); ``expires_at`` is set when the
    # execution ends, ``purged_at`` when the sweeper removed its blobs.
    sa.Column("retention_seconds", sa.Integer, nullable=True),
    timestamp("expires_at"),
    timestamp("purged_at"),
    # A rerun's parent (not a foreign key: the parent may be deleted before its reruns).
    sa.Column("parent_execution_id", sa.String(80), nullable=True),
    # The listing: one pipeline's executions of a team, newest first.
    sa.Index("ix_executions_team_id_pipeline_id_created", "team_id", "pipeline_id", "created"),
    # The dashboard's list of a team's executions across its pipelines, newest first, a page
    # after another (keyset on creation time and id).
    sa.Index("ix_executions_team_id_created_execution_id", "team_id", "created", "execution_id"),
    # Admission sums the pages of a team's unfinished executions on every submit: a lookup of
    # the few pending or running rows, not a walk over the team's whole history.
    sa.Index("ix_executions_team_id_status", "team_id", "status"),
    # The retention sweeper: executions not purged yet, by expiry.
    sa.Index("ix_executions_purged_at_expires_at", "purged_at", "expires_at"),
    # Purging or deleting an execution asks whether another one names its blobs (a rerun
    # names its parent's input): point lookups, not scans.
    sa.Index("ix_executions_input_key", "input_key"),
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
    timestamp("available_at"),
    sa.Column("lease_owner", sa.String(200), nullable=True),
    timestamp("lease_expires_at"),
    timestamp("heartbeat_at"),
    timestamp("started_at"),
    timestamp("finished_at"),
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
    # Retention: who else names a result (a rerun) or a checkpoint (a cache hit, a rerun).
    sa.Index("ix_step_runs_result_key", "result_key"),
    # A single-shot extract or segment from a checkpoint finds the step (and team) that wrote it.
    sa.Index("ix_step_runs_checkpoint_id", "checkpoint_id"),
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
    timestamp("created", nullable=False),
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
    timestamp("created", nullable=False),
)


def _versioned(
    name: str, public_id: str, current: str, payload: str, *, described: bool
) -> tuple[sa.Table, sa.Table]:
    """A kind of versioned team resource: the table ``name`` of the resources (their public id,
    the team owning them, the version that is ``current``) and ``<singular>_versions`` of
    their immutable ``payload`` versions, which are never deleted."""
    singular = name.removesuffix("s")
    resource_pk = f"{public_id.removesuffix('_id')}_pk"
    resources = sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(public_id, sa.String(80), nullable=False, unique=True),
        sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        *([sa.Column("description", sa.Text, nullable=True)] if described else []),
        sa.Column(current, sa.Integer, nullable=False),
        sa.Column("archived", sa.Boolean, nullable=False),
        timestamp("created", nullable=False),
        timestamp("updated", nullable=False),
        # The listing: one team's resources, most recently updated first.
        sa.Index(f"ix_{name}_team_id_updated", "team_id", "updated"),
    )
    versions = sa.Table(
        f"{singular}_versions",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(resource_pk, sa.Integer, sa.ForeignKey(f"{name}.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column(payload, sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        timestamp("created", nullable=False),
        sa.UniqueConstraint(resource_pk, "version"),
    )
    return resources, versions


# Custom processors (``cp_…``): a team's named, versioned definitions that ``custom`` steps
# reference; ``active_version`` picks one.
custom_processors, custom_processor_versions = _versioned(
    "custom_processors", "processor_id", "active_version", "definition", described=False
)

# Extraction schemas (``sch_…``): a team's saved JSON schemas that ``extract`` steps reference
# by ``schema_id``; ``current_version`` is the newest.
extraction_schemas, extraction_schema_versions = _versioned(
    "extraction_schemas", "schema_id", "current_version", "schema_json", described=True
)

# Eval rubrics: a team's saved, versioned eval definitions that steps name by
# ``eval_rubric_id``; ``rubric_id`` is the public integer id written in decimal (random, like
# ``file_id``), ``current_version`` the newest.
eval_rubrics, eval_rubric_versions = _versioned(
    "eval_rubrics", "rubric_id", "current_version", "eval_definition", described=True
)

# Legacy workflows: a DAG of steps (``steps``) and the pipeline that runs each root-to-leaf path
# (``paths``); ``id`` is the public integer ``workflow_id``, random.
workflows = sa.Table(
    "workflows",
    metadata,
    sa.Column("id", PublicNumber, primary_key=True, autoincrement=False),
    sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("steps", sa.JSON, nullable=False),
    sa.Column("paths", sa.JSON, nullable=False),
    timestamp("created", nullable=False),
    timestamp("updated", nullable=False),
    # The listing: one team's workflows, newest first.
    sa.Index("ix_workflows_team_id_created", "team_id", "created"),
)

# A workflow's executions: per input file, the pipeline execution of each path (``runs``).
workflow_executions = sa.Table(
    "workflow_executions",
    metadata,
    sa.Column("id", PublicNumber, primary_key=True, autoincrement=False),
    sa.Column("workflow_id", PublicNumber, sa.ForeignKey("workflows.id"), nullable=False),
    sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.id"), nullable=False),
    sa.Column("input_config", sa.JSON, nullable=False),
    sa.Column("runs", sa.JSON, nullable=False),
    timestamp("created", nullable=False),
    sa.Index("ix_workflow_executions_workflow_id", "workflow_id"),
)

# Uploaded files (``datalab://file-{id}``): ``id`` is the public integer ``file_id``, random. The
# bytes live in the blob store under ``blob_key`` (random; the filename is a display name only).
files = sa.Table(
    "files",
    metadata,
    sa.Column("id", PublicNumber, primary_key=True, autoincrement=False),
    sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.id"), nullable=False),
    sa.Column("original_filename", sa.String(255), nullable=False),
    sa.Column("content_type", sa.String(255), nullable=False),
    sa.Column("blob_key", sa.String(500), nullable=False),
    sa.Column("upload_status", sa.String(16), nullable=False),
    sa.Column("file_size", sa.BigInteger, nullable=True),
    sa.Column("sha256", sa.String(64), nullable=True),
    timestamp("created", nullable=False),
    # The listing: one team's files, newest first.
    sa.Index("ix_files_team_id_created", "team_id", "created"),
)

# Webhooks: one Standard Webhooks signing secret (``whsec_…``) per team, created on first use.
# After a rotation the previous secret keeps signing (a second signature) until it expires.
webhook_secrets = sa.Table(
    "webhook_secrets",
    metadata,
    sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.id"), primary_key=True),
    sa.Column("secret", sa.String(200), nullable=False),
    sa.Column("previous_secret", sa.String(200), nullable=True),
    timestamp("previous_expires_at"),
    timestamp("created", nullable=False),
    timestamp("rotated_at"),
)

# One row per webhook due (execution, event), written in the transaction that made it due.
# Delivery loops claim rows with a compare-and-set on ``attempt``; ``next_attempt_at`` is when a
# pending row is due, or when the claim of a sending row lapses (its sender was lost).
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", sa.String(80), nullable=False, unique=True),
    sa.Column(
        "execution_id", sa.String(80), sa.ForeignKey("executions.execution_id"), nullable=False
    ),
    sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.id"), nullable=False),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("retries", sa.Integer, nullable=False),
    timestamp("next_attempt_at"),
    sa.Column("lease_owner", sa.String(200), nullable=True),
    timestamp("claimed_at"),
    sa.Column("last_status_code", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    timestamp("created", nullable=False),
    timestamp("finished_at"),
    sa.UniqueConstraint("execution_id", "event"),
    # The delivery loops look for due rows.
    sa.Index("ix_webhook_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
)

# The delivery log: one row per attempt made.
webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("delivery_pk", sa.Integer, sa.ForeignKey("webhook_deliveries.id"), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    timestamp("started_at", nullable=False),
    sa.Column("duration_ms", sa.Integer, nullable=True),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.UniqueConstraint("delivery_pk", "attempt"),
)

# Pending invitations of an address to a team (``inv_…``); accepting or declining deletes the
# row. One per team and address: inviting again replaces it.
team_invitations = sa.Table(
    "team_invitations",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.id"), nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("invited_by", sa.String(64), sa.ForeignKey("users.id"), nullable=True),
    timestamp("created", nullable=False),
    timestamp("expires_at", nullable=False),
    sa.UniqueConstraint("team_id", "email"),
    # What a signed-in user sees: the invitations addressed to them.
    sa.Index("ix_team_invitations_email", "email"),
)

# Bytes a team stores (uploads, run inputs, results and checkpoints), for the storage quota.
# Changed by single conditional updates, so concurrent uploads cannot both pass the quota.
team_storage = sa.Table(
    "team_storage",
    metadata,
    sa.Column("team_id", sa.String(64), sa.ForeignKey("teams.id"), primary_key=True),
    sa.Column("bytes_used", sa.BigInteger, nullable=False),
)
