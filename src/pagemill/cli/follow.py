"""Following an execution on a server: its event stream when the server has one, polling
otherwise; either way, events in the stream's format and the state after each."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from pagemill.cli.client import ApiClient, ApiError
from pagemill.cli.events import Event, apply, changes, progress_from_wire
from pagemill.library import RunProgress

POLL_SECONDS = 0.5
RECONNECTS = 5  # a stream that breaks is resumed from the last id this often, then polled
NO_STREAM = frozenset({404, 405, 501})  # a server without the event stream


async def follow(
    api: ApiClient, execution_id: str, *, poll_seconds: float = POLL_SECONDS
) -> AsyncIterator[tuple[Event, RunProgress]]:
    """Every event of the execution from its start, with the state after it, until it ends."""
    first = progress_from_wire(await api.get_execution(execution_id))
    last: RunProgress | None = None
    async for event, state in _stream(api, first):
        last = state
        yield event, state
        if event.terminal:
            return
    # No stream, or it broke for good: poll, from what the stream already showed.
    while True:
        state = progress_from_wire(await api.get_execution(execution_id))
        for event in changes(last, state):
            yield event, state
        last = state
        if state.finished:
            return
        await asyncio.sleep(poll_seconds)


async def _stream(api: ApiClient, state: RunProgress) -> AsyncIterator[tuple[Event, RunProgress]]:
    """The events of the server's stream, resumed after a break from the last id seen; ends
    at the terminal event, or without one when the server has no stream."""
    last_id: str | None = None
    failures = 0
    while failures <= RECONNECTS:
        try:
            async with api.events(state.execution_id, last_id) as events:
                async for sse in events:
                    failures = 0
                    try:
                        data = json.loads(sse.data)
                    except ValueError:
                        continue
                    event = Event(sse.event, data if isinstance(data, dict) else {}, sse.id)
                    last_id = sse.id or last_id
                    state = apply(state, event)
                    yield event, state
                    if event.terminal:
                        return
        except ApiError as error:
            if error.status in NO_STREAM and last_id is None:
                return  # this server has no event stream: poll
            if 400 <= error.status < 500:
                raise
        failures += 1
        await asyncio.sleep(min(2.0, 0.2 * failures))
