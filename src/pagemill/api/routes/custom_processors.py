"""Custom processors (``cp_…``): list, create, status, iterate, versions, set_active, archive.

Creation is pagemill's extension: instead of generating a processor from a natural-language
request with an LLM, ``POST /api/v1/custom_processors`` takes a declarative definition (see
``pagemill.domain.custom_processors``) and stores it as version 1 at once, so the status of a
"request" is always ``complete``. The deprecated ``/api/v1/custom_pipelines/...`` twins are
served by the same handlers.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Path, Query, Response
from pydantic import BaseModel, Field

from pagemill.api import wire
from pagemill.api.deps import CallerDep
from pagemill.api.errors import error_responses
from pagemill.api.route_table import Route, build_router
from pagemill.api.schemas import MAX_INT, StoredJson, StoredText
from pagemill.services.custom_processors import ProcessorInfo, VersionInfo

PREFIX = "/api/v1/custom_processors"
DEPRECATED_PREFIX = "/api/v1/custom_pipelines"

ProcessorId = Annotated[str, Path(max_length=80, description="The custom processor id (cp_…)")]
VersionNumber = Annotated[int, Path(ge=1, le=MAX_INT, description="A version number")]


_DEFINITION_EXAMPLE = {
    "rules": [{"action": "drop", "match": {"type": ["page_header", "page_footer"]}}],
    "classify_pages": {"invoice": ["invoice", "amount due"]},
}


class CreateCustomProcessorRequest(BaseModel):
    name: StoredText = Field(min_length=1, max_length=200)
    definition: StoredJson = Field(
        description='{"rules": [...], "classify_pages": {label: [keywords]}}',
        examples=[_DEFINITION_EXAMPLE],
    )
    description: StoredText | None = Field(default=None, max_length=2000)


class IterateCustomProcessorRequest(BaseModel):
    definition: StoredJson = Field(examples=[_DEFINITION_EXAMPLE])
    description: StoredText | None = Field(default=None, max_length=2000)
    activate: bool = Field(default=True, description="Extension: make the new version active")


class CustomProcessorItem(BaseModel):
    processor_id: str
    name: str | None
    status: str
    success: bool | None
    active_version: int
    max_version: int
    iteration_in_progress: bool
    pipeline_id: str | None
    created_at: str | None
    completed_at: str | None
    error_message: str | None
    eval_rubric_id: int | None
    archived: bool = Field(description="Extension")
    read_only: bool = Field(description="Extension: installed on the server (entry point)")


class CustomProcessorList(BaseModel):
    pipelines: list[CustomProcessorItem]
    total: int


class CustomProcessorVersionItem(BaseModel):
    version: int
    request_description: str
    created_at: str | None
    runtime: float | None
    is_active: bool


class CustomProcessorVersionList(BaseModel):
    versions: list[CustomProcessorVersionItem]
    total: int


def check_url(processor_id: str) -> str:
    return f"{PREFIX}/{processor_id}"


def item(p: ProcessorInfo) -> dict[str, Any]:
    return {
        "processor_id": p.processor_id,
        "name": p.name,
        "status": "completed",
        "success": True,
        "active_version": p.active_version,
        "max_version": p.max_version,
        "iteration_in_progress": False,
        "pipeline_id": None,
        "created_at": wire.timestamp(p.created),
        "completed_at": wire.timestamp(p.updated),
        "error_message": None,
        "eval_rubric_id": None,
        "archived": p.archived,
        "read_only": p.read_only,
    }


def status(p: ProcessorInfo) -> dict[str, Any]:
    """A generation request's poll answer: always complete here (creation is synchronous)."""
    return {**item(p), "status": "complete", "error": None}


def version_item(v: VersionInfo) -> dict[str, Any]:
    return {
        "version": v.version,
        "request_description": v.description or "",
        "created_at": wire.timestamp(v.created),
        "runtime": None,
        "is_active": v.is_active,
    }


