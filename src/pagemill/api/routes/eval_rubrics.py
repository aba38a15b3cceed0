"""Eval rubrics (integer ids): create, list, get, update and archive saved eval definitions.

A pipeline step names one with ``eval_rubric_id``; a run with ``run_evals`` checks that step's
result against the rubric and adds the ``evaluation`` object to it (see
``pagemill.domain.eval_rubrics`` for the rules). ``DELETE`` archives (the rubric and its
versions are kept) and returns the archived rubric.
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
from pagemill.domain.ids import PUBLIC_NUMBER_MAX
from pagemill.domain.labels import MAX_DESCRIPTION, MAX_NAME
from pagemill.domain.versioned import VersionedResource

PREFIX = "/api/v1/eval_rubrics"
SOURCE = "manual"  # the hosted API also imports rubrics from custom processors

RubricId = Annotated[
    int, Path(ge=1, le=PUBLIC_NUMBER_MAX, description="The eval rubric id (an integer)")
]

_DEFINITION_EXAMPLE = {
    "name": "Invoice checks",
    "rules": [
        {"type": "field_present", "field": "invoice_number"},
        {"type": "regex", "field": "invoice_number", "pattern": "^INV-\\d+$"},
        {"type": "numeric_range", "field": "total", "min": 0},
        {"type": "enum", "field": "currency", "values": ["EUR", "USD"]},
        {"type": "sum_equals", "addends": ["line_items[].amount"], "total": "total"},
    ],
}


class CreateEvalRubricRequest(BaseModel):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    eval_definition: StoredJson = Field(
        description="Deterministic rules: field_present, regex, numeric_range, enum, sum_equals",
        examples=[_DEFINITION_EXAMPLE],
    )


class UpdateEvalRubricRequest(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    description: str | None = Field(
        default=None, max_length=MAX_DESCRIPTION, description="null clears it"
    )
    eval_definition: StoredJson | None = Field(
        default=None,
        description="A changed definition is stored as a new version (versions are immutable)",
    )
    archived: bool | None = Field(default=None, description="Extension: archive or unarchive")


class RubricVersionItem(BaseModel):
    version: int
    created: str | None
    description: str | None


class EvalRubricItem(BaseModel):
    id: int
    name: str
    description: str | None
    eval_definition: dict[str, Any]
    source: str
    source_processor_id: str | None
    archived: bool
    version: int = Field(description="The current version")
    created: str | None
    updated: str | None
    version_history: list[RubricVersionItem] = Field(description="Newest first")


class EvalRubricList(BaseModel):
    rubrics: list[EvalRubricItem]
    total: int


def item(r: VersionedResource) -> dict[str, Any]:
    return {
        "id": int(r.public_id),
        "name": r.name,
        "description": r.description,
        "eval_definition": r.payload,
        "source": SOURCE,
        "source_processor_id": None,
        "archived": r.archived,
        "version": r.current_version,
        "created": wire.timestamp(r.created),
        "updated": wire.timestamp(r.updated),
        "version_history": [
            {
                "version": v.version,
                "created": wire.timestamp(v.created),
                "description": v.description,
            }
            for v in r.history
        ],
    }


async def create_eval_rubric(body: CreateEvalRubricRequest, caller: CallerDep) -> Response:
    created = await caller.services.eval_rubrics.create(
        caller.team_id, body.name, body.eval_definition, body.description
    )
    return wire.json_response(item(created))


async def list_eval_rubrics(
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    include_archived: bool = False,
) -> Response:
    items, total = await caller.services.eval_rubrics.list_rubrics(
        caller.team_id, include_archived=include_archived, limit=limit, offset=offset
    )
    return wire.json_response({"rubrics": [item(r) for r in items], "total": total})


async def get_eval_rubric(rubric_id: RubricId, caller: CallerDep) -> Response:
    return wire.json_response(
        item(await caller.services.eval_rubrics.get(caller.team_id, rubric_id))
    )


async def update_eval_rubric(
    rubric_id: RubricId, body: UpdateEvalRubricRequest, caller: CallerDep
) -> Response:
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    changed = await caller.services.eval_rubrics.update(caller.team_id, rubric_id, changes)
    return wire.json_response(item(changed))


async def archive_eval_rubric(rubric_id: RubricId, caller: CallerDep) -> Response:
    return wire.json_response(
        item(await caller.services.eval_rubrics.archive(caller.team_id, rubric_id))
    )


CONFLICT = error_responses(400)
ROUTES = (
    Route("POST", "", create_eval_rubric, "Create Eval Rubric", EvalRubricItem),
    Route("GET", "", list_eval_rubrics, "List Eval Rubrics", EvalRubricList),
    Route("GET", "/{rubric_id}", get_eval_rubric, "Get Eval Rubric", EvalRubricItem),
    Route(
        "PUT", "/{rubric_id}", update_eval_rubric, "Update Eval Rubric", EvalRubricItem, CONFLICT
    ),
    Route("DELETE", "/{rubric_id}", archive_eval_rubric, "Archive Eval Rubric", EvalRubricItem),
)

router = build_router(PREFIX, "eval rubrics", ROUTES, responses=error_responses(401, 404, 503))
