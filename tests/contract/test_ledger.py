"""The ledger contract, run against every SQL dialect (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from pagemill.adapters.sql import SqlLedger, create_ledger, normalize_url
from pagemill.domain.errors import Conflict, ServiceUnavailable
from pagemill.domain.ids import new_execution_id
from pagemill.domain.models import (
    ApiKey,
    Claim,
    ExecutionSnapshot,
    NewExecution,
    StepOutput,
    StepRef,
)
from pagemill.domain.rates import execution_rate_breakdown
from pagemill.domain.statuses import ExecutionStatus, StepStatus

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
RATES = {"convert": 400, "segment": 200, "extract": 600}
LEASE = 30.0


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def team(ledger: SqlLedger, team_id: str = "team_a") -> str:
    await ledger.create_team(team_id, f"name of {team_id}", T0)
    return team_id


def new_execution(
    team_id: str,
    step_types: list[str],
    *,
    pipeline_id: str = "pl_one",
    max_attempts: int = 3,
) -> NewExecution:
    return NewExecution(
        execution_id=new_execution_id(),
        team_id=team_id,
        pipeline_id=pipeline_id,
        pipeline_version=1,
        input_key=f"inputs/{pipeline_id}.pdf",
        config_snapshot={"steps": [{"type": t} for t in step_types]},
        input_config={"page_range": "0-2", "nested": {"ok": True}},
        step_types=step_types,
        step_settings=[{"index": i} for i in range(len(step_types))],
        max_attempts=max_attempts,
    )


def output(ref: StepRef, pages: int = 3) -> StepOutput:
    tag = f"{ref.execution_id}/{ref.step_index}/{ref.attempt}"
    return StepOutput(result_key=f"results/{tag}", checkpoint_id=f"ckpt_{tag}", page_count=pages)


async def claimed(ledger: SqlLedger, worker: str, now: datetime, **kw: Any) -> Claim:
    claim = await ledger.claim_next(worker, now, LEASE, kw.get("step_types"))
    assert claim is not None
    return claim


# -- teams and keys ----------------------------------------------------------------------------


async def test_teams_and_keys(ledger: SqlLedger) -> None:
    await ledger.ping()
    assert await ledger.count_teams() == 0
    created = await ledger.create_team("team_a", "Acme", T0)

    assert created.id == "team_a"
    assert created.created == T0
    assert await ledger.team_by_name("Acme") == created
    assert await ledger.team_by_name("Nobody") is None
    assert await ledger.count_teams() == 1
    with pytest.raises(Conflict):
        await ledger.create_team("team_b", "Acme", T0)

    later = datetime(2025, 3, 1, 15, 0, tzinfo=timezone(timedelta(hours=2)))
    key = ApiKey("key_1", "team_a", "ci", "hash", created=T0, expires_at=later)
    await ledger.create_api_key(key)
    assert await ledger.api_key("key_1") == key
    assert await ledger.api_key("key_missing") is None

    await ledger.touch_api_key("key_1", at(60))
    touched = await ledger.api_key("key_1")
    assert touched is not None
    assert touched.last_used_at == at(60)
    # Aware datetimes come back as the same instant, in UTC.
    assert touched.expires_at == later
    assert touched.expires_at is not None
    assert touched.expires_at.utcoffset() == timedelta(0)


# -- pipelines ---------------------------------------------------------------------------------


async def test_pipeline_crud_and_team_isolation(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")
    steps = [{"type": "convert", "settings": {"paginate": True}}]

    created = await ledger.create_pipeline("team_a", "pl_1", steps, T0)

    assert (created.pipeline_id, created.team_id, created.steps) == ("pl_1", "team_a", steps)
    assert (created.name, created.is_saved, created.archived) == (None, False, False)
    assert created.active_version == 0
    assert created.created == created.updated == T0
    assert await ledger.pipeline("team_a", "pl_1") == created
    assert await ledger.pipeline("team_b", "pl_1") is None

    new_steps = [*steps, {"type": "extract", "settings": {}}]
    updated = await ledger.update_pipeline(
        "team_a", "pl_1", at(5), name="Invoices", is_saved=True, steps=new_steps
    )
    assert updated is not None
    assert (updated.name, updated.is_saved, updated.steps) == ("Invoices", True, new_steps)
    assert updated.updated == at(5)
    assert updated.created == T0
    assert updated.pk == created.pk
    assert await ledger.update_pipeline("team_b", "pl_1", at(6), name="Stolen") is None
    assert await ledger.update_pipeline("team_a", "pl_missing", at(6), name="x") is None
    with pytest.raises(ValueError, match="active_version"):
        await ledger.update_pipeline("team_a", "pl_1", at(6), active_version=7)
    with pytest.raises(Conflict):
        await ledger.create_pipeline("team_b", "pl_1", steps, T0)


async def test_publish_snapshots_the_draft_as_the_next_version(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")
    v1_steps = [{"type": "convert"}]
    draft = await ledger.create_pipeline("team_a", "pl_1", v1_steps, T0)
    assert await ledger.versions(draft.pk) == []

    first = await ledger.publish_version("team_a", "pl_1", "first", at(1))
    v2_steps = [{"type": "convert"}, {"type": "extract"}]
    await ledger.update_pipeline("team_a", "pl_1", at(2), steps=v2_steps)
    second = await ledger.publish_version("team_a", "pl_1", None, at(3))

    assert first is not None
    assert second is not None
    assert (first.version, first.steps, first.description) == (1, v1_steps, "first")
    assert (second.version, second.steps, second.description) == (2, v2_steps, None)
    assert second.pipeline_pk == draft.pk
    assert second.created == at(3)
    assert await ledger.versions(draft.pk) == [second, first]
    current = await ledger.pipeline("team_a", "pl_1")
    assert current is not None
    assert (current.active_version, current.updated) == (2, at(3))
    assert await ledger.publish_version("team_b", "pl_1", None, at(4)) is None


async def test_concurrent_publishes_get_distinct_versions(ledger: SqlLedger) -> None:
    await team(ledger)
    draft = await ledger.create_pipeline("team_a", "pl_1", [{"type": "convert"}], T0)

    published = await asyncio.gather(
        *(ledger.publish_version("team_a", "pl_1", f"v{i}", at(i)) for i in range(6))
    )

    assert sorted(v.version for v in published if v is not None) == [1, 2, 3, 4, 5, 6]
    assert [v.version for v in await ledger.versions(draft.pk)] == [6, 5, 4, 3, 2, 1]


async def test_list_pipelines_filters_orders_and_counts(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")
    for i in range(6):
        await ledger.create_pipeline("team_a", f"pl_{i}", [{"type": "convert"}], T0)
    await ledger.create_pipeline("team_b", "pl_other", [{"type": "convert"}], T0)
    # pl_0..pl_5 updated at T0; pl_1 and pl_3 later; pl_4 archived; pl_1, pl_2, pl_4 saved.
    await ledger.update_pipeline("team_a", "pl_1", at(10), is_saved=True)
    await ledger.update_pipeline("team_a", "pl_3", at(20), name="renamed")
    await ledger.update_pipeline("team_a", "pl_2", T0, is_saved=True)
    await ledger.update_pipeline("team_a", "pl_4", T0, is_saved=True, archived=True)

    def ids(found: tuple[list[Any], int]) -> tuple[list[str], int]:
        return [p.pipeline_id for p in found[0]], found[1]

    everything = await ledger.list_pipelines(
        "team_a", saved_only=False, include_archived=True, limit=50, offset=0
    )
    # Newest update first; ties broken by the newest row first.
    assert ids(everything) == (["pl_3", "pl_1", "pl_5", "pl_4", "pl_2", "pl_0"], 6)
    active = await ledger.list_pipelines(
        "team_a", saved_only=False, include_archived=False, limit=50, offset=0
    )
    assert ids(active) == (["pl_3", "pl_1", "pl_5", "pl_2", "pl_0"], 5)
    saved = await ledger.list_pipelines(
        "team_a", saved_only=True, include_archived=False, limit=50, offset=0
    )
    assert ids(saved) == (["pl_1", "pl_2"], 2)
    page = await ledger.list_pipelines(
        "team_a", saved_only=False, include_archived=True, limit=2, offset=2
    )
    assert ids(page) == (["pl_5", "pl_4"], 6)
    other = await ledger.list_pipelines(
        "team_b", saved_only=False, include_archived=True, limit=50, offset=0
    )
    assert ids(other) == (["pl_other"], 1)


# -- the execution lifecycle -------------------------------------------------------------------


async def test_execution_runs_step_by_step_to_completed(ledger: SqlLedger) -> None:
    await team(ledger)
    new = new_execution("team_a", ["convert", "extract"])
    seqs: list[int] = []

    created = await ledger.create_execution(new, T0)

    execution = created.execution
    assert (execution.execution_id, execution.status, execution.seq) == (
        new.execution_id,
        ExecutionStatus.PENDING,
        1,
    )
    assert execution.created == T0
    assert (execution.started_at, execution.completed_at, execution.rate_breakdown) == (
        None,
        None,
        None,
    )
    assert execution.config_snapshot == new.config_snapshot
    assert execution.input_config == new.input_config
    first, second = created.steps
    assert (first.status, first.attempt, first.available_at) == (StepStatus.DISPATCHED, 1, T0)
    assert (second.status, second.attempt, second.available_at) == (StepStatus.PENDING, 0, None)
    assert (first.step_type, first.settings, first.max_attempts) == ("convert", {"index": 0}, 3)
    assert first.lookup_key.startswith("req_")
    assert second.lookup_key.startswith("req_")
    assert first.lookup_key != second.lookup_key
    seqs.append(execution.seq)

    claim = await claimed(ledger, "w1", at(1))
    assert claim.step.ref == StepRef(new.execution_id, 0, 1)
    assert claim.step.status is StepStatus.RUNNING
    assert (claim.step.lease_owner, claim.step.lease_expires_at) == ("w1", at(1 + LEASE))
    assert claim.step.heartbeat_at == claim.step.started_at == at(1)
    assert claim.upstream is None
    assert claim.execution.status is ExecutionStatus.RUNNING
    assert claim.execution.started_at == at(1)
    assert claim.snapshot.execution == claim.execution
    assert claim.snapshot.steps[0] == claim.step
    seqs.append(claim.execution.seq)
    assert await ledger.claim_next("w2", at(1), LEASE, None) is None

    beat = await ledger.heartbeat(claim.step.ref, "w1", at(5), LEASE)
    assert beat.held
    assert not beat.cancel_requested
    after_beat = await ledger.execution(new.execution_id)
    assert after_beat is not None
    assert after_beat.seq == seqs[-1]

    done = await ledger.complete_step(claim.step.ref, "w1", at(10), output(claim.step.ref), RATES)
    assert done is not None
    step0, step1 = done.steps
    assert (step0.status, step0.finished_at) == (StepStatus.COMPLETED, at(10))
    assert (step0.lease_owner, step0.lease_expires_at) == (None, None)
    assert step0.result_key == output(claim.step.ref).result_key
    assert (step1.status, step1.attempt, step1.available_at) == (StepStatus.DISPATCHED, 1, at(10))
    assert done.execution.status is ExecutionStatus.RUNNING
    assert await ledger.count_results(new.execution_id, 0) == 1
    seqs.append(done.execution.seq)

    claim2 = await claimed(ledger, "w2", at(11))
    assert claim2.step.ref == StepRef(new.execution_id, 1, 1)
    assert claim2.upstream == step0
    assert claim2.execution.started_at == at(1)  # the first claim's time is kept
    seqs.append(claim2.execution.seq)

    final = await ledger.complete_step(
        claim2.step.ref, "w2", at(20), output(claim2.step.ref, pages=99), RATES
    )
    assert final is not None
    assert final.execution.status is ExecutionStatus.COMPLETED
    assert final.execution.completed_at == at(20)
    # The page count of the first completed step is the one billed.
    assert final.execution.rate_breakdown == execution_rate_breakdown(
        ["convert", "extract"], [True, True], 3, RATES
    )
    assert [s.status for s in final.steps] == [StepStatus.COMPLETED, StepStatus.COMPLETED]
    seqs.append(final.execution.seq)
    assert seqs == sorted(set(seqs))
    assert seqs[0] == 1
    assert seqs[-1] == 5

    assert await ledger.execution(new.execution_id, "team_a") == final.execution
    assert await ledger.execution(new.execution_id, "team_other") is None
    assert await ledger.execution(new.execution_id) == final.execution
    assert await ledger.steps(new.execution_id) == final.steps
    assert await ledger.claim_next("w1", at(100), LEASE, None) is None
    assert await ledger.next_due(None) is None


async def test_claim_by_ref_is_exact_and_single(ledger: SqlLedger) -> None:
    await team(ledger)
    created = await ledger.create_execution(new_execution("team_a", ["convert"]), T0)
    ref = created.steps[0].ref

    assert await ledger.claim(StepRef(ref.execution_id, 0, 2), "w1", T0, LEASE) is None
    assert await ledger.claim(StepRef("pex_missing", 0, 1), "w1", T0, LEASE) is None
    claim = await ledger.claim(ref, "w1", T0, LEASE)
    assert claim is not None
    assert claim.step.lease_owner == "w1"
    assert claim.snapshot.execution.seq == 2
    # A duplicate delivery of the same attempt finds it running: harmless.
    assert await ledger.claim(ref, "w2", T0, LEASE) is None


async def test_retry_then_success(ledger: SqlLedger) -> None:
    await team(ledger)
    created = await ledger.create_execution(new_execution("team_a", ["convert"]), T0)
    first = await claimed(ledger, "w1", at(1))

    retried = await ledger.fail_step(first.step.ref, "w1", at(2), "timeout", at(60), RATES)

    assert retried is not None
    step = retried.steps[0]
    assert (step.status, step.attempt, step.available_at) == (StepStatus.DISPATCHED, 2, at(60))
    assert (step.lease_owner, step.lease_expires_at, step.error_message) == (None, None, "timeout")
    assert retried.execution.status is ExecutionStatus.RUNNING
    assert retried.execution.seq == first.execution.seq + 1
    assert await ledger.claim_next("w1", at(59), LEASE, None) is None
    assert await ledger.next_due(None) == at(60)

    second = await claimed(ledger, "w2", at(60))
    assert second.step.ref == StepRef(created.execution.execution_id, 0, 2)
    done = await ledger.complete_step(second.step.ref, "w2", at(61), output(second.step.ref), RATES)

    assert done is not None
    assert done.execution.status is ExecutionStatus.COMPLETED
    assert (done.steps[0].status, done.steps[0].error_message) == (StepStatus.COMPLETED, None)
    assert await ledger.count_results(created.execution.execution_id, 0) == 1


async def test_failure_without_retry_fails_and_skips_the_rest(ledger: SqlLedger) -> None:
    await team(ledger)
    await ledger.create_execution(new_execution("team_a", ["convert", "segment", "extract"]), T0)
    claim = await claimed(ledger, "w1", at(1))

    failed = await ledger.fail_step(claim.step.ref, "w1", at(2), "corrupt PDF", None, RATES)

    assert failed is not None
    assert [s.status for s in failed.steps] == [
        StepStatus.FAILED,
        StepStatus.SKIPPED,
        StepStatus.SKIPPED,
    ]
    assert (failed.steps[0].error_message, failed.steps[0].finished_at) == ("corrupt PDF", at(2))
    assert failed.execution.status is ExecutionStatus.FAILED
    assert (failed.execution.completed_at, failed.execution.error_message) == (
        at(2),
        "corrupt PDF",
    )
    assert failed.execution.rate_breakdown == execution_rate_breakdown(
        ["convert", "segment", "extract"], [False, False, False], 0, RATES
    )
    assert await ledger.claim_next("w1", at(100), LEASE, None) is None


async def test_retries_stop_at_max_attempts(ledger: SqlLedger) -> None:
    await team(ledger)
    await ledger.create_execution(new_execution("team_a", ["convert"], max_attempts=2), T0)
    first = await claimed(ledger, "w1", at(1))
    assert await ledger.fail_step(first.step.ref, "w1", at(2), "boom", at(3), RATES) is not None
    second = await claimed(ledger, "w1", at(3))
    assert second.step.attempt == 2

    last = await ledger.fail_step(second.step.ref, "w1", at(4), "boom again", at(5), RATES)

    assert last is not None
    assert (last.steps[0].status, last.steps[0].attempt) == (StepStatus.FAILED, 2)
    assert last.execution.status is ExecutionStatus.FAILED


async def test_failure_after_a_completed_step_is_completed_with_errors(ledger: SqlLedger) -> None:
    await team(ledger)
    await ledger.create_execution(new_execution("team_a", ["convert", "segment", "extract"]), T0)
    convert = await claimed(ledger, "w1", at(1))
    await ledger.complete_step(convert.step.ref, "w1", at(2), output(convert.step.ref, 10), RATES)
    segment = await claimed(ledger, "w1", at(3))

    result = await ledger.fail_step(segment.step.ref, "w1", at(4), "bad schema", None, RATES)

    assert result is not None
    assert [s.status for s in result.steps] == [
        StepStatus.COMPLETED,
        StepStatus.FAILED,
        StepStatus.SKIPPED,
    ]
    assert result.execution.status is ExecutionStatus.COMPLETED_WITH_ERRORS
    assert result.execution.rate_breakdown == execution_rate_breakdown(
        ["convert", "segment", "extract"], [True, False, False], 10, RATES
    )
    assert result.execution.rate_breakdown is not None
    assert result.execution.rate_breakdown["total_cost_cents"] == 4


# -- fencing and races -------------------------------------------------------------------------


async def test_a_lost_attempt_is_fenced_off(ledger: SqlLedger) -> None:
    await team(ledger)
    created = await ledger.create_execution(new_execution("team_a", ["convert"]), T0)
    execution_id = created.execution.execution_id
    lost = await claimed(ledger, "w1", at(1))
    assert not (await ledger.heartbeat(lost.step.ref, "w2", at(2), LEASE)).held
    # The reaper requeues the attempt of w1 (its lease expired), and w2 claims attempt 2.
    assert await ledger.fail_step(lost.step.ref, "w1", at(40), "lease lost", at(40), RATES)
    winner = await claimed(ledger, "w2", at(41))

    assert not (await ledger.heartbeat(lost.step.ref, "w1", at(42), LEASE)).held
    assert (
        await ledger.complete_step(lost.step.ref, "w1", at(43), output(lost.step.ref), RATES)
        is None
    )
    assert await ledger.fail_step(lost.step.ref, "w1", at(43), "late", None, RATES) is None
    assert await ledger.count_results(execution_id, 0) == 0

    done = await ledger.complete_step(winner.step.ref, "w2", at(44), output(winner.step.ref), RATES)
    assert done is not None
    assert done.execution.status is ExecutionStatus.COMPLETED
    assert done.steps[0].result_key == output(winner.step.ref).result_key
    # A duplicate completion of the winner after the fact changes nothing either.
    assert (
        await ledger.complete_step(winner.step.ref, "w2", at(45), output(winner.step.ref), RATES)
        is None
    )
    assert await ledger.count_results(execution_id, 0) == 1
    after = await ledger.execution(execution_id)
    assert after == done.execution


async def test_concurrent_claims_take_each_step_exactly_once(ledger: SqlLedger) -> None:
    await team(ledger)
    ids = []
    for _ in range(8):
        created = await ledger.create_execution(new_execution("team_a", ["convert"]), T0)
        ids.append(created.execution.execution_id)

    claims = await asyncio.gather(
        *(ledger.claim_next(f"w{i}", at(1), LEASE, None) for i in range(8))
    )

    refs = [c.step.ref for c in claims if c is not None]
    assert sorted(r.execution_id for r in refs) == sorted(ids)
    assert len({c.step.lease_owner for c in claims if c is not None}) == 8
    assert await ledger.claim_next("w9", at(1), LEASE, None) is None


async def test_claims_follow_availability_then_creation_order(ledger: SqlLedger) -> None:
    await team(ledger)
    late = await ledger.create_execution(new_execution("team_a", ["convert"]), at(5))
    early_a = await ledger.create_execution(new_execution("team_a", ["convert"]), T0)
    early_b = await ledger.create_execution(new_execution("team_a", ["convert"]), T0)

    order = [(await claimed(ledger, "w", at(10))).execution.execution_id for _ in range(3)]

    assert order == [x.execution.execution_id for x in (early_a, early_b, late)]


async def test_racing_completion_and_failure_finalize_once(ledger: SqlLedger) -> None:
    await team(ledger)
    claims = []
    for _ in range(6):
        await ledger.create_execution(new_execution("team_a", ["convert"]), T0)
        claims.append(await claimed(ledger, "w1", at(1)))

    outcomes = await asyncio.gather(
        *(
            call
            for claim in claims
            for call in (
                ledger.complete_step(claim.step.ref, "w1", at(2), output(claim.step.ref), RATES),
                ledger.fail_step(claim.step.ref, "w1", at(2), "reaped", None, RATES),
                ledger.complete_step(claim.step.ref, "w1", at(2), output(claim.step.ref), RATES),
            )
        )
    )

    for index, claim in enumerate(claims):
        execution_id = claim.execution.execution_id
        results = outcomes[index * 3 : index * 3 + 3]
        winners = [r for r in results if r is not None]
        assert len(winners) == 1
        winner: ExecutionSnapshot = winners[0]
        assert winner.execution.seq == claim.execution.seq + 1
        stored = await ledger.execution(execution_id)
        assert stored == winner.execution
        completed = winner.execution.status is ExecutionStatus.COMPLETED
        assert completed or winner.execution.status is ExecutionStatus.FAILED
        assert await ledger.count_results(execution_id, 0) == (1 if completed else 0)


# -- the reaper's and the dispatcher's queries -------------------------------------------------


async def test_expired_leases_others_leases_and_next_due(ledger: SqlLedger) -> None:
    await team(ledger)
    short = await ledger.create_execution(new_execution("team_a", ["convert"]), T0)
    long = await ledger.create_execution(new_execution("team_a", ["convert"]), at(1))
    odd = await ledger.create_execution(new_execution("team_a", ["convert"]), at(2))
    waiting = await ledger.create_execution(new_execution("team_a", ["extract"]), at(3))
    assert await ledger.next_due(None) == T0
    assert await ledger.next_due(["extract"]) == at(3)
    assert await ledger.next_due(["custom"]) is None
    assert await ledger.next_due([]) is None

    a = await ledger.claim_next("boot1-w1", at(10), 10, ["convert"])
    b = await ledger.claim_next("boot2-w1", at(10), 100, ["convert"])
    # ``_`` must match literally, not as a LIKE wildcard.
    c = await ledger.claim_next("bootX-w1", at(10), 100, ["convert"])
    assert a is not None
    assert b is not None
    assert c is not None
    assert [x.execution.execution_id for x in (a, b, c)] == [
        x.execution.execution_id for x in (short, long, odd)
    ]
    assert await ledger.claim_next("boot2-w2", at(10), LEASE, ["convert", "segment"]) is None
    assert await ledger.claim_next("boot2-w2", at(10), LEASE, []) is None
    assert await ledger.next_due(None) == at(3)

    assert await ledger.expired_leases(at(15), 10) == []
    expired = await ledger.expired_leases(at(50), 10)
    assert [s.ref for s in expired] == [a.step.ref]
    assert expired[0].lease_owner == "boot1-w1"
    assert len(await ledger.expired_leases(at(500), 10)) == 3
    assert len(await ledger.expired_leases(at(500), 2)) == 2

    others = await ledger.leased_by_others("boot2-")
    assert {s.ref for s in others} == {a.step.ref, c.step.ref}
    others = await ledger.leased_by_others("boot_-")
    assert {s.ref for s in others} == {a.step.ref, b.step.ref, c.step.ref}
    assert await ledger.leased_by_others("boot") == []

    last = await ledger.claim_next("boot2-w3", at(10), LEASE, None)
    assert last is not None
    assert last.execution.execution_id == waiting.execution.execution_id
    assert await ledger.next_due(None) is None


async def test_list_executions_newest_first_with_total(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")
    made = []
    for i in range(4):
        new = new_execution("team_a", ["convert", "extract"], pipeline_id="pl_1")
        made.append((await ledger.create_execution(new, at(i // 2))).execution.execution_id)
    await ledger.create_execution(new_execution("team_a", ["convert"], pipeline_id="pl_2"), T0)
    await ledger.create_execution(new_execution("team_b", ["convert"], pipeline_id="pl_1"), T0)

    items, total = await ledger.list_executions("team_a", "pl_1", limit=3, offset=0)

    assert total == 4
    assert [s.execution.execution_id for s in items] == [made[3], made[2], made[1]]
    assert all(len(s.steps) == 2 for s in items)
    assert [s.step_index for s in items[0].steps] == [0, 1]
    rest, total = await ledger.list_executions("team_a", "pl_1", limit=3, offset=3)
    assert ([s.execution.execution_id for s in rest], total) == ([made[0]], 4)
    assert await ledger.list_executions("team_b", "pl_2", limit=3, offset=0) == ([], 0)


# -- URLs and outages (no database needed) -----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/pm.db", "sqlite+aiosqlite:///data/pm.db"),
        ("sqlite+aiosqlite:////abs/pm.db", "sqlite+aiosqlite:////abs/pm.db"),
        ("postgresql://u:p%40ss@h:5432/db", "postgresql+psycopg://u:p%40ss@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        (
            "postgresql+psycopg://u@h/db?sslmode=require",
            "postgresql+psycopg://u@h/db?sslmode=require",
        ),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    "url", ["mysql://h/db", "postgresql+asyncpg://h/db", "sqlite://", "sqlite:///:memory:", "x"]
)
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="Unsupported database URL"):
        normalize_url(url)


async def test_an_unreachable_database_is_service_unavailable() -> None:
    ledger = create_ledger("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    try:
        with pytest.raises(ServiceUnavailable, match="The database is unavailable"):
            await ledger.ping()
        with pytest.raises(ServiceUnavailable):
            await ledger.count_teams()
    finally:
        await ledger.close()


async def test_an_unmigrated_database_is_service_unavailable(tmp_path: Path) -> None:
    ledger = create_ledger(f"sqlite:///{tmp_path / 'new' / 'empty.db'}")
    try:
        await ledger.ping()  # the file (and its directory) can be created
        with pytest.raises(ServiceUnavailable):
            await ledger.team_by_name("x")
    finally:
        await ledger.close()
    assert (tmp_path / "new" / "empty.db").exists()
