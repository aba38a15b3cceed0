"""The one table from domain errors to HTTP statuses, and the handlers that apply it.

Bodies are ``{"detail": "…"}``; input the domain refuses is a 422 in FastAPI's
``HTTPValidationError`` shape so that clients see one format for every validation failure.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pagemill.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PagemillError,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthenticated,
    UpstreamUnavailable,
)

log = logging.getLogger("pagemill.api")

STATUS_BY_ERROR: dict[type[PagemillError], int] = {
    Unauthenticated: 401,
    NotFound: 404,
    InvalidInput: 422,
    Conflict: 400,
    PayloadTooLarge: 413,
    UpstreamUnavailable: 400,
    ServiceUnavailable: 503,
}


def status_for(error: PagemillError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[kind]
    return 500


def validation_body(message: str, loc: tuple[str | int, ...] = ("body",)) -> dict[str, object]:
    return {"detail": [{"loc": list(loc), "msg": message, "type": "value_error"}]}


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PagemillError)
    status = status_for(exc)
    headers = {"WWW-Authenticate": "APIKey"} if status == 401 else None
    if status == 503:
        headers = {"Retry-After": "5"}
    if status == 422:
        return JSONResponse(validation_body(exc.detail), status_code=422)
    return JSONResponse({"detail": exc.detail}, status_code=status, headers=headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "Internal server error."}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PagemillError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
