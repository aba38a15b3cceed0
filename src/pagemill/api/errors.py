"""The one table from domain errors to HTTP statuses, and the handlers that apply it.

Bodies are ``{"detail": "…"}``; input the domain refuses is a 422 in FastAPI's
``HTTPValidationError`` shape so that clients see one format for every validation failure.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from pagemill.api.schemas import ErrorResponse
from pagemill.domain.errors import (
    Conflict,
    Forbidden,
    Gone,
    IdempotencyMismatch,
    InvalidInput,
    NotFound,
    PagemillError,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    Unauthenticated,
    UnsupportedMediaType,
    UpstreamUnavailable,
)

log = logging.getLogger("pagemill.api")

STATUS_BY_ERROR: dict[type[PagemillError], int] = {
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    RateLimited: 429,
    InvalidInput: 422,
    Conflict: 400,
    IdempotencyMismatch: 409,
    Gone: 410,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    UpstreamUnavailable: 400,
    ServiceUnavailable: 503,
}


_DESCRIPTIONS = {
    400: "The body could not be parsed, the request conflicts with the current state, "
    "or file_url could not be fetched",
    401: "Missing, unknown, revoked or expired API key",
    403: "A member of the team whose role does not allow this, or a cookie-authenticated "
    "change without a valid X-CSRF-Token",
    404: "Not found for the caller's team",
    409: "The Idempotency-Key was used before for a different request (pagemill extension)",
    410: "The result existed but its retention ran out; the detail says when (pagemill extension)",
    413: "The body, upload or download is over its size cap, or the team's storage quota "
    "would be exceeded",
    415: "The document's format needs a converter this server does not have (LibreOffice), "
    "or its file type is not one this server converts",
    429: "Over the per-key request rate, or the team's pages in flight; retry after "
    "Retry-After seconds",
    503: "The ledger is unreachable; retry after Retry-After seconds",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for error statuses whose body is ``{"detail": "…"}``.

    422 is not among them: FastAPI declares it (``HTTPValidationError``) on every operation
    that has a parameter or a body, and the domain's 422s use the same shape.
    """
    return {
        status: {"model": ErrorResponse, "description": _DESCRIPTIONS[status]}
        for status in statuses
    }


def status_for(error: PagemillError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[kind]
    return 500


def validation_body(message: str, loc: tuple[str | int, ...] = ("body",)) -> dict[str, object]:
    return {"detail": [{"loc": list(loc), "msg": message, "type": "value_error"}]}


def error_response(
    body: dict[str, Any], status_code: int, headers: Mapping[str, str] | None = None
) -> Response:
    """An error body as JSON, whatever client input it echoes.

    A validation error's ``input`` (and a message quoting the request) may hold what UTF-8
    JSON cannot carry — a lone surrogate from a ``"\\ud800"`` escape, a NaN — which must not
    turn a 4xx into a 500: the echoed inputs are then left out and the rest is ASCII-escaped.
    """
    try:
        return JSONResponse(body, status_code=status_code, headers=headers)
    except (UnicodeEncodeError, ValueError):
        content = json.dumps(_without_inputs(body), ensure_ascii=True, separators=(",", ":"))
        return Response(content, status_code, headers, media_type="application/json")


def _without_inputs(body: dict[str, Any]) -> dict[str, Any]:
    detail = body.get("detail")
    if not isinstance(detail, list):
        return body
    return {
        **body,
        "detail": [
            {k: v for k, v in item.items() if k not in ("input", "ctx")}
            if isinstance(item, dict)
            else item
            for item in detail
        ],
    }


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PagemillError)
    status = status_for(exc)
    headers = {"WWW-Authenticate": "APIKey"} if status == 401 else None
    if status == 503:
        headers = {"Retry-After": "5"}
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(exc.retry_after)}
    if status == 422:
        return error_response(validation_body(exc.detail), 422)
    return error_response({"detail": exc.detail}, status, headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    # FastAPI's own handler, except that the body is always encodable (see error_response).
    assert isinstance(exc, RequestValidationError)
    return error_response({"detail": jsonable_encoder(exc.errors())}, 422)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return error_response({"detail": exc.detail}, exc.status_code, exc.headers)


async def _client_gone(request: Request, exc: Exception) -> Response:
    # The client hung up mid-body (an aborted upload): nothing to answer and nothing wrong
    # here, so one line at info level instead of a traceback per request.
    log.info("client disconnected during %s %s", request.method, request.url.path)
    return Response(status_code=400)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "Internal server error."}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PagemillError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(Exception, _unexpected)
    _declare_unparsable_bodies(app)


_UNPARSABLE = "The body could not be parsed (JSON that is not UTF-8, a broken form)"
# Answered by ``request_limits`` to any request with a body, before or while it is read.
_BODY_ERRORS = {
    "400": _UNPARSABLE,
    "408": "The body arrived too slowly (the connection is closed)",
    "413": "The body is larger than its limit (PAGEMILL_MAX_JSON_BODY_BYTES, or the upload "
    "limit for documents)",
}


def _declare_unparsable_bodies(app: FastAPI) -> None:
    """Declare 400, 408 and 413 on every operation that reads a body.

    FastAPI answers 400 ``There was an error parsing the body`` (and Starlette 400 for a broken
    multipart form) before any handler runs, and the body limits answer 408 and 413, so every
    route with a body can answer them, whoever wrote the route; the OpenAPI document says so
    here, once.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            models = schema.setdefault("components", {}).setdefault("schemas", {})
            models.setdefault("ErrorResponse", ErrorResponse.model_json_schema())
            body = {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    if isinstance(operation, dict) and "requestBody" in operation:
                        responses = operation.setdefault("responses", {})
                        for status, description in _BODY_ERRORS.items():
                            responses.setdefault(
                                status,
                                {"description": description, "content": {"application/json": body}},
                            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
