"""The ledger schema as SQLAlchemy Core tables, shared by SQLite and PostgreSQL.

``migrations/versions`` must create exactly this schema; ``tests/integration/test_migrations.py``
compares the two. Statuses are stored as their string values; every datetime column is
timezone-aware on PostgreSQL and naive UTC text on SQLite (the ledger re-attaches UTC on read).
Importing this package defines every table in ``metadata``.
"""

from pagemill.adapters.sql.tables.base import NAMING_CONVENTION, PublicNumber, metadata
from pagemill.adapters.sql.tables.core import (
    api_keys,
    custom_processor_versions,
    custom_processors,
    eval_rubric_versions,
    eval_rubrics,
    executions,
    extraction_schema_versions,
    extraction_schemas,
    files,
    memberships,
    pipeline_versions,
    pipelines,
    server_secrets,
    sessions,
    step_cache,
    step_results,
    step_runs,
    team_invitations,
    team_storage,
    teams,
    users,
    webhook_attempts,
    webhook_deliveries,
    webhook_secrets,
    workflow_executions,
    workflows,
)
from pagemill.adapters.sql.tables.submissions import (
    batch_run_files,
    batch_runs,
    collection_files,
    collections,
    idempotency_keys,
)

__all__ = [
    "NAMING_CONVENTION",
    "PublicNumber",
    "api_keys",
    "batch_run_files",
    "batch_runs",
    "collection_files",
    "collections",
    "custom_processor_versions",
    "custom_processors",
    "eval_rubric_versions",
    "eval_rubrics",
    "executions",
    "extraction_schema_versions",
    "extraction_schemas",
    "files",
    "idempotency_keys",
    "memberships",
    "metadata",
    "pipeline_versions",
    "pipelines",
    "server_secrets",
    "sessions",
    "step_cache",
    "step_results",
    "step_runs",
    "team_invitations",
    "team_storage",
    "teams",
    "users",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_secrets",
    "workflow_executions",
    "workflows",
]
