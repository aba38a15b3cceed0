"""Server-Sent Events read from a stream of lines, as the HTML standard parses them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SseEvent:
    event: str
    data: str
    id: str | None = None  # the last id the stream set, as the standard keeps it


async def read_events(lines: AsyncIterator[str]) -> AsyncIterator[SseEvent]:
    """Each event of the stream: fields up to a blank line; comments (``:``) and ``retry``
    are skipped; an event without data is not dispatched."""
    event, last_id = "", None
    data: list[str] = []
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield SseEvent(event or "message", "\n".join(data), last_id)
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id" and "\x00" not in value:
            last_id = value
