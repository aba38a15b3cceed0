"""The live-store contract, run against every adapter."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pagemill.adapters.memory import MemoryLiveStore
from pagemill.domain.errors import InvalidInput
from pagemill.domain.events import step_states
from pagemill.domain.models import Execution, ExecutionSnapshot, StepRun
from pagemill.domain.statuses import ExecutionStatus, StepStatus
from pagemill.ports.live import LiveStore
from tests.support.clock import FakeClock
from tests.support.redis import redis_live_store

NOW = datetime(2026, 1, 1, tzinfo=UTC)


CLOCK = pytest.StashKey[FakeClock]()


@pytest.fixture(params=["memory", "redis"])
async def live(request: pytest.FixtureRequest) -> AsyncIterator[LiveStore]:
    if request.param == "redis":
        # A roomy deadline (production: 0.5 s) so a busy CI machine cannot fail a burst test.
        async with redis_live_store(timeout_seconds=2.0) as redis_store:
            yield redis_store
        return
    clock = request.node.stash[CLOCK] = FakeClock()
    store = MemoryLiveStore(clock=clock)
    yield store
    await store.close()


@pytest.fixture
def elapse(request: pytest.FixtureRequest, live: LiveStore) -> Callable[[float], Awaitable[None]]:
    """Let ``seconds`` pass for the store: the in-process one's clock is moved; Redis
    expires keys by its own clock, so there the test waits."""
    clock = request.node.stash.get(CLOCK, None)

    async def wait(seconds: float) -> None:
        if clock is None:
            await asyncio.sleep(seconds)
        else:
            clock.advance(seconds)

    return wait


def snapshot(
    seq: int, step_status: StepStatus = StepStatus.RUNNING, execution_id: str = "pex_a"
) -> ExecutionSnapshot:
    execution = Execution(
        pk=1,
        execution_id=execution_id,
        team_id="team_1",
        pipeline_id="pl_1",
        pipeline_version=0,
        status=ExecutionStatus.RUNNING,
        seq=seq,
        created=NOW,
        input_key="inputs/x",
        config_snapshot={},
        input_config={},
    )
    step = StepRun(
        execution_id=execution_id,
        step_index=0,
        step_type="convert",
        status=step_status,
        attempt=1,
        max_attempts=3,
        settings={},
        lookup_key="req_1",
        started_at=NOW,
    )
    return ExecutionSnapshot(execution=execution, steps=[step])


def full_snapshot(seq: int = 9) -> ExecutionSnapshot:
    """Every field set: microseconds, nested JSON, each kind of enum, optional fields."""
    at = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    execution = Execution(
        pk=42,
        execution_id="pex_full",
        team_id="team_1",
        pipeline_id="pl_1",
        pipeline_version=3,
        status=ExecutionStatus.RUNNING,
        seq=seq,
        created=at,
        input_key="inputs/é.pdf",
        config_snapshot={"steps": [{"type": "convert", "settings": {"paginate": True}}]},
        input_config={"filename": "rapport é.pdf", "page_range": "0-3", "skip_cache": False},
        started_at=at + timedelta(seconds=1),
        completed_at=None,
        rate_breakdown={"page_count": 4, "total_cost_cents": 2.5, "lines": []},
        error_message='ünïcode and "quotes"\n',
        page_count=4,
    )
    steps = [
        StepRun(
            execution_id="pex_full",
            step_index=0,
            step_type="convert",
            status=StepStatus.COMPLETED,
            attempt=2,
            max_attempts=3,
            settings={"page_range": "0-3", "nested": {"a": [1, 2.5, None, "x"]}},
            lookup_key="req_0",
            available_at=at,
            lease_owner=None,
            lease_expires_at=None,
            heartbeat_at=at + timedelta(microseconds=1),
            started_at=at,
            finished_at=at + timedelta(seconds=2),
            result_key="results/pex_full/0/2",
            checkpoint_id="ckpt_1",
            error_message=None,
            cache={"status": "miss", "key": "k" * 64},
        ),
        StepRun(
            execution_id="pex_full",
            step_index=1,
            step_type="extract",
            status=StepStatus.RUNNING,
            attempt=1,
            max_attempts=3,
            settings={},
            lookup_key="req_1",
            lease_owner="worker-1",
            lease_expires_at=at + timedelta(seconds=30),
            heartbeat_at=at + timedelta(seconds=3),
            started_at=at + timedelta(seconds=2),
        ),
        StepRun(
            execution_id="pex_full",
            step_index=2,
            step_type="segment",
            status=StepStatus.PENDING,
            attempt=0,
            max_attempts=3,
            settings={},
            lookup_key="req_2",
        ),
    ]
    return ExecutionSnapshot(execution=execution, steps=steps)


async def test_missing_is_none(live: LiveStore) -> None:
    assert await live.get("pex_none") is None


async def test_a_snapshot_reads_back_equal_to_what_was_put(live: LiveStore) -> None:
    stored = full_snapshot()
    await live.put(stored)
    got = await live.get("pex_full")
    assert got == stored
    assert got is not None
    assert got.execution.created.tzinfo is not None
    assert got.execution.created.utcoffset() == timedelta(0)
    assert type(got.execution.status) is ExecutionStatus
    assert [type(s.status) for s in got.steps] == [StepStatus] * 3


async def test_datetimes_in_other_zones_keep_their_instant(live: LiveStore) -> None:
    paris = timezone(timedelta(hours=1))
    stored = snapshot(1)
    execution = dataclasses.replace(stored.execution, created=NOW.astimezone(paris))
    await live.put(dataclasses.replace(stored, execution=execution))
    got = await live.get("pex_a")
    assert got is not None
    assert got.execution.created == NOW


async def test_newer_snapshots_replace_older_ones(live: LiveStore) -> None:
    await live.put(snapshot(2))
    await live.put(snapshot(3, StepStatus.COMPLETED))
    got = await live.get("pex_a")
    assert got is not None
    assert got.execution.seq == 3
    assert got.steps[0].status is StepStatus.COMPLETED


async def test_an_older_snapshot_never_overwrites_a_newer_one(live: LiveStore) -> None:
    await live.put(snapshot(5, StepStatus.COMPLETED))
    await live.put(snapshot(4, StepStatus.RUNNING))
    got = await live.get("pex_a")
    assert got is not None
    assert got.execution.seq == 5
    assert got.steps[0].status is StepStatus.COMPLETED


async def test_an_equal_seq_rewrites_the_entry(live: LiveStore) -> None:
    await live.put(snapshot(5, StepStatus.RUNNING))
    await live.put(snapshot(5, StepStatus.COMPLETED))
    got = await live.get("pex_a")
    assert got is not None
    assert (got.execution.seq, got.steps[0].status) == (5, StepStatus.COMPLETED)


async def test_concurrent_writers_never_regress_the_seq(live: LiveStore) -> None:
    """Many puts in flight at once, in random order: the stored entry is the highest seq."""
    seqs = list(range(1, 201))
    random.Random(7).shuffle(seqs)
    top = max(seqs)

    def versioned(seq: int) -> ExecutionSnapshot:
        status = StepStatus.COMPLETED if seq == top else StepStatus.RUNNING
        return snapshot(seq, status)

    await asyncio.gather(*(live.put(versioned(seq)) for seq in seqs))
    got = await live.get("pex_a")
    assert got is not None
    assert got.execution.seq == top
    assert got.steps[0].status is StepStatus.COMPLETED
    written = [e.seq for e in await live.events("pex_a", count=1000) if e.type == "snapshot"]
    assert written == sorted(set(written)), "each event has a higher seq than the one before"
    assert written[-1] == top


async def test_progress_attaches_to_a_stored_snapshot_and_survives_updates(live: LiveStore) -> None:
    await live.progress("pex_a", 0, {"pages_done": 1})  # nothing stored yet: ignored
    assert await live.get("pex_a") is None
    assert await live.events("pex_a") == []
    await live.put(snapshot(1))
    await live.progress("pex_a", 0, {"pages_done": 3, "pages_total": 10})
    await live.progress("pex_a", 0, {"pages_done": 4})
    await live.put(snapshot(2))
    got = await live.get("pex_a")
    assert got is not None
    assert got.progress[0] == {"pages_done": 4, "pages_total": 10}


async def test_progress_is_kept_per_step_with_its_json_values_intact(live: LiveStore) -> None:
    await live.put(snapshot(1))
    values = {
        "ratio": 0.12345678901234568,
        "big": 2**53 + 1,
        "empty_list": [],
        "empty_object": {},
        "nested": {"pages": [1, 2, 3], "note": 'é\n"q"'},
        "nothing": None,
        "flag": False,
    }
    await live.progress("pex_a", 0, values)
    await live.progress("pex_a", 1, {"heartbeat_at": NOW.isoformat()})
    got = await live.get("pex_a")
    assert got is not None
    assert got.progress == {0: values, 1: {"heartbeat_at": NOW.isoformat()}}


async def test_events_log_transitions_and_progress_in_order(live: LiveStore) -> None:
    assert await live.events("pex_a") == []
    await live.put(snapshot(1))
    await live.put(snapshot(1))  # an idempotent rewrite: no event
    await live.progress("pex_a", 0, {"pages_done": 2})
    await live.put(snapshot(3, StepStatus.COMPLETED))
    await live.put(snapshot(2))  # refused: no event
    events = await live.events("pex_a")
    assert [(e.type, e.seq) for e in events] == [("snapshot", 1), ("progress", 1), ("snapshot", 3)]
    assert events[0].status is ExecutionStatus.RUNNING and events[0].step_index is None
    assert events[1].step_index == 0 and events[1].progress == {"pages_done": 2}
    assert len({e.id for e in events}) == 3

    assert await live.events("pex_a", after=events[0].id) == events[1:]
    assert await live.events("pex_a", after=events[0].id, count=1) == events[1:2]
    assert await live.events("pex_a", after=events[-1].id) == []
    assert await live.events("pex_a", count=0) == []
    assert await live.events("pex_b") == []


async def test_a_malformed_event_id_is_invalid_input(live: LiveStore) -> None:
    await live.put(snapshot(1))
    with pytest.raises(InvalidInput):
        await live.events("pex_a", after="not-an-id")


async def test_expire_drops_the_entry_after_the_ttl(
    live: LiveStore, elapse: Callable[[float], Awaitable[None]]
) -> None:
    await live.put(snapshot(1))
    await live.put(snapshot(1, execution_id="pex_b"))
    await live.expire("pex_a", 0.05)
    assert await live.get("pex_a") is not None
    await elapse(0.1)
    assert await live.get("pex_a") is None
    assert await live.events("pex_a") == []
    assert await live.get("pex_b") is not None


async def test_writes_after_expire_keep_the_short_deadline(
    live: LiveStore, elapse: Callable[[float], Awaitable[None]]
) -> None:
    await live.put(snapshot(4))
    await live.expire("pex_a", 0.2)
    await live.put(snapshot(4))  # a duplicate publish of the final snapshot
    await live.put(snapshot(5))
    await live.progress("pex_a", 0, {"pages_done": 1})
    assert await live.get("pex_a") is not None
    await elapse(0.3)
    assert await live.get("pex_a") is None


async def test_expire_of_a_missing_entry_does_nothing(
    live: LiveStore, elapse: Callable[[float], Awaitable[None]]
) -> None:
    await live.expire("pex_a", 0.05)
    await live.put(snapshot(1))
    await elapse(0.1)
    assert await live.get("pex_a") is not None


async def test_snapshots_are_kept_per_execution(live: LiveStore) -> None:
    await live.put(snapshot(7, execution_id="pex_a"))
    await live.put(dataclasses.replace(snapshot(1, execution_id="pex_b")))
    a, b = await live.get("pex_a"), await live.get("pex_b")
    assert a is not None and b is not None
    assert (a.execution.seq, b.execution.seq) == (7, 1)


async def test_snapshot_events_carry_the_step_states_and_those_they_replaced(
    live: LiveStore,
) -> None:
    first, second = snapshot(1, StepStatus.RUNNING), snapshot(2, StepStatus.COMPLETED)
    await live.put(first)
    await live.put(second)
    await live.put(snapshot(1))  # refused: no event, the states stay
    events = await live.events("pex_a")
    assert [e.steps for e in events] == [step_states(first.steps), step_states(second.steps)]
    assert [e.previous for e in events] == [None, step_states(first.steps)]
    assert events[1].steps is not None and events[1].steps[0].status is StepStatus.COMPLETED
    assert events[1].steps[0].started_at == NOW


async def test_event_ids_count_each_executions_events_from_one(live: LiveStore) -> None:
    await live.put(snapshot(1, execution_id="pex_b"))
    await live.put(snapshot(1))
    await live.progress("pex_a", 0, {"pages_done": 1})
    await live.put(snapshot(2))
    assert [e.id for e in await live.events("pex_a")] == ["1-0", "2-0", "3-0"]
    assert [e.id for e in await live.events("pex_b")] == ["1-0"]
    assert [e.id for e in await live.events("pex_a", after="2-0", inclusive=True)] == ["2-0", "3-0"]
    assert [e.id for e in await live.events("pex_a", after="2-0")] == ["3-0"]


async def test_an_equal_seq_rewrite_is_what_the_next_event_replaced(live: LiveStore) -> None:
    await live.put(snapshot(1, StepStatus.RUNNING))
    rewritten = snapshot(1, StepStatus.FAILED)
    await live.put(rewritten)
    await live.put(snapshot(2, StepStatus.COMPLETED))
    events = await live.events("pex_a")
    assert events[-1].previous == step_states(rewritten.steps)
