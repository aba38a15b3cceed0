"""What a run was made of (provenance) and what one would cost (estimate): pagemill extensions.

Registered before the pipelines router, like the other execution routes.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pagemill.api import wire
from pagemill.api.deps import CallerDep
from pagemill.api.errors import error_responses
from pagemill.api.forms import RunFormReader
from pagemill.api.schemas import MAX_INT, StoredText
from pagemill.domain.errors import InvalidInput, PayloadTooLarge
from pagemill.services.estimates import MAX_PAGE_COUNT, EstimateRequest
from pagemill.services.executions import StoredDocument

router = APIRouter(
    prefix="/api/v1/pipelines", tags=["pipelines"], responses=error_responses(401, 404, 503)
)
MAX_JSON_BYTES = 64 * 1024


@router.get(
    "/executions/{execution_id}/provenance",
    summary="Get Pipeline Execution Provenance (pagemill extension)",
)
async def execution_provenance(
    execution_id: Annotated[str, Path(max_length=80, description="The execution id (pex_…)")],
    caller: CallerDep,
) -> Response:
    """The input's hash, the configuration, what produced each step's result (processor and
    library versions, worker, attempt), where reused results came from, and every attempt."""
    found = await caller.services.provenance.provenance(caller.team_id, execution_id)
    return wire.json_response(found)


class EstimateForm(BaseModel):
    """The fields of an estimate: a document (``file``), a ``file_url`` or a ``page_count``."""

    model_config = ConfigDict(extra="ignore")

    file_url: StoredText | None = Field(default=None, max_length=4096)
    page_count: int | None = Field(default=None, ge=1, le=MAX_PAGE_COUNT)
    page_range: StoredText | None = Field(default=None, max_length=2000)
    version: int | None = Field(default=None, ge=0, le=MAX_INT)

    @field_validator("file_url", "page_count", "page_range", "version", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


_ESTIMATE_BODY = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "title": "Body_estimate_pipeline",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        **EstimateForm.model_json_schema()["properties"],
                    },
                }
            },
            "application/json": {"schema": EstimateForm.model_json_schema()},
        },
        "required": True,
    }
}


@router.post(
    "/{pipeline_id}/estimate",
    summary="Estimate a Pipeline Run (pagemill extension)",
    openapi_extra=_ESTIMATE_BODY,
    responses=error_responses(400, 413, 415),
)
async def estimate_run(
    pipeline_id: Annotated[str, Path(max_length=80)], request: Request, caller: CallerDep
) -> Response:
    """Pages, cost from the rate table, and expected duration from the recent runs of the same
    pipeline version and the current queue. Nothing is queued and no document is kept."""
    services = caller.services
    # An unknown pipeline is refused before a possibly large body is read.
    await services.estimates.check_pipeline(caller.team_id, pipeline_id)
    content_type = request.headers.get("content-type", "")
    executions = services.executions
    document: StoredDocument | None = None
    if content_type.split(";")[0].strip().lower() == "application/json":
        fields = await _json_body(request)
    else:
        reader = RunFormReader(content_type, request.stream())
        upload = await executions.receive_upload(reader.file_chunks(), caller.team_id)
        if reader.has_file:
            document = upload
        else:
            await executions.discard(upload)  # nothing was sent in it
        fields = reader.fields
    try:
        form = _validate(fields)
        if sum(bool(x) for x in (document, form.file_url, form.page_count)) > 1:
            raise InvalidInput("Send one of a file, a file_url or a page_count.")
        if document is not None and document.size == 0:
            raise InvalidInput("The uploaded file is empty.")
        if form.file_url:
            document = await executions.fetch(form.file_url, caller.team_id)
        return await _estimate(caller, pipeline_id, form, document.key if document else None)
    finally:
        if document is not None:
            await executions.discard(document)


async def _estimate(
    caller: CallerDep, pipeline_id: str, form: EstimateForm, document_key: str | None
) -> Response:
    request = EstimateRequest(
        version=form.version,
        page_range=form.page_range,
        page_count=None if document_key else form.page_count,
        document_key=document_key,
    )
    found = await caller.services.estimates.estimate(caller.team_id, pipeline_id, request)
    return wire.json_response(found)


async def _json_body(request: Request) -> dict[str, Any]:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BYTES:
            raise PayloadTooLarge(f"An estimate's JSON body is at most {MAX_JSON_BYTES} bytes.")
    try:
        parsed = orjson.loads(bytes(body))
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"The body is not JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise InvalidInput("The body must be a JSON object.")
    return parsed


def _validate(fields: dict[str, Any]) -> EstimateForm:
    try:
        return EstimateForm.model_validate(fields)
    except ValidationError as exc:
        errors = [
            {**error, "loc": ("body", *error["loc"])}
            for error in exc.errors(include_url=False, include_context=False)
        ]
        raise RequestValidationError(errors) from exc
