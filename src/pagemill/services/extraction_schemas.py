"""Extraction schemas (``sch_…``): a team's saved JSON schemas that ``extract`` steps name.

Versions are immutable. Updating ``schema_json`` always stores a new version and makes it
current — with ``create_new_version: true`` or without it, since a pinned pipeline or a past
run may use the old one; the same JSON again makes no version unless ``create_new_version``
asks for one. ``name``, ``description`` and ``archived`` are edited in place.

At run time this service **freezes** each ``extract`` step that names a schema: the JSON of the
pinned (``schema_version``) or current version replaces ``schema_id`` as the step's
``page_schema``, with ``_schema: {"id", "version"}`` saying where it came from, so that workers
never look it up and a run keeps the schema it was started with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pagemill.domain.clock import Clock
from pagemill.domain.errors import InvalidInput
from pagemill.domain.extraction_schemas import (
    EXTRACTION_SCHEMAS,
    PAGE_SCHEMA,
    SCHEMA_ID,
    SCHEMA_JSON,
    SCHEMA_KEY,
    SCHEMA_VERSION,
    check_json_schema,
    schema_ref,
)
from pagemill.domain.pipelines import StepSpec
from pagemill.domain.versioned import VersionedResource
from pagemill.ports.ledger.catalog import VersionedStore
from pagemill.services.step_freezing import StepFreezer
from pagemill.services.versioned import VersionedResources, label_changes

UPDATABLE = frozenset({"name", "description", SCHEMA_JSON, "archived"})


class ExtractionSchemaService(StepFreezer):
    step_type = "extract"

    def __init__(self, store: VersionedStore, clock: Clock) -> None:
        self._resources = VersionedResources(
            EXTRACTION_SCHEMAS,
            store,
            clock,
            archived_hint=f'; unarchive it ("archived": false) to store a new {SCHEMA_JSON}',
        )

    # -- schemas -----------------------------------------------------------------------------
    async def create(
        self, team_id: str, name: str, schema_json: Any, description: str | None
    ) -> VersionedResource:
        return await self._resources.create(team_id, name, schema_json, description)

    async def get(self, team_id: str, schema_id: str) -> VersionedResource:
        return await self._resources.get(team_id, schema_id)

    async def list_schemas(
        self, team_id: str, *, include_archived: bool, limit: int, offset: int
    ) -> tuple[list[VersionedResource], int]:
        """Most recently updated first."""
        return await self._resources.page(
            team_id, include_archived=include_archived, limit=limit, offset=offset
        )

    async def update(
        self,
        team_id: str,
        schema_id: str,
        changes: Mapping[str, Any],
        *,
        create_new_version: bool = False,
    ) -> VersionedResource:
        """Apply ``changes`` (the fields the client sent: name, description, schema_json,
        archived); a ``description`` of None clears it, None elsewhere means "unchanged"."""
        columns = label_changes(changes, UPDATABLE)
        new_json = changes.get(SCHEMA_JSON)
        if new_json is None:
            if create_new_version:
                raise InvalidInput(
                    f"create_new_version needs the {SCHEMA_JSON} of the new version."
                )
            if not columns:
                return await self.get(team_id, schema_id)
            return await self._resources.update(team_id, schema_id, **columns)
        schema = check_json_schema(new_json, SCHEMA_JSON)
        current = await self.get(team_id, schema_id)
        if not create_new_version and schema == current.payload:
            if not columns:
                return current
            return await self._resources.update(team_id, schema_id, **columns)
        # The new version takes the description sent with it, else the schema's.
        return await self._resources.add_version(team_id, schema_id, schema, **columns)

    async def archive(self, team_id: str, schema_id: str) -> VersionedResource:
        return await self._resources.update(team_id, schema_id, archived=True)

    # -- pipelines ---------------------------------------------------------------------------
    async def _freeze_step(
        self, team_id: str, step: StepSpec, settings: dict[str, Any]
    ) -> dict[str, Any]:
        """The settings with the JSON of the named schema, if the step names one."""
        ref = schema_ref(settings)
        if ref is None:
            return settings
        number, schema_json = await self._resources.resolve(team_id, ref.schema_id, ref.version)
        resolved = {k: v for k, v in settings.items() if k not in (SCHEMA_ID, SCHEMA_VERSION)}
        resolved[PAGE_SCHEMA] = schema_json
        resolved[SCHEMA_KEY] = {"id": ref.schema_id, "version": number}
        return resolved
