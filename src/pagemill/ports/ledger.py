"""The durable ledger: the one source of truth for pipelines, executions and step runs.

Every status change is a conditional update (compare-and-set) inside one transaction, and every
method that changes an execution returns the snapshot it committed so that the caller can mirror
it into the live store. Methods that read team-owned rows take the team: rows of another team are
simply not found.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pagemill.domain.custom_processors import CustomProcessor, CustomProcessorVersion
from pagemill.domain.extraction_schemas import ExtractionSchema, ExtractionSchemaVersion
from pagemill.domain.files import StoredFile
from pagemill.domain.models import (
    ApiKey,
    CacheEntry,
    Claim,
    Execution,
    ExecutionHead,
    ExecutionSnapshot,
    Heartbeat,
    NewExecution,
    Pipeline,
    PipelineVersion,
    StepOutput,
    StepRef,
    StepRun,
    StuckSteps,
    Team,
)
from pagemill.ports.invitations import InvitationLedger
from pagemill.ports.secrets import SecretsLedger
from pagemill.ports.storage import StorageLedger
from pagemill.ports.teams import TeamLedger
from pagemill.ports.uploads import UploadLedger
from pagemill.ports.webhooks import WebhookLedger


class Ledger(
    TeamLedger, WebhookLedger, UploadLedger, InvitationLedger, StorageLedger, SecretsLedger, ABC
):
    # -- lifecycle ---------------------------------------------------------------------------
    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def ping(self) -> None:
        """Raise ``ServiceUnavailable`` when the store cannot be reached."""

    # -- teams and keys ----------------------------------------------------------------------
    @abstractmethod
    async def create_team(self, team_id: str, name: str, now: datetime) -> Team: ...

    @abstractmethod
    async def team_by_name(self, name: str) -> Team | None: ...

    @abstractmethod
    async def count_teams(self) -> int: ...

    @abstractmethod
    async def create_api_key(self, key: ApiKey) -> None: ...

    @abstractmethod
    async def api_key(self, key_id: str) -> ApiKey | None: ...

    @abstractmethod
    async def touch_api_key(self, key_id: str, now: datetime) -> None: ...

    # -- pipelines ---------------------------------------------------------------------------
    @abstractmethod
    async def create_pipeline(
        self, team_id: str, pipeline_id: str, steps: list[dict[str, Any]], now: datetime
    ) -> Pipeline: ...

    @abstractmethod
    async def pipeline(self, team_id: str, pipeline_id: str) -> Pipeline | None: ...

    @abstractmethod
    async def list_pipelines(
        self, team_id: str, *, saved_only: bool, include_archived: bool, limit: int, offset: int
    ) -> tuple[list[Pipeline], int]: ...

    @abstractmethod
    async def update_pipeline(
        self, team_id: str, pipeline_id: str, now: datetime, **changes: Any
    ) -> Pipeline | None:
        """Set the given columns (steps, name, is_saved, archived) and ``updated``."""

    @abstractmethod
    async def publish_version(
        self, team_id: str, pipeline_id: str, description: str | None, now: datetime
    ) -> PipelineVersion | None:
        """Snapshot the draft as version max+1 and make it the active version, atomically."""

    @abstractmethod
    async def versions(self, pipeline_pk: int) -> list[PipelineVersion]:
        """Newest first."""

    # -- custom processors -------------------------------------------------------------------
    @abstractmethod
    async def create_custom_processor(
        self,
        team_id: str,
        processor_id: str,
        name: str,
        definition: dict[str, Any],
        description: str | None,
        now: datetime,
    ) -> CustomProcessor:
        """Insert the processor with ``definition`` as version 1, active, atomically."""

    @abstractmethod
    async def custom_processor(self, team_id: str, processor_id: str) -> CustomProcessor | None: ...

    @abstractmethod
    async def list_custom_processors(
        self, team_id: str, *, include_archived: bool, limit: int, offset: int
    ) -> tuple[list[CustomProcessor], int]:
        """Most recently updated first."""

    @abstractmethod
    async def add_custom_processor_version(
        self,
        team_id: str,
        processor_id: str,
        definition: dict[str, Any],
        description: str | None,
        now: datetime,
        *,
        activate: bool,
    ) -> CustomProcessorVersion | None:
        """Store ``definition`` as version max+1 (and make it active if asked), atomically."""

    @abstractmethod
    async def custom_processor_versions(
        self, team_id: str, processor_id: str
    ) -> list[CustomProcessorVersion]:
        """Newest first; empty when the processor does not exist for the team."""

    @abstractmethod
    async def custom_processor_version(
        self, team_id: str, processor_id: str, version: int
    ) -> CustomProcessorVersion | None: ...

    @abstractmethod
    async def update_custom_processor(
        self, team_id: str, processor_id: str, now: datetime, **changes: Any
    ) -> CustomProcessor | None:
        """Set the given columns (name, active_version, archived) and ``updated``.

        ``active_version`` must name an existing version (the caller checks: versions are
        never deleted).
        """

    # -- extraction schemas ------------------------------------------------------------------
    @abstractmethod
    async def create_extraction_schema(
        self,
        team_id: str,
        schema_id: str,
        name: str,
        schema_json: dict[str, Any],
        description: str | None,
        now: datetime,
    ) -> ExtractionSchema:
        """Insert the schema with ``schema_json`` as version 1, current, atomically."""

    @abstractmethod
    async def extraction_schema(self, team_id: str, schema_id: str) -> ExtractionSchema | None:
        """The schema with its current version's JSON and its history (newest first)."""

    @abstractmethod
    async def list_extraction_schemas(
        self, team_id: str, *, include_archived: bool, limit: int, offset: int
    ) -> tuple[list[ExtractionSchema], int]:
        """Most recently updated first."""

    @abstractmethod
    async def extraction_schema_version(
        self, team_id: str, schema_id: str, version: int
    ) -> ExtractionSchemaVersion | None: ...

    @abstractmethod
    async def update_extraction_schema(
        self,
        team_id: str,
        schema_id: str,
        now: datetime,
        *,
        new_version: dict[str, Any] | None = None,
        **changes: Any,
    ) -> ExtractionSchema | None:
        """Set the given columns (name, description, archived) and ``updated``; with
        ``new_version``, also store it as version max+1 and make it current — atomically.

        The new version's description is ``changes["description"]`` when given, else the
        schema's description.
        """

    # -- files -------------------------------------------------------------------------------
    @abstractmethod
    async def create_file(
        self, team_id: str, original_filename: str, content_type: str, blob_key: str, now: datetime
    ) -> StoredFile:
        """Insert a ``pending`` file; its ``file_id`` is assigned by the ledger."""

    @abstractmethod
    async def file(self, file_id: int, team_id: str | None) -> StoredFile | None:
        """``team_id=None`` only for a request authenticated by a signed URL."""

    @abstractmethod
    async def list_files(
        self, team_id: str, *, limit: int, offset: int
    ) -> tuple[list[StoredFile], int]:
        """Newest first."""

    @abstractmethod
    async def delete_file(self, file_id: int, team_id: str) -> StoredFile | None:
        """Remove the row and return it (the caller deletes the blob); None when not found."""

    @abstractmethod
    async def pages_in_flight(self, team_id: str) -> int:
        """The submit-time page counts (``input_config.page_count_at_submit``) of the team's
        executions that are not finished, summed."""

    # -- executions --------------------------------------------------------------------------
    @abstractmethod
    async def create_execution(self, new: NewExecution, now: datetime) -> ExecutionSnapshot:
        """Insert the execution and its steps; step 0 is dispatched in the same transaction."""

    @abstractmethod
    async def execution(self, execution_id: str, team_id: str | None = None) -> Execution | None:
        """Primary-key read; ``team_id=None`` is for the engine only."""

    @abstractmethod
    async def execution_head(self, execution_id: str, team_id: str) -> ExecutionHead | None:
        """Just the status and seq: what the "get execution" decision rule needs first."""

    @abstractmethod
    async def steps(self, execution_id: str) -> list[StepRun]: ...

    @abstractmethod
    async def list_executions(
        self, team_id: str, pipeline_id: str, *, limit: int, offset: int
    ) -> tuple[list[ExecutionSnapshot], int]:
        """Newest first."""

    @abstractmethod
    async def count_results(self, execution_id: str, step_index: int) -> int:
        """How many results were ever recorded for a step (exactly one once it completed)."""

    # -- the engine --------------------------------------------------------------------------
    @abstractmethod
    async def claim_next(
        self, worker: str, now: datetime, lease_seconds: float, step_types: Sequence[str] | None
    ) -> Claim | None:
        """Claim the oldest dispatched step that is due (embedded delivery)."""

    @abstractmethod
    async def claim(
        self, ref: StepRef, worker: str, now: datetime, lease_seconds: float
    ) -> Claim | None:
        """Claim exactly this attempt (queue delivery); None when stale, duplicate or cancelled."""

    @abstractmethod
    async def heartbeat(
        self, ref: StepRef, worker: str, now: datetime, lease_seconds: float
    ) -> Heartbeat: ...

    @abstractmethod
    async def complete_step(
        self,
        ref: StepRef,
        worker: str,
        now: datetime,
        output: StepOutput,
        rates: dict[str, int],
    ) -> ExecutionSnapshot | None:
        """Fenced completion: record the result, then dispatch the next step or finalize.

        With ``output.cache_key`` set (and ``output.cache`` not a hit), the result is also
        remembered in the executor cache, in the same transaction.

        None means the attempt no longer holds its lease; its output must be discarded.
        """

    @abstractmethod
    async def fail_step(
        self,
        ref: StepRef,
        worker: str,
        now: datetime,
        error: str,
        retry_at: datetime | None,
        rates: dict[str, int],
    ) -> ExecutionSnapshot | None:
        """Fenced failure: requeue as attempt+1 at ``retry_at``, or fail and finalize."""

    @abstractmethod
    async def cached(self, team_id: str, cache_key: str) -> CacheEntry | None:
        """The executor cache entry for identical earlier work of this team, if any."""

    @abstractmethod
    async def cancel_execution(
        self, execution_id: str, team_id: str, now: datetime, rates: dict[str, int]
    ) -> ExecutionSnapshot | None:
        """Cancel steps not started yet, flag running ones; finalize when none is running.
        None when the execution is not the team's; a terminal execution is left as it is."""

    @abstractmethod
    async def release_step(
        self, ref: StepRef, worker: str, now: datetime
    ) -> ExecutionSnapshot | None:
        """Give a running step back to the queue (a worker shutting down), uncharged."""

    @abstractmethod
    async def stuck_steps(
        self, now: datetime, lease_grace_seconds: float, queued_too_long_seconds: float
    ) -> StuckSteps: ...

    @abstractmethod
    async def execution_counts(self) -> dict[str, int]:
        """Executions by status, across teams (for metrics)."""

    @abstractmethod
    async def queue_depth(self) -> dict[str, int]:
        """Dispatched steps waiting for a worker, by step type (for metrics)."""

    @abstractmethod
    async def expired_leases(self, now: datetime, limit: int) -> list[StepRun]:
        """Running steps whose lease ran out (their worker is gone)."""

    @abstractmethod
    async def leased_by_others(self, boot_prefix: str) -> list[StepRun]:
        """Running steps leased by workers whose id does not start with ``boot_prefix``."""

    @abstractmethod
    async def next_due(self, step_types: Sequence[str] | None) -> datetime | None:
        """When the earliest dispatched step becomes due (None: nothing is dispatched)."""
