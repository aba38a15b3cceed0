"""Extraction schemas (``sch_…``): create, list, get, update and archive saved JSON schemas.

An ``extract`` step names one with ``settings.schema_id`` (and optionally ``schema_version``)
instead of sending ``page_schema``; see ``pagemill.services.extraction_schemas`` for versions.
``DELETE`` archives (the schema and its versions are kept) and returns the archived schema.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Response
from pydantic import BaseModel, Field

from pagemill.api import wire
from pagemill.api.deps import CallerDep
from pagemill.api.errors import error_responses
from pagemill.api.route_table import Route, build_router
from pagemill.api.schemas import MAX_INT, StoredJson
from pagemill.domain.labels import MAX_DESCRIPTION, MAX_NAME
from pagemill.domain.versioned import VersionedResource

PREFIX = "/api/v1/extraction_schemas"

SchemaId = Annotated[str, Path(max_length=80, description="The extraction schema id (sch_…)")]

_SCHEMA_EXAMPLE = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": "string", "description": "The invoice number"},
        "total": {"type": "number", "description": "Total amount due"},
    },
    "required": ["invoice_number"],
}


# ``schema_json`` would shadow ``BaseModel.schema_json``: the fields take it as their alias.
class CreateExtractionSchemaRequest(BaseModel):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    json_schema: StoredJson = Field(
        alias="schema_json",
        description="A JSON schema with a non-empty 'properties' object",
        examples=[_SCHEMA_EXAMPLE],
    )
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)


class UpdateExtractionSchemaRequest(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    description: str | None = Field(
        default=None, max_length=MAX_DESCRIPTION, description="null clears it"
    )
    json_schema: StoredJson | None = Field(
        default=None,
        alias="schema_json",
        description="A changed schema is always stored as a new version (versions are "
        "immutable); the same schema again makes one only with create_new_version",
        examples=[_SCHEMA_EXAMPLE],
    )
    archived: bool | None = None
    create_new_version: bool = Field(
        default=False, description="Store schema_json as a new version even if unchanged"
    )


class SchemaVersionItem(BaseModel):
    version: int
    created: str | None
    description: str | None


class ExtractionSchemaItem(BaseModel):
    id: int
    schema_id: str
    name: str
    description: str | None
    json_schema: dict[str, Any] = Field(alias="schema_json")
    version: int = Field(description="The current version")
    version_history: list[SchemaVersionItem] = Field(description="Newest first")
    archived: bool
    created: str | None
    updated: str | None


class ExtractionSchemaList(BaseModel):
    schemas: list[ExtractionSchemaItem]
    total: int


def item(s: VersionedResource) -> dict[str, Any]:
    return {
        "id": s.pk,
        "schema_id": s.public_id,
        "name": s.name,
        "description": s.description,
        "schema_json": s.payload,
        "version": s.current_version,
        "version_history": [
            {
                "version": v.version,
                "created": wire.timestamp(v.created),
                "description": v.description,
            }
            for v in s.history
        ],
        "archived": s.archived,
        "created": wire.timestamp(s.created),
        "updated": wire.timestamp(s.updated),
    }


_WIRE_NAMES = {"json_schema": "schema_json"}


async def create_extraction_schema(
    body: CreateExtractionSchemaRequest, caller: CallerDep
) -> Response:
    created = await caller.services.extraction_schemas.create(
        caller.team_id, body.name, body.json_schema, body.description
    )
    return wire.json_response(item(created))


async def list_extraction_schemas(
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    include_archived: bool = False,
) -> Response:
    items, total = await caller.services.extraction_schemas.list_schemas(
        caller.team_id, include_archived=include_archived, limit=limit, offset=offset
    )
    return wire.json_response({"schemas": [item(s) for s in items], "total": total})


async def get_extraction_schema(schema_id: SchemaId, caller: CallerDep) -> Response:
    found = await caller.services.extraction_schemas.get(caller.team_id, schema_id)
    return wire.json_response(item(found))


async def update_extraction_schema(
    schema_id: SchemaId, body: UpdateExtractionSchemaRequest, caller: CallerDep
) -> Response:
    sent = body.model_fields_set - {"create_new_version"}
    changes = {_WIRE_NAMES.get(name, name): getattr(body, name) for name in sent}
    changed = await caller.services.extraction_schemas.update(
        caller.team_id,
        schema_id,
        changes,
        create_new_version=body.create_new_version,
    )
    return wire.json_response(item(changed))


async def archive_extraction_schema(schema_id: SchemaId, caller: CallerDep) -> Response:
    archived = await caller.services.extraction_schemas.archive(caller.team_id, schema_id)
    return wire.json_response(item(archived))


CONFLICT = error_responses(400)
ROUTES = (
    Route(
        "POST",
        "",
        create_extraction_schema,
        "Create Extraction Schema",
        ExtractionSchemaItem,
        CONFLICT,
    ),
    Route("GET", "", list_extraction_schemas, "List Extraction Schemas", ExtractionSchemaList),
    Route(
        "GET", "/{schema_id}", get_extraction_schema, "Get Extraction Schema", ExtractionSchemaItem
    ),
    Route(
        "PUT",
        "/{schema_id}",
        update_extraction_schema,
        "Update Extraction Schema",
        ExtractionSchemaItem,
        CONFLICT,
    ),
    Route(
        "DELETE",
        "/{schema_id}",
        archive_extraction_schema,
        "Archive Extraction Schema",
        ExtractionSchemaItem,
    ),
)

router = build_router(
    PREFIX, "extraction schemas", ROUTES, responses=error_responses(401, 404, 503)
)
