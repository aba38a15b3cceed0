"""The ledger's catalog: what a team defines before it runs anything.

Pipelines (a draft plus published versions), custom processors and extraction schemas (each a
team's resource with immutable, numbered versions). Everything takes the team: another team's
rows are simply not found.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any

from pagemill.domain.custom_processors import CustomProcessor, CustomProcessorVersion
from pagemill.domain.extraction_schemas import ExtractionSchema, ExtractionSchemaVersion
from pagemill.domain.models import Pipeline, PipelineVersion


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
        """Set the given columns (steps, name, is_saved, archived) and ``updated``."""

    @abstractmethod
    async def publish_version(
        self, team_id: str, pipeline_id: str, description: str | None, now: datetime
    ) -> PipelineVersion | None:
        """Snapshot the draft as version max+1 and make it the active version, atomically."""

    @abstractmethod
    async def versions(self, pipeline_pk: int) -> list[PipelineVersion]:
        """Newest first."""


class CustomProcessorCatalog(ABC):
    @abstractmethod
    async def create(
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
    async def get(self, team_id: str, processor_id: str) -> CustomProcessor | None: ...

    @abstractmethod
    async def page(
        self, team_id: str, *, include_archived: bool, limit: int, offset: int
    ) -> tuple[list[CustomProcessor], int]:
        """Most recently updated first."""

    @abstractmethod
    async def add_version(
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
    async def versions(self, team_id: str, processor_id: str) -> list[CustomProcessorVersion]:
        """Newest first; empty when the processor does not exist for the team."""

    @abstractmethod
    async def version(
        self, team_id: str, processor_id: str, version: int
    ) -> CustomProcessorVersion | None: ...

    @abstractmethod
    async def update(
        self, team_id: str, processor_id: str, now: datetime, **changes: Any
    ) -> CustomProcessor | None:
        """Set the given columns (name, active_version, archived) and ``updated``.

        ``active_version`` must name an existing version (the caller checks: versions are
        never deleted).
        """


class ExtractionSchemaCatalog(ABC):
    @abstractmethod
    async def create(
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
    async def get(self, team_id: str, schema_id: str) -> ExtractionSchema | None:
        """The schema with its current version's JSON and its history (newest first)."""

    @abstractmethod
    async def page(
        self, team_id: str, *, include_archived: bool, limit: int, offset: int
    ) -> tuple[list[ExtractionSchema], int]:
        """Most recently updated first."""

    @abstractmethod
    async def version(
        self, team_id: str, schema_id: str, version: int
    ) -> ExtractionSchemaVersion | None: ...

    @abstractmethod
    async def update(
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
