"""The single-shot endpoints (``POST /api/v1/convert`` …), their polls, and thumbnails.

Each POST streams the document into the blob store like a pipeline run, reads the typed form
(``request_forms``), and starts a one-request execution (``services.requests``); the answer is
the hosted ``InitialResponse``. ``GET /api/v1/{endpoint}/{request_id}`` polls any lookup key
of the caller's team.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from pagemill.api import wire
from pagemill.api.deps import Caller, CallerDep
from pagemill.api.errors import error_responses
from pagemill.api.forms import RunFormReader
from pagemill.api.idempotency import (
    REPLAYED_HEADER,
    IdempotencyKeyHeader,
    idempotent_request,
)
from pagemill.api.request_forms import FORMS, CreateDocumentBody
from pagemill.api.schemas import StoredText
from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.domain.idempotency import IdempotentRequest
from pagemill.services.executions import StoredDocument
from pagemill.services.request_plans import plan
from pagemill.services.requests import ENDPOINTS, SingleShot

router = APIRouter(prefix="/api/v1", tags=["single-shot"], responses=error_responses(401, 404, 503))

RequestId = Annotated[str, Path(max_length=80, description="A request_id or a step's lookup_key")]


def _form_body(model: type[BaseModel], title: str) -> dict[str, Any]:
    properties = model.model_json_schema()["properties"]
    return {
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "title": title,
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            **properties,
                        },
                    }
                },
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "title": f"{title}_urlencoded",
                        "properties": properties,
                    }
                },
            },
            "required": True,
        }
    }


# The form is read by hand (streamed), so FastAPI does not declare its 422 by itself.
VALIDATION_ERROR: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "Validation Error",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
        },
    }
}


def request_check_url(request: Request, public_url: str | None, endpoint: str, rid: str) -> str:
    """Where the client polls: under the configured public URL, else on the scheme and host
    this request came to."""
    base = public_url or str(request.base_url)
    return f"{base.rstrip('/')}/api/v1/{endpoint}/{rid}"


async def _submit(endpoint: str, request: Request, caller: Caller) -> Response:
    executions = caller.services.executions
    idempotent_request(request, endpoint)  # a malformed key is refused before the upload
    reader = RunFormReader(request.headers.get("content-type", ""), request.stream())
    document = await executions.receive_upload(reader.file_chunks(), caller.team_id)
    try:
        fields = _validate(FORMS[endpoint], reader.fields)
        shot = plan(endpoint, fields, request.headers.get("traceparent"))
        shot = _with_idempotency(shot, idempotent_request(request, endpoint, fields))
        given = [
            name
            for name, present in (
                ("file", reader.has_file),
                ("file_url", bool(fields.get("file_url"))),
                ("checkpoint_id", bool(fields.get("checkpoint_id"))),
            )
            if present
        ]
        if len(given) > 1:
            raise _invalid(given[1], f"Send one of {' or '.join(given)}, not both.")
        if reader.has_file:
            document = document.renamed(
                reader.filename or "document",
                reader.file_content_type or "application/octet-stream",
            )
        else:
            await executions.discard(document)
            document = await _document(caller, shot, fields)
    except BaseException:
        await executions.discard(document)
        raise
    return await _started(request, caller, shot, document)


def _with_idempotency(shot: SingleShot, idempotency: IdempotentRequest | None) -> SingleShot:
    if idempotency is None:
        return shot
    return dataclasses.replace(
        shot, options=dataclasses.replace(shot.options, idempotency=idempotency)
    )


async def _document(caller: Caller, shot: SingleShot, fields: dict[str, Any]) -> StoredDocument:
    if shot.checkpoint_id:
        return await caller.services.requests.checkpoint_document(
            caller.team_id, shot.checkpoint_id
        )
    if fields.get("file_url"):
        return await caller.services.executions.fetch(str(fields["file_url"]), caller.team_id)
    can_checkpoint = "checkpoint_id" in FORMS[shot.endpoint].model_fields
    raise _invalid(
        "file", "Send a file, a file_url" + (" or a checkpoint_id." if can_checkpoint else ".")
    )


async def _started(
    request: Request, caller: Caller, shot: SingleShot, document: StoredDocument
) -> Response:
    submitted = await caller.services.requests.submit(caller.team_id, shot, document)
    public_url = caller.services.requests.public_url
    response = wire.json_response(
        {
            "request_id": submitted.request_id,
            "request_check_url": request_check_url(
                request, public_url, shot.endpoint, submitted.request_id
            ),
            "success": True,
            "error": None,
            "versions": {},
            # Extension: the execution the request runs as (GET /api/v1/pipelines/executions/…).
            "execution_id": submitted.execution_id,
        }
    )
    if submitted.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return response


def _validate(model: type[BaseModel], fields: dict[str, str]) -> dict[str, Any]:
    try:
        return model.model_validate(fields).model_dump(exclude_none=True)
    except ValidationError as exc:
        errors = [
            {**error, "loc": ("body", *error["loc"])}
            for error in exc.errors(include_url=False, include_context=False)
        ]
        raise RequestValidationError(errors) from exc


def _invalid(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "msg": message, "type": "value_error"}])


def _submit_route(endpoint: str, summary: str, title: str) -> None:
    async def submit(
        request: Request, caller: CallerDep, _key: IdempotencyKeyHeader = None
    ) -> Response:
        return await _submit(endpoint, request, caller)

    submit.__name__ = f"submit_{endpoint.replace('-', '_')}"
    router.add_api_route(
        f"/{endpoint}",
        submit,
        methods=["POST"],
        summary=summary,
        openapi_extra=_form_body(FORMS[endpoint], title),
        responses={**error_responses(400, 409, 413, 415, 429), **VALIDATION_ERROR},
    )


def _poll_route(endpoint: str) -> None:
    async def poll(request_id: RequestId, caller: CallerDep) -> Response:
        return wire.json_response(await caller.services.requests.poll(caller.team_id, request_id))

    poll.__name__ = f"poll_{endpoint.replace('-', '_')}"
    router.add_api_route(
        f"/{endpoint}/{{request_id}}",
        poll,
        methods=["GET"],
        summary=f"Poll a {endpoint} request (or any step's lookup_key)",
    )


_SUBMITS = {
    "convert": ("Convert a document", "Body_convert"),
    "ocr": ("OCR a document (deprecated by the hosted API)", "Body_ocr"),
    "extract": ("Extract structured data", "Body_extract"),
    "segment": ("Segment a document", "Body_segment"),
    "custom-processor": ("Run a custom processor", "Body_custom_processor"),
    "fill": ("Fill a form", "Body_fill"),
    "track-changes": ("Tracked changes of a DOCX", "Body_track_changes"),
    "marker": ("Convert (deprecated alias; also page_schema, segmentation_schema)", "Body_marker"),
}
for _endpoint, (_summary, _title) in _SUBMITS.items():
    _submit_route(_endpoint, _summary, _title)


@router.post(
    "/create-document",
    summary="Create a DOCX from Markdown",
    responses=error_responses(400, 409, 413, 429),
)
async def create_document(
    body: CreateDocumentBody,
    request: Request,
    caller: CallerDep,
    _key: IdempotencyKeyHeader = None,
) -> Response:
    data = body.markdown.encode("utf-8")
    document = await caller.services.executions.receive_upload(_once(data), caller.team_id)
    document = document.renamed("document.md", "text/markdown")
    try:
        fields = body.model_dump(exclude_none=True)
        shot = plan("create-document", fields)
        shot = _with_idempotency(shot, idempotent_request(request, "create-document", fields))
    except BaseException:
        await caller.services.executions.discard(document)
        raise
    return await _started(request, caller, shot, document)


async def _once(data: bytes) -> Any:
    yield data


for _endpoint in ENDPOINTS:
    _poll_route(_endpoint)


@router.get("/thumbnails/{lookup_key}", summary="Page thumbnails of a request's document")
async def get_thumbnails(
    lookup_key: RequestId,
    caller: CallerDep,
    page_range: Annotated[StoredText | None, Query(max_length=2000)] = None,
    thumb_width: Annotated[int, Query(ge=16, le=2000)] = 300,
    track_changes: bool = False,
) -> Response:
    """``{thumbnails: [base64 JPEG], success, error}``; a document with no pages to draw
    answers ``success: false`` with the reason."""
    if track_changes:
        raise InvalidInput(
            "track_changes=true thumbnails (pages drawn with tracked changes) are not "
            "available on this server; omit it."
        )
    try:
        images = await caller.services.requests.thumbnails(
            caller.team_id, lookup_key, page_range or None, thumb_width
        )
    except ProcessingError as error:
        return wire.json_response({"thumbnails": None, "success": False, "error": str(error)})
    return wire.json_response({"thumbnails": images, "success": True, "error": None})
