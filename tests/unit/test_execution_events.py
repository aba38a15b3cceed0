"""The event stream's reading of the live log: progress, resuming inside an entry, an end the
log never got, and a position the log no longer has (no app: the in-process live store and a
ledger of one execution)."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

import pytest

from pagemill.adapters.memory import MemoryLiveStore
from pagemill.domain.errors import NotFound
from pagemill.domain.models import Execution, ExecutionHead, ExecutionSnapshot, StepRun
from pagemill.domain.statuses import ExecutionStatus, StepStatus
from pagemill.ports.ledger.executions import ExecutionLedger
from pagemill.services.execution_events import EventStreamConfig, ExecutionEvents, StreamEvent
from tests.contract.test_live_store import snapshot

FAST = EventStreamConfig(poll_seconds=0.01, ledger_check_seconds=0.01, settle_seconds=0.05)


class OneExecution:
    """The three reads the stream makes of the ledger, over a snapshot the test sets."""

    def __init__(self, current: ExecutionSnapshot) -> None:
        self.current = current

    async def head(self, execution_id: str, team_id: str) -> ExecutionHead | None:
        e = self.current.execution
        return ExecutionHead(e.status, e.seq) if team_id == e.team_id else None

    async def get(self, execution_id: str, team_id: str | None = None) -> Execution | None:
        return self.current.execution

    async def steps(self, execution_id: str) -> list[StepRun]:
        return self.current.steps


def at(seq: int, status: StepStatus, execution: ExecutionStatus) -> ExecutionSnapshot:
    base = snapshot(seq, status)
    step = dataclasses.replace(base.steps[0], status=status)
    return dataclasses.replace(
        base, execution=dataclasses.replace(base.execution, status=execution), steps=[step]
    )


RUNNING = at(2, StepStatus.RUNNING, ExecutionStatus.RUNNING)
DONE = at(3, StepStatus.COMPLETED, ExecutionStatus.COMPLETED)


async def collect(
    live: MemoryLiveStore, ledger: OneExecution, after: str | None = None
) -> list[tuple[str, str, dict[str, Any]]]:
    events = ExecutionEvents(cast(ExecutionLedger, ledger), live, FAST)
    stream = await events.open("team_1", "pex_a", after)
    found = []
    async for item in stream:
        if isinstance(item, StreamEvent):
            found.append((item.id, item.type, item.data))
    return found


async def test_progress_with_pages_is_an_event_and_a_bare_heartbeat_is_not() -> None:
    live = MemoryLiveStore()
    await live.put(RUNNING)
    await live.progress("pex_a", 0, {"heartbeat_at": "now"})
    await live.progress("pex_a", 0, {"pages_done": 2, "pages_total": 5, "stage": "text"})
    await live.put(DONE)
    found = await collect(live, OneExecution(DONE))
    assert [(i, t) for i, t, _ in found] == [
        ("1-0", "step.dispatched"),
        ("1-1", "step.started"),
        ("3-0", "step.progress"),
        ("4-0", "step.completed"),
        ("4-1", "execution.completed"),
    ]
    progress = found[2][2]
    assert (progress["pages_done"], progress["pages_total"], progress["stage"]) == (2, 5, "text")
    assert (progress["step_type"], progress["attempt"]) == ("convert", 1)
    # Resumed inside an entry, and after the progress event: the same ids, nothing twice.
    assert await collect(live, OneExecution(DONE), "1-0") == found[1:]
    assert await collect(live, OneExecution(DONE), "3-0") == found[3:]


async def test_an_end_the_log_never_got_comes_from_the_ledger_numbered_on() -> None:
    live = MemoryLiveStore()
    await live.put(RUNNING)  # the final snapshot's write to the live store was lost
    found = await collect(live, OneExecution(DONE))
    assert [(i, t) for i, t, _ in found] == [
        ("1-0", "step.dispatched"),
        ("1-1", "step.started"),
        ("1-2", "step.completed"),
        ("1-3", "execution.completed"),
    ]
    assert await collect(live, OneExecution(DONE), "1-2") == found[3:]


async def test_a_position_the_log_lost_gets_the_end_only() -> None:
    live = MemoryLiveStore()  # empty: the log expired after the client's last event
    found = await collect(live, OneExecution(DONE), "7-1")
    assert [(i, t) for i, t, _ in found] == [("7-2", "execution.completed")]
    assert found[0][2]["steps"][0]["status"] == "completed"


async def test_another_team_is_not_found() -> None:
    events = ExecutionEvents(cast(ExecutionLedger, OneExecution(DONE)), MemoryLiveStore(), FAST)
    with pytest.raises(NotFound):
        await events.open("team_2", "pex_a", None)
