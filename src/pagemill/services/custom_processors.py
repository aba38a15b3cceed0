"""Custom processors (``cp_…``): versioned definitions a pipeline's ``custom`` step applies.

Two kinds share one id space and one API: a team's own processors, stored in the ledger as
immutable versions of a declarative definition, and transforms installed on the server as
entry points (``cp_<entry point name>``), which every team sees as read-only version 1.

At run time this service **freezes** each ``custom`` step: the definition of the pinned
(``settings.version``) or active version goes into the step's settings, so that workers never
look it up and a run keeps doing what it was started with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pagemill.domain.clock import Clock
from pagemill.domain.custom_processors import (
    CUSTOM_PROCESSORS,
    DEFINITION_KEY,
    PROCESSOR_KEY,
    pinned_version,
)
from pagemill.domain.errors import Conflict, InvalidInput, NotFound
from pagemill.domain.pipelines import StepSpec
from pagemill.domain.versioned import ResourceVersion, VersionedResource
from pagemill.ports.ledger.catalog import VersionedStore
from pagemill.processors.registry import ProcessorRegistry
from pagemill.services.step_freezing import StepFreezer
from pagemill.services.versioned import VersionedResources


@dataclass(frozen=True, slots=True)
class ProcessorInfo:
    processor_id: str
    name: str
    active_version: int
    max_version: int
    archived: bool
    created: datetime | None
    updated: datetime | None
    source: Literal["definition", "entry_point"]

    @property
    def read_only(self) -> bool:
        return self.source == "entry_point"


@dataclass(frozen=True, slots=True)
class VersionInfo:
    processor_id: str
    version: int
    definition: dict[str, Any]
    description: str | None
    created: datetime | None
    is_active: bool


def _info(p: VersionedResource) -> ProcessorInfo:
    return ProcessorInfo(
        processor_id=p.public_id,
        name=p.name,
        active_version=p.current_version,
        max_version=p.newest_version,
        archived=p.archived,
        created=p.created,
        updated=p.updated,
        source="definition",
    )


def _version_info(processor_id: str, v: ResourceVersion, active: int) -> VersionInfo:
    return VersionInfo(
        processor_id=processor_id,
        version=v.version,
        definition=v.payload,
        description=v.description,
        created=v.created,
        is_active=v.version == active,
    )


class CustomProcessorService(StepFreezer):
    step_type = "custom"

    def __init__(self, store: VersionedStore, processors: ProcessorRegistry, clock: Clock) -> None:
        self._resources = VersionedResources(CUSTOM_PROCESSORS, store, clock)
        self._installed = {t.processor_id: t for t in processors.custom_transforms.values()}

    # -- installed transforms ----------------------------------------------------------------
    def _installed_info(self, processor_id: str) -> ProcessorInfo | None:
        installed = self._installed.get(processor_id)
        if installed is None:
            return None
        return ProcessorInfo(
            processor_id=processor_id,
            name=installed.name,
            active_version=1,
            max_version=1,
            archived=False,
            created=None,
            updated=None,
            source="entry_point",
        )

    def _installed_version(self, processor_id: str) -> VersionInfo:
        installed = self._installed[processor_id]
        return VersionInfo(
            processor_id=processor_id,
            version=1,
            definition={
                "entry_point": installed.entry_point,
                "target": installed.target,
                "transform_version": installed.version,
            },
            description=f"Installed transform {installed.target} ({installed.version})",
            created=None,
            is_active=True,
        )

    def _read_only(self, processor_id: str) -> None:
        if processor_id in self._installed:
            raise Conflict(
                f"Custom processor {processor_id} is installed on the server "
                "(a pagemill.processors entry point) and cannot be changed."
            )

    # -- definitions -------------------------------------------------------------------------
    async def create(
        self, team_id: str, name: str, definition: Any, description: str | None
    ) -> ProcessorInfo:
        created = await self._resources.create(
            team_id, name, definition, description, taken=self._installed.__contains__
        )
        return _info(created)

    async def get(self, team_id: str, processor_id: str) -> ProcessorInfo:
        installed = self._installed_info(processor_id)
        if installed is not None:
            return installed
        return _info(await self._resources.get(team_id, processor_id))

    async def list_processors(
        self, team_id: str, *, limit: int, offset: int
    ) -> tuple[list[ProcessorInfo], int]:
        """The team's own (most recently updated first), then the installed ones by id."""
        own, own_total = await self._resources.page(
            team_id, include_archived=False, limit=limit, offset=offset
        )
        items = [_info(p) for p in own]
        installed = sorted(self._installed)
        start = max(0, offset - own_total)
        for processor_id in installed[start : start + limit - len(items)]:
            info = self._installed_info(processor_id)
            assert info is not None
            items.append(info)
        return items, own_total + len(installed)

    async def iterate(
        self,
        team_id: str,
        processor_id: str,
        definition: Any,
        description: str | None,
        *,
        activate: bool = True,
    ) -> VersionInfo:
        self._read_only(processor_id)
        changed = await self._resources.add_version(
            team_id,
            processor_id,
            definition,
            version_description=description,
            make_current=activate,
        )
        added = changed.history[0]
        return VersionInfo(
            processor_id=processor_id,
            version=added.version,
            definition=dict(definition),
            description=added.description,
            created=added.created,
            is_active=added.version == changed.current_version,
        )

    async def versions(self, team_id: str, processor_id: str) -> list[VersionInfo]:
        """Newest first."""
        if processor_id in self._installed:
            return [self._installed_version(processor_id)]
        processor, versions = await self._resources.versions(team_id, processor_id)
        return [_version_info(processor_id, v, processor.current_version) for v in versions]

    async def version(self, team_id: str, processor_id: str, version: int) -> VersionInfo:
        if processor_id in self._installed:
            if version != 1:
                raise NotFound(f"Version {version} of custom processor {processor_id} not found")
            return self._installed_version(processor_id)
        processor = await self._resources.get(team_id, processor_id)
        found = await self._resources.version(team_id, processor_id, version)
        return _version_info(processor_id, found, processor.current_version)

    async def set_active(self, team_id: str, processor_id: str, version: int) -> ProcessorInfo:
        self._read_only(processor_id)
        await self._resources.version(team_id, processor_id, version)  # it must exist (ours)
        changed = await self._resources.update(team_id, processor_id, current_version=version)
        return _info(changed)

    async def set_archived(self, team_id: str, processor_id: str, archived: bool) -> ProcessorInfo:
        self._read_only(processor_id)
        return _info(await self._resources.update(team_id, processor_id, archived=archived))

    # -- pipelines ---------------------------------------------------------------------------
    async def _freeze_step(
        self, team_id: str, step: StepSpec, settings: dict[str, Any]
    ) -> dict[str, Any]:
        """The settings with the definition of the pinned or active version."""
        return {**settings, **await self._freeze(team_id, step.raw, step.settings)}

    async def _freeze(
        self, team_id: str, raw: Mapping[str, Any], settings: Mapping[str, Any]
    ) -> dict[str, Any]:
        processor_id = raw.get("custom_processor_id")
        if not isinstance(processor_id, str) or not processor_id:
            raise InvalidInput("custom_processor_id is required.")
        pinned = pinned_version(settings)
        installed = self._installed.get(processor_id)
        if installed is not None:
            if pinned not in (None, 1):
                raise InvalidInput(f"custom processor {processor_id} has no version {pinned}.")
            return {
                PROCESSOR_KEY: {
                    "id": processor_id,
                    "version": 1,
                    "entry_point": installed.entry_point,
                    "transform_version": installed.version,
                }
            }
        number, definition = await self._resources.resolve(team_id, processor_id, pinned)
        return {DEFINITION_KEY: definition, PROCESSOR_KEY: {"id": processor_id, "version": number}}
