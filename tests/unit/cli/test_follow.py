"""Following an execution on a server: its event stream (resumed after a break from the last
id, with no gap and no duplicate), or polling when the server has no stream."""

from __future__ import annotations

import json
from typing import Any

import httpx

from pagemill.cli.client import ApiClient
from pagemill.cli.follow import follow

EXECUTION = "pex_1"


def execution(status: str, *steps: tuple[str, str, int]) -> dict[str, Any]:
    return {
        "execution_id": EXECUTION,
        "status": status,
        "steps": [
            {"step_index": i, "step_type": kind, "status": s, "attempt": attempt}
            for i, (kind, s, attempt) in enumerate(steps)
        ],
    }


def sse(event_id: str, event: str, **data: Any) -> str:
    body = {"execution_id": EXECUTION, **data}
    return f"id: {event_id}\nevent: {event}\ndata: {json.dumps(body)}\n\n"


HISTORY = [
    sse("0.1.1", "step.dispatched", step_index=0, step_type="convert", attempt=1),
    sse("0.1.2", "step.started", step_index=0, step_type="convert", attempt=1),
    ": keep-alive\n\n",
    sse("0.1.3.5-0", "step.progress", step_index=0, attempt=1, pages_done=1, pages_total=2),
    sse("0.1.4", "step.completed", step_index=0, attempt=1, cache={"status": "miss"}),
    sse("1.0.0", "execution.completed", status="completed", steps=[
        {"step_index": 0, "step_type": "convert", "status": "completed", "attempt": 1}
    ]),
]  # fmt: skip


async def test_the_stream_is_followed_and_resumed_after_a_break() -> None:
    resumed_from: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/events"):
            after = request.headers.get("last-event-id")
            resumed_from.append(after)
            # The first connection breaks after two events; the server resumes after the id.
            if after is None:
                return httpx.Response(200, text="retry: 1000\n\n" + "".join(HISTORY[:2]))
            start = next(i for i, chunk in enumerate(HISTORY) if f"id: {after}\n" in chunk) + 1
            return httpx.Response(200, text="".join(HISTORY[start:]))
        return httpx.Response(200, json=execution("pending", ("convert", "dispatched", 1)))

    async with ApiClient(
        "http://pagemill.test", "pm_key", transport=httpx.MockTransport(handler)
    ) as api:
        seen = [
            (event.type, event.id, state.status) async for event, state in follow(api, EXECUTION)
        ]

    assert resumed_from == [None, "0.1.2"]
    assert seen == [
        ("step.dispatched", "0.1.1", "pending"),
        ("step.started", "0.1.2", "running"),
        ("step.progress", "0.1.3.5-0", "running"),
        ("step.completed", "0.1.4", "running"),
        ("execution.completed", "1.0.0", "completed"),
    ]


async def test_a_server_without_the_stream_is_polled() -> None:
    polls = [
        execution("pending", ("convert", "dispatched", 1)),
        execution("pending", ("convert", "dispatched", 1)),
        {**execution("running", ("convert", "running", 1)), "steps": [
            {"step_index": 0, "step_type": "convert", "status": "running", "attempt": 1,
             "progress": {"pages_done": 3, "pages_total": 4}}
        ]},
        execution("failed", ("convert", "failed", 1)),
    ]  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/events"):
            return httpx.Response(404, json={"detail": "Not Found"})
        return httpx.Response(200, json=polls.pop(0) if len(polls) > 1 else polls[0])

    async with ApiClient(
        "http://pagemill.test", None, transport=httpx.MockTransport(handler)
    ) as api:
        seen = [
            (event.type, event.id, event.data.get("pages_done"))
            async for event, _ in follow(api, EXECUTION, poll_seconds=0)
        ]

    assert seen == [
        ("step.dispatched", None, None),
        ("step.started", None, None),
        ("step.progress", None, 3),
        ("step.failed", None, None),
        ("execution.failed", None, None),
    ]
