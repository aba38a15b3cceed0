"""An execution's event stream: ``step.dispatched`` … ``execution.completed``, resumable.

The events come from the live store's log of the execution (see ``domain.events``): each log
entry ``<n>-0`` gives zero or more events, numbered ``<n>-<k>`` in their order, so any replica
reading the same log gives the same ids, and ``Last-Event-ID`` resumes right after the event it
names. When the log has no terminal event although the ledger says the execution ended (the
log expired, or a write to the live store was lost), the rest is derived from the ledger's final
state: after the last log entry read, numbered on from it; with no log at all, as ``0-<k>``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pagemill.domain.errors import InvalidInput, NotFound
from pagemill.domain.events import (
    ExecutionEvent,
    StepState,
    progress_event,
    step_states,
    terminal_event,
    transition_events,
)
from pagemill.domain.statuses import TERMINAL_EXECUTION, ExecutionStatus
from pagemill.ports.ledger.executions import ExecutionLedger
from pagemill.ports.live import LiveEvent, LiveStore

log = logging.getLogger("pagemill.events")

_EVENT_ID = re.compile(r"(\d{1,18})-(\d{1,9})")
PAGE = 100  # log entries read at once


@dataclass(frozen=True, slots=True)
class StreamEvent:
    id: str
    type: str
    data: dict[str, object]

    @property
    def terminal(self) -> bool:
        return self.type.startswith("execution.")


KEEP_ALIVE = None  # yielded after ``keep_alive_seconds`` without an event


@dataclass(frozen=True, slots=True)
class EventStreamConfig:
    poll_seconds: float = 0.25  # how often an idle stream reads the live store's log
    ledger_check_seconds: float = 2.0  # how often an idle stream asks the ledger for the end
    keep_alive_seconds: float = 15.0
    # A terminal ledger head whose terminal log entry is not there yet: how long to wait for
    # it (the writer puts it right after the commit) before deriving the end from the ledger.
    settle_seconds: float = 1.0


@dataclass(frozen=True, slots=True)
class _Cursor:
    entry: int  # the log entry ``<entry>-0`` (0: the ledger-derived history)
    index: int  # the last event of that entry already sent


def parse_event_id(value: str | None) -> _Cursor | None:
    if value is None or not value.strip():
        return None
    match = _EVENT_ID.fullmatch(value.strip())
    if match is None:
        raise InvalidInput(f"Last-Event-ID {value[:40]!r} is not an event id of this stream.")
    return _Cursor(int(match.group(1)), int(match.group(2)))


class ExecutionEvents:
    def __init__(
        self, executions: ExecutionLedger, live: LiveStore, config: EventStreamConfig
    ) -> None:
        self._executions = executions
        self._live = live
        self.config = config

    async def open(
        self, team_id: str, execution_id: str, last_event_id: str | None
    ) -> AsyncIterator[StreamEvent | None]:
        """Check the caller may see the execution (``NotFound`` otherwise) and the id, then
        return its events after ``last_event_id``, ending with the terminal one; ``None``
        items are keep-alives."""
        cursor = parse_event_id(last_event_id)
        if await self._executions.head(execution_id, team_id) is None:
            raise NotFound(f"Execution {execution_id} not found")
        return _Stream(self, team_id, execution_id, cursor).run()


class _Stream:
    def __init__(
        self, owner: ExecutionEvents, team_id: str, execution_id: str, cursor: _Cursor | None
    ) -> None:
        self._executions = owner._executions
        self._live = owner._live
        self._config = owner.config
        self._team_id = team_id
        self._id = execution_id
        self._cursor = cursor
        self._states: tuple[StepState, ...] | None = None  # after the last entry read
        self._last_entry = 0  # the number of the last log entry read (0: none)
        self._last_count = 0  # how many events it gave
        self._live_down = False

    async def run(self) -> AsyncIterator[StreamEvent | None]:
        loop = asyncio.get_running_loop()
        cursor = self._cursor
        if cursor is not None and cursor.entry == 0:
            # The client read the ledger-derived history: continue it.
            async for event in self._from_ledger():
                yield event
            return
        after = f"{cursor.entry}-0" if cursor is not None else None
        inclusive = after is not None
        if cursor is not None:  # the states the first stream had when it read that entry
            self._states = await self._states_before(cursor.entry)
        quiet_since = loop.time()
        next_check = 0.0
        ended_at: float | None = None  # when the ledger was first seen ended
        while True:
            entries = await self._read(after, inclusive)
            if inclusive and (not entries or entries[0].id != after):
                # The entry the client saw last is gone: the log expired or restarted.
                lost = await self._lost_position()
                if lost is not None:
                    yield lost
                    return
                after, entries = None, await self._read(None, False)
            inclusive = False
            for entry in entries:
                for event in self._entry_events(entry):
                    yield event
                    quiet_since = loop.time()
                    if event.terminal:
                        return
                after = entry.id
            if len(entries) == PAGE:
                continue
            now = loop.time()
            if now >= next_check:
                next_check = now + self._config.ledger_check_seconds
                head = await self._executions.head(self._id, self._team_id)
                if head is None:
                    return  # deleted meanwhile
                if head.status in TERMINAL_EXECUTION:
                    ended_at = ended_at or now
                    next_check = now  # look again at every poll until the log has the end
            if ended_at is not None and (
                now - ended_at >= self._config.settle_seconds or self._last_entry == 0
            ):
                async for event in self._from_ledger():
                    yield event
                return
            if now - quiet_since >= self._config.keep_alive_seconds:
                quiet_since = now
                yield KEEP_ALIVE
            await asyncio.sleep(self._config.poll_seconds)

    async def _states_before(self, number: int) -> tuple[StepState, ...] | None:
        """The steps' states of the last snapshot entry before entry ``number``."""
        states, after = None, None
        while True:
            entries = await self._read(after, False)
            for entry in entries:
                if _number(entry) >= number:
                    return states
                if entry.type == "snapshot" and entry.steps is not None:
                    states = entry.steps
            if len(entries) < PAGE:
                return states
            after = entries[-1].id

    async def _read(self, after: str | None, inclusive: bool) -> list[LiveEvent]:
        try:
            entries = await self._live.events(self._id, after, PAGE, inclusive=inclusive)
        except InvalidInput:
            raise
        except Exception:  # an unreachable live store: the ledger still ends the stream
            if not self._live_down:  # once per outage, not at every poll
                log.warning("live store read failed", exc_info=True)
            self._live_down = True
            return []
        self._live_down = False
        return entries

    def _entry_events(self, entry: LiveEvent) -> list[StreamEvent]:
        """The events of one log entry not sent yet; remembers the states after it."""
        number = _number(entry)
        if entry.type == "snapshot":
            # A snapshot stored over none (its entry was lost) follows what this stream knew.
            previous = entry.previous if entry.previous is not None else self._states
            current = entry.steps
            if current is None:  # an entry without states: nothing to tell but the end
                current = self._states or ()
            derived = transition_events(
                self._id, previous, current, entry.status or ExecutionStatus.RUNNING
            )
            self._states = current
        else:
            step = None
            index = entry.step_index if entry.step_index is not None else -1
            if self._states is not None and 0 <= index < len(self._states):
                step = self._states[index]
            found = progress_event(self._id, index, step, entry.progress or {})
            derived = [found] if found is not None else []
        self._last_entry, self._last_count = number, len(derived)
        return self._numbered(number, 0, derived)

    def _numbered(self, number: int, first: int, events: list[ExecutionEvent]) -> list[StreamEvent]:
        cursor = self._cursor
        return [
            StreamEvent(f"{number}-{first + k}", e.type, e.data)
            for k, e in enumerate(events)
            if cursor is None or (number, first + k) > (cursor.entry, cursor.index)
        ]

    async def _from_ledger(self) -> AsyncIterator[StreamEvent]:
        """The rest of an ended execution, derived from the ledger's final state: after the
        last log entry read, or the whole history (``0-<k>``) when none was."""
        execution = await self._executions.get(self._id, self._team_id)
        if execution is None:
            return
        final = step_states(await self._executions.steps(self._id))
        derived = transition_events(self._id, self._states, final, execution.status)
        first = self._last_count if self._last_entry else 0
        for event in self._numbered(self._last_entry, first, derived):
            yield event

    async def _lost_position(self) -> StreamEvent | None:
        """The client's last event is no longer in the log. If the execution ended, its
        terminal event (with every step's final status) closes the stream, numbered right
        after the client's id; while it runs (the live store lost its log), None: the stream
        goes on from what the log has now, without skipping."""
        cursor = self._cursor
        assert cursor is not None
        execution = await self._executions.get(self._id, self._team_id)
        if execution is None or execution.status not in TERMINAL_EXECUTION:
            self._cursor = None
            return None
        final = step_states(await self._executions.steps(self._id))
        event = terminal_event(self._id, final, execution.status)
        return StreamEvent(f"{cursor.entry}-{cursor.index + 1}", event.type, event.data)


def _number(entry: LiveEvent) -> int:
    return int(entry.id.split("-", 1)[0])
