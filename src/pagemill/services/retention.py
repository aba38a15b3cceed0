"""Honest retention: what a run's retention is, deleting an execution with everything it
stored, and the sweeper's bounded passes over expired executions.

The ledger decides which blobs are released (it knows who else refers to them) in one short
transaction per execution; the blobs are deleted after it committed, and their bytes
uncounted from the team's storage. A crash between the two leaves unreferenced blobs behind,
never a row naming a missing blob that would be answered as anything but 410; the orphan sweep
(a bounded page of the blob store per pass) deletes such blobs once they are older than a
safety age, so a blob written just before the row naming it commits is never taken.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from pagemill.domain.clock import Clock
from pagemill.domain.errors import Forbidden, NotFound
from pagemill.domain.models import Pipeline
from pagemill.domain.retention import check_retention, effective_retention
from pagemill.domain.teams import MANAGER_ROLES, Role
from pagemill.ports.blobs import BlobStore
from pagemill.ports.ledger import Ledger
from pagemill.ports.ledger.catalog import PipelineCatalog
from pagemill.ports.ledger.idempotency import IdempotencyLedger
from pagemill.ports.ledger.retention import BlobRole, ReleasedBlobs, RetentionLedger
from pagemill.ports.ledger.tenancy import TenancyLedger
from pagemill.ports.live import LiveStore
from pagemill.ports.metrics import Metrics, NoMetrics
from pagemill.services.executor_cache import CHECKPOINTS_FOLDER, checkpoint_id_of, checkpoint_key
from pagemill.services.storage import StorageQuota

log = logging.getLogger("pagemill.retention")

_TEAM_CACHE_SECONDS = 5.0  # a team's retention changes rarely; runs should not read it each time
# The folders of the blobs executions own, and what each blob is to the ledger. (Files'
# contents are the files' own, deleted with them.)
_OWNED_FOLDERS = (
    ("inputs/", BlobRole.INPUT),
    ("results/", BlobRole.RESULT),
    (CHECKPOINTS_FOLDER, BlobRole.CHECKPOINT),
)


@dataclass(frozen=True, slots=True)
class SweepReport:
    purged: int
    blobs_deleted: int
    keys_dropped: int
    orphans_deleted: int = 0


class RetentionPolicy:
    """The retention a run of a pipeline gets: the pipeline's, else the team's, else the
    server's (``default_seconds``; 0: kept until deleted)."""

    def __init__(self, tenancy: TenancyLedger, default_seconds: float) -> None:
        self._tenancy = tenancy
        self.default_seconds = default_seconds
        self._teams: dict[str, tuple[float, int | None]] = {}

    async def for_run(self, team_id: str, pipeline: Pipeline) -> tuple[int | None, str]:
        if pipeline.retention_seconds is not None:
            return pipeline.retention_seconds, "pipeline"
        return effective_retention(None, await self._team(team_id), self.default_seconds)

    async def _team(self, team_id: str) -> int | None:
        cached = self._teams.get(team_id)
        if cached is not None and time.monotonic() - cached[0] < _TEAM_CACHE_SECONDS:
            return cached[1]
        team = await self._tenancy.team(team_id)
        seconds = team.retention_seconds if team is not None else None
        self._teams[team_id] = (time.monotonic(), seconds)
        return seconds

    async def set_team(self, team_id: str, seconds: int | None, *, actor: Role) -> int | None:
        if actor not in MANAGER_ROLES:
            raise Forbidden("Only the team's owners and admins can change its retention.")
        checked = check_retention(seconds)
        if not await self._tenancy.set_team_retention(team_id, checked):
            raise NotFound(f"Team {team_id} not found")
        self._teams.pop(team_id, None)
        return checked


