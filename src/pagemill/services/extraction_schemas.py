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
from pagemill.domain.errors import Conflict, InvalidInput, NotFound
from pagemill.domain.extraction_schemas import (
    PAGE_SCHEMA,
    SCHEMA_ID,
    SCHEMA_KEY,
    SCHEMA_VERSION,
    ExtractionSchema,
    SchemaRef,
    check_json_schema,
    new_schema_id,
    schema_ref,
)
from pagemill.domain.labels import check_description, check_name
from pagemill.domain.pipelines import StepSpec
from pagemill.ports.ledger.catalog import ExtractionSchemaCatalog
from pagemill.services.step_freezing import StepFreezer

FIELD = "schema_json"
UPDATABLE = frozenset({"name", "description", FIELD, "archived"})


class ExtractionSchemaService(StepFreezer):
    step_type = "extract"

    def __init__(self, schemas: ExtractionSchemaCatalog, clock: Clock) -> None:
        self._schemas = schemas
        self._clock = clock

    # -- schemas -----------------------------------------------------------------------------
    async def create(
        self, team_id: str, name: str, schema_json: Any, description: str | None
    ) -> ExtractionSchema:
        clean_name = check_name(name)
        check_description(description)
        schema = check_json_schema(schema_json, FIELD)
        return await self._schemas.create(
            team_id, new_schema_id(), clean_name, schema, description, self._clock.now()
        )

    async def get(self, team_id: str, schema_id: str) -> ExtractionSchema:
        found = await self._schemas.get(team_id, schema_id)
        if found is None:
            raise NotFound(f"Extraction schema {schema_id} not found")
        return found

    async def list_schemas(
        self, team_id: str, *, include_archived: bool, limit: int, offset: int
    ) -> tuple[list[ExtractionSchema], int]:
        """Most recently updated first."""
        return await self._schemas.page(
            team_id, include_archived=include_archived, limit=limit, offset=offset
        )

    async def update(
        self,
        team_id: str,
        schema_id: str,
        changes: Mapping[str, Any],
        *,
        create_new_version: bool = False,
    ) -> ExtractionSchema:
        """Apply ``changes`` (the fields the client sent: name, description, schema_json,
        archived); a ``description`` of None clears it, None elsewhere means "unchanged"."""
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise ValueError(f"cannot update {', '.join(sorted(unknown))}")
        columns: dict[str, Any] = {}
        if changes.get("name") is not None:
            columns["name"] = check_name(str(changes["name"]))
        if "description" in changes:
            columns["description"] = check_description(changes["description"])
        if changes.get("archived") is not None:
            columns["archived"] = bool(changes["archived"])
        new_json = changes.get(FIELD)
        if new_json is None:
            if create_new_version:
                raise InvalidInput(f"create_new_version needs the {FIELD} of the new version.")
            if not columns:
                return await self.get(team_id, schema_id)
            return await self._store(team_id, schema_id, None, columns)
        schema = check_json_schema(new_json, FIELD)
        current = await self.get(team_id, schema_id)
        if not create_new_version and schema == current.schema_json:
            return await self._store(team_id, schema_id, None, columns) if columns else current
        if columns.get("archived", current.archived):
            raise Conflict(
                f"Extraction schema {schema_id} is archived; unarchive it "
                f'("archived": false) to store a new {FIELD}.'
            )
        return await self._store(team_id, schema_id, schema, columns)

    async def archive(self, team_id: str, schema_id: str) -> ExtractionSchema:
        return await self._store(team_id, schema_id, None, {"archived": True})

    async def _store(
        self,
        team_id: str,
        schema_id: str,
        new_version: dict[str, Any] | None,
        columns: Mapping[str, Any],
    ) -> ExtractionSchema:
        changed = await self._schemas.update(
            team_id, schema_id, self._clock.now(), new_version=new_version, **columns
        )
        if changed is None:
            raise NotFound(f"Extraction schema {schema_id} not found")
        return changed

    # -- pipelines ---------------------------------------------------------------------------
    async def _freeze_step(
        self, team_id: str, step: StepSpec, settings: dict[str, Any]
    ) -> dict[str, Any]:
        """The settings with the JSON of the named schema, if the step names one."""
        ref = schema_ref(settings)
        return settings if ref is None else await self._freeze(team_id, ref, settings)

    async def _freeze(
        self, team_id: str, ref: SchemaRef, settings: Mapping[str, Any]
    ) -> dict[str, Any]:
        schema = await self._schemas.get(team_id, ref.schema_id)
        if schema is None:
            raise InvalidInput(f"extraction schema {ref.schema_id!r} not found.")
        if schema.archived:
            raise InvalidInput(f"extraction schema {ref.schema_id} is archived.")
        number = ref.version if ref.version is not None else schema.current_version
        if number == schema.current_version:
            schema_json = schema.schema_json
        else:
            version = await self._schemas.version(team_id, ref.schema_id, number)
            if version is None:
                raise InvalidInput(f"extraction schema {ref.schema_id} has no version {number}.")
            schema_json = version.schema_json
        resolved = {k: v for k, v in settings.items() if k not in (SCHEMA_ID, SCHEMA_VERSION)}
        resolved[PAGE_SCHEMA] = schema_json
        resolved[SCHEMA_KEY] = {"id": ref.schema_id, "version": number}
        return resolved
