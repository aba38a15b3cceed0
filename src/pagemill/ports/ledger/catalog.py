"""The ledger's catalog: what a team defines before it runs anything.

Pipelines (a draft plus published versions), and a generic store of versioned team resources
(custom processors, extraction schemas and eval rubrics are its kinds, one store each).
Everything takes the team: another team's rows are simply not found.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any

from pagemill.domain.models import Pipeline, PipelineVersion
from pagemill.domain.versioned import ResourceVersion, VersionedResource


class PipelineCatalog(ABC):
    @abstractmethod
    async def create(
        self, team_id: str, pipeline_id: str, steps: list[dict[str, Any]], now: datetime
    ) -> Pipeline: ...

    @abstractmethod
    async def get(self, team_id: str, pipeline_id: str) -> Pipeline | None: ...

    @abstractmethod
    async def page(
        self, team_id: str, *, saved_only: bool, include_archived: bool, limit: int, offset: int
    ) -> tuple[list[Pipeline], int]:
        """Most recently updated first, and the count."""

    @abstractmethod
    async def update(
        self, team_id: str, pipeline_id: str, now: datetime, **changes: Any
    ) -> Pipeline | None:
        """Set the given columns (steps, name, is_saved, archived, retention_seconds) and
        ``updated``."""

    @abstractmethod
    async def publish_version(
        self, team_id: str, pipeline_id: str, description: str | None, now: datetime
    ) -> PipelineVersion | None:
        """Snapshot the draft as version max+1 and make it the active version, atomically."""

    @abstractmethod
    async def versions(self, pipeline_pk: int) -> list[PipelineVersion]:
        """Newest first."""


class VersionedStore(ABC):
    """A team's resources of one kind (custom processors, extraction schemas), each with
    immutable versions numbered from 1; one version is current."""

    @abstractmethod
    async def create(
        self,
        team_id: str,
        public_id: str,
        name: str,
        payload: dict[str, Any],
        description: str | None,
        now: datetime,
    ) -> VersionedResource:
        """Insert the resource with ``payload`` as version 1, current, atomically.

        ``description`` is the version's, and the resource's when its kind keeps one;
        ``Conflict`` when ``public_id`` is taken.
        """

    @abstractmethod
    async def get(self, team_id: str, public_id: str) -> VersionedResource | None: ...

    @abstractmethod
    async def page(
        self, team_id: str, *, include_archived: bool, limit: int, offset: int
    ) -> tuple[list[VersionedResource], int]:
        """Most recently updated first, and the count."""

    @abstractmethod
    async def versions(self, team_id: str, public_id: str) -> list[ResourceVersion]:
        """Newest first; empty when the resource does not exist for the team."""

    @abstractmethod
    async def version(self, team_id: str, public_id: str, version: int) -> ResourceVersion | None:
        """One version of the team's resource; None when either does not exist."""

    @abstractmethod
    async def add_version(
        self,
        team_id: str,
        public_id: str,
        payload: dict[str, Any],
        now: datetime,
        *,
        version_description: str | None = None,
        make_current: bool = True,
        **changes: Any,
    ) -> VersionedResource | None:
        """Store ``payload`` as version max+1 (current if ``make_current``) and set
        ``changes`` as ``update`` does, atomically; concurrent calls get distinct numbers.

        The version's description is ``version_description``, or else the resource's own
        once ``changes`` are applied.
        """

    @abstractmethod
    async def update(
        self, team_id: str, public_id: str, now: datetime, **changes: Any
    ) -> VersionedResource | None:
        """Set the given columns (name, description when the kind keeps one,
        current_version, archived) and ``updated``; ``ValueError`` for any other column.

        ``current_version`` must name an existing version (the caller checks: versions are
        never deleted).
        """
