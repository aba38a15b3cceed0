"""The ``Idempotency-Key`` header of submit endpoints (a pagemill extension).

Every endpoint that creates an execution reads it with ``idempotent_request`` and passes the
answer in ``RunOptions.idempotency``; the execution service does the rest. Reading it before
the body refuses a malformed key before a possibly large upload.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Header, Request, Response

from pagemill.domain.idempotency import IdempotentRequest, check_idempotency_key
from pagemill.services.executions import ExecutionView

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

# Declared on the submit endpoints for their OpenAPI description; read by idempotent_request.
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        max_length=255,
        description="pagemill extension: the same key and the same request give the same "
        "execution (answered with Idempotent-Replayed: true); the same key with a different "
        "request is 409. Keys expire after PAGEMILL_IDEMPOTENCY_KEY_TTL_SECONDS.",
    ),
]


def idempotent_request(
    request: Request, scope: str, fields: Mapping[str, Any] | None = None
) -> IdempotentRequest | None:
    """The request's key with what identifies the request (``scope``: the endpoint, e.g.
    ``pipelines/{id}/run``; ``fields``: its fields beyond the run options and the document);
    None without the header, ``InvalidInput`` (422) for a malformed key."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    return IdempotentRequest(check_idempotency_key(key), scope, fields)


def mark_replayed(response: Response, view: ExecutionView) -> Response:
    """Say so when the answer is an earlier request's execution (``Idempotent-Replayed``)."""
    if view.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return response
