"""Reading an execution's event stream (Server-Sent Events) in tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

EVENTS = "/api/v1/pipelines/executions/{}/events"


@dataclass(frozen=True)
class Sse:
    id: str | None
    type: str
    data: dict[str, Any]


def parse(text: str) -> tuple[list[Sse], list[str]]:
    """The events of a whole stream body, and its comment lines."""
    events: list[Sse] = []
    comments: list[str] = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith(":"):
                comments.append(line)
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
        if "data" in fields:
            events.append(Sse(fields.get("id"), fields["event"], json.loads(fields["data"])))
    return events, comments


async def read_stream(
    client: httpx.AsyncClient,
    execution_id: str,
    headers: dict[str, str],
    last_event_id: str | None = None,
) -> tuple[list[Sse], list[str]]:
    """The whole stream (it ends after the terminal event)."""
    sent = dict(headers)
    if last_event_id is not None:
        sent["Last-Event-ID"] = last_event_id
    response = await client.get(EVENTS.format(execution_id), headers=sent, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return parse(response.text)


async def stream_blocks(
    client: httpx.AsyncClient, execution_id: str, headers: dict[str, str]
) -> AsyncIterator[str]:
    """Each block (event or comment) of a live stream, as it arrives."""
    async with client.stream("GET", EVENTS.format(execution_id), headers=headers) as response:
        assert response.status_code == 200
        buffer = ""
        async for chunk in response.aiter_text():
            buffer += chunk
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                yield block


def summary(events: list[Sse]) -> list[tuple[str, int | None]]:
    return [(e.type, e.data.get("step_index")) for e in events]


def id_key(event_id: str | None) -> tuple[int, int]:
    assert event_id is not None
    entry, _, index = event_id.partition("-")
    return int(entry), int(index)