async def list_custom_processors(
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> Response:
    items, total = await caller.services.custom_processors.list_processors(
        caller.team_id, limit=limit, offset=offset
    )
    return wire.json_response({"pipelines": [item(p) for p in items], "total": total})


async def create_custom_processor(
    body: CreateCustomProcessorRequest, caller: CallerDep
) -> Response:
    created = await caller.services.custom_processors.create(
        caller.team_id, body.name, body.definition, body.description
    )
    return wire.json_response(
        {
            "processor_id": created.processor_id,
            "version": created.active_version,
            "response_check_url": check_url(created.processor_id),
            "success": True,
            "error": None,
        }
    )


async def get_custom_processor(processor_id: ProcessorId, caller: CallerDep) -> Response:
    found = await caller.services.custom_processors.get(caller.team_id, processor_id)
    return wire.json_response(status(found))


async def iterate_custom_processor(
    processor_id: ProcessorId, body: IterateCustomProcessorRequest, caller: CallerDep
) -> Response:
    added = await caller.services.custom_processors.iterate(
        caller.team_id,
        processor_id,
        body.definition,
        body.description,
        activate=body.activate,
    )
    return wire.json_response(
        {
            "processor_id": processor_id,
            **version_item(added),
            "response_check_url": check_url(processor_id),
            "success": True,
            "error": None,
        }
    )


async def list_custom_processor_versions(processor_id: ProcessorId, caller: CallerDep) -> Response:
    versions = await caller.services.custom_processors.versions(caller.team_id, processor_id)
    return wire.json_response(
        {"versions": [version_item(v) for v in versions], "total": len(versions)}
    )


async def get_custom_processor_version(
    processor_id: ProcessorId, version: VersionNumber, caller: CallerDep
) -> Response:
    found = await caller.services.custom_processors.version(caller.team_id, processor_id, version)
    return wire.json_response(
        {"processor_id": processor_id, **version_item(found), "definition": found.definition}
    )


async def set_active_version(
    processor_id: ProcessorId,
    version: Annotated[int, Form(ge=1, le=MAX_INT, description="The version to make active")],
    caller: CallerDep,
) -> Response:
    changed = await caller.services.custom_processors.set_active(
        caller.team_id, processor_id, version
    )
    return wire.json_response(item(changed))


async def archive_custom_processor(processor_id: ProcessorId, caller: CallerDep) -> Response:
    changed = await caller.services.custom_processors.set_archived(
        caller.team_id, processor_id, True
    )
    return wire.json_response(item(changed))


CONFLICT = error_responses(400)
ROUTES = (
    Route(
        "GET",
        "",
        list_custom_processors,
        "List Custom Processors",
        CustomProcessorList,
        twin=True,
    ),
    Route(
        "POST",
        "",
        create_custom_processor,
        "Create Custom Processor (pagemill: from a definition)",
        responses=CONFLICT,
    ),
    Route(
        "GET",
        "/{processor_id}",
        get_custom_processor,
        "Get Custom Processor Status",
        twin=True,
    ),
    Route(
        "POST",
        "/{processor_id}/iterate",
        iterate_custom_processor,
        "Iterate Custom Processor (pagemill: a new definition)",
        responses=CONFLICT,
    ),
    Route(
        "GET",
        "/{processor_id}/versions",
        list_custom_processor_versions,
        "List Custom Processor Versions",
        CustomProcessorVersionList,
        twin=True,
    ),
    Route(
        "GET",
        "/{processor_id}/versions/{version}",
        get_custom_processor_version,
        "Get Custom Processor Version",
    ),
    Route(
        "POST",
        "/{processor_id}/set_active",
        set_active_version,
        "Set Active Custom Processor Version",
        CustomProcessorItem,
        CONFLICT,
        twin=True,
    ),
    Route(
        "POST",
        "/{processor_id}/archive",
        archive_custom_processor,
        "Archive Custom Processor",
        CustomProcessorItem,
        CONFLICT,
        twin=True,
    ),
)
_ERRORS = error_responses(401, 404, 503)
_TAG = "custom processors"

router = build_router(PREFIX, _TAG, ROUTES, responses=_ERRORS)
deprecated_router = build_router(
    DEPRECATED_PREFIX, _TAG, ROUTES, responses=_ERRORS, deprecated=True
)

__all__ = ["deprecated_router", "router"]
