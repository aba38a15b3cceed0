"""An execution's event stream as Server-Sent Events (a pagemill extension).

Registered before the pipelines router, like the other execution routes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import StreamingResponse

from pagemill.api import wire
from pagemill.api.deps import CallerDep
from pagemill.api.errors import error_responses
from pagemill.domain.events import STEP_EVENTS, TERMINAL_EVENT
from pagemill.services.execution_events import StreamEvent

router = APIRouter(
    prefix="/api/v1/pipelines", tags=["pipelines"], responses=error_responses(401, 404, 503)
)

RETRY_MILLISECONDS = 1000  # how soon a browser's EventSource reconnects after a break
KEEP_ALIVE = b": keep-alive\n\n"
TERMINAL_EVENTS = sorted(set(TERMINAL_EVENT.values()))

_STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-Sent Events: `id:` (resumable), `event:` (the type) and "
        "`data:` (one JSON object) per event; `: keep-alive` comments while idle.",
        # The schema of one event, as OpenAPI tools read an event stream's schema.
        "content": {
            "text/event-stream": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string", "pattern": r"^\d+-\d+$"},
                        "event": {"type": "string", "enum": [*STEP_EVENTS, *TERMINAL_EVENTS]},
                        "data": {"type": "string", "contentMediaType": "application/json"},
                    },
                    "required": ["id", "event", "data"],
                }
            }
        },
    }
}


@router.get(
    "/executions/{execution_id}/events",
    summary="Stream Pipeline Execution Events (pagemill extension)",
    response_class=StreamingResponse,
    responses=_STREAM_RESPONSE,
)
async def execution_events(
    execution_id: Annotated[str, Path(max_length=80, description="The execution id (pex_…)")],
    caller: CallerDep,
    last_event_id: Annotated[
        str | None,
        Header(alias="Last-Event-ID", max_length=64, description="Resume after this event"),
    ] = None,
    after: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Resume after this event id when the client cannot send Last-Event-ID "
            "(the header wins)",
        ),
    ] = None,
) -> StreamingResponse:
    """`step.dispatched`, `step.started`, `step.progress`, `step.completed`, `step.failed`,
    `step.retrying`, then `execution.completed`, `execution.failed` or `execution.cancelled`,
    after which the stream ends. A finished execution replays its history and ends."""
    stream = await caller.services.events.open(
        caller.team_id, execution_id, last_event_id if last_event_id is not None else after
    )
    return StreamingResponse(
        _encode(stream),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _encode(stream: AsyncIterator[StreamEvent | None]) -> AsyncIterator[bytes]:
    yield f"retry: {RETRY_MILLISECONDS}\n\n".encode()
    async for event in stream:
        if event is None:
            yield KEEP_ALIVE
            continue
        yield encode_event(event)


def encode_event(event: StreamEvent) -> bytes:
    data = event.data
    index = data.get("step_index")
    if event.type == "step.completed" and isinstance(index, int):
        data = {**data, "result_url": wire.result_url(str(data["execution_id"]), index)}
    # orjson never writes a raw newline, so the whole object is one ``data:`` line.
    return b"id: %s\nevent: %s\ndata: %s\n\n" % (
        event.id.encode(),
        event.type.encode(),
        orjson.dumps(data),
    )