class RetentionService:
    def __init__(
        self,
        retention: RetentionLedger,
        keys: IdempotencyLedger,
        pipelines: PipelineCatalog,
        blobs: BlobStore,
        quota: StorageQuota,
        live: LiveStore,
        clock: Clock,
        policy: RetentionPolicy,
        *,
        batch_size: int = 100,
        orphan_min_age_seconds: float = 86400.0,
        metrics: Metrics | None = None,
    ) -> None:
        self._retention = retention
        self._keys = keys
        self._pipelines = pipelines
        self._blobs = blobs
        self._quota = quota
        self._live = live
        self._clock = clock
        self.policy = policy
        self.batch_size = batch_size
        self.orphan_min_age = timedelta(seconds=orphan_min_age_seconds)
        self._metrics = metrics or NoMetrics()
        # Where the orphan sweep goes on: the folder (an index into ``_OWNED_FOLDERS``) and
        # the last key it looked at. Per process; any start point is as good as another.
        self._orphan_folder = 0
        self._orphan_after: str | None = None

    async def set_pipeline(self, team_id: str, pipeline_id: str, seconds: int | None) -> Pipeline:
        checked = check_retention(seconds)
        changed = await self._pipelines.update(
            team_id, pipeline_id, self._clock.now(), retention_seconds=checked
        )
        if changed is None:
            raise NotFound(f"Pipeline {pipeline_id} not found")
        return changed

    async def delete(self, team_id: str, execution_id: str) -> int:
        """Delete a finished execution with its input, results and checkpoints (and executor
        cache entries); returns how many blobs were removed. ``Conflict`` while it runs."""
        released = await self._retention.delete(execution_id, team_id)
        if released is None:
            raise NotFound(f"Execution {execution_id} not found")
        removed = await self._remove(released)
        try:
            await self._live.expire(execution_id, 0)
        except Exception:  # the ledger has no row any more: a live entry is never read
            log.warning("could not drop the live entry of %s", execution_id, exc_info=True)
        return removed

    async def sweep(self) -> SweepReport:
        """One bounded pass: purge up to ``batch_size`` expired executions, one short
        transaction each, and drop expired idempotency keys."""
        now = self._clock.now()
        purged = removed = 0
        for execution_id in await self._retention.due(now, self.batch_size):
            released = await self._retention.purge(execution_id, now)
            if released is None:  # another sweeper took it
                continue
            purged += 1
            removed += await self._remove(released)
        dropped = await self._keys.purge_expired(now, self.batch_size)
        try:
            orphans = await self.sweep_orphans()
        except Exception:  # the purges above still count; the next pass tries again
            log.exception("orphan blob sweep failed")
            orphans = 0
        return SweepReport(purged, removed, dropped, orphans)

    async def sweep_orphans(self) -> int:
        """One bounded step of the orphan sweep: look at up to ``batch_size`` blobs of one
        folder (going on where the last step stopped) and delete those no ledger row needs
        that are older than ``orphan_min_age``; returns how many were deleted. Idempotent, and
        safe with sweepers of other processes: a blob is deleted only when nothing needs it.

        Their bytes are not uncounted from a team's storage: an orphan names no team (the
        purge that left it did not release them either)."""
        folder, role = _OWNED_FOLDERS[self._orphan_folder]
        page = await self._blobs.list_keys(folder, after=self._orphan_after, limit=self.batch_size)
        if len(page) < self.batch_size:  # the folder is done: the next step takes the next one
            self._orphan_folder = (self._orphan_folder + 1) % len(_OWNED_FOLDERS)
            self._orphan_after = None
        else:
            self._orphan_after = page[-1].key
        cutoff = self._clock.now() - self.orphan_min_age
        names = {
            blob.key: _ledger_name(role, blob.key) for blob in page if blob.written_at < cutoff
        }
        if not names:
            return 0
        needed = await self._retention.referenced(
            role, [name for name in names.values() if name is not None]
        )
        orphans = [key for key, name in names.items() if name is not None and name not in needed]
        await asyncio.gather(*(self._blobs.delete(key) for key in orphans))
        if orphans:
            self._metrics.orphan_blobs_deleted(len(orphans))
            log.info("retention: deleted %d orphaned blob(s) under %s", len(orphans), folder)
        return len(orphans)

    async def _remove(self, released: ReleasedBlobs) -> int:
        keys = [
            *released.input_keys,
            *released.result_keys,
            *(checkpoint_key(c) for c in released.checkpoint_ids),
        ]
        sizes = await asyncio.gather(*(self._blobs.size(key) for key in keys))
        await asyncio.gather(*(self._blobs.delete(key) for key in keys))
        await self._quota.release(released.team_id, sum(s for s in sizes if s))
        return sum(1 for s in sizes if s is not None)


def _ledger_name(role: BlobRole, key: str) -> str | None:
    """How the ledger names the blob at ``key`` (None: a key of no shape pagemill writes, left
    alone)."""
    return checkpoint_id_of(key) if role is BlobRole.CHECKPOINT else key


def build_retention(
    ledger: Ledger,
    blobs: BlobStore,
    quota: StorageQuota,
    live: LiveStore,
    clock: Clock,
    default_seconds: float,
    batch_size: int,
    *,
    orphan_min_age_seconds: float = 86400.0,
    metrics: Metrics | None = None,
) -> RetentionService:
    """The retention service over the ledger areas it uses."""
    policy = RetentionPolicy(ledger.tenancy, default_seconds)
    return RetentionService(
        ledger.retention,
        ledger.idempotency,
        ledger.pipelines,
        blobs,
        quota,
        live,
        clock,
        policy,
        batch_size=batch_size,
        orphan_min_age_seconds=orphan_min_age_seconds,
        metrics=metrics,
    )
