"""The webhook part of the ledger contract (SQLite and PostgreSQL): deliveries recorded with the
transition that made them due, compare-and-set claims, the fenced outcome, the log, secrets."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from pagemill.adapters.sql import SqlLedger
from pagemill.adapters.sql.ledger.webhooks import LOST_ATTEMPT
from pagemill.domain.errors import Conflict
from pagemill.domain.models import NewExecution
from pagemill.domain.webhooks import AttemptOutcome, DeliveryState, WebhookDelivery
from tests.contract.ledger_kit import LEASE, RATES, T0, at, claimed, new_execution, output, team

URL = "https://hooks.example.com/in"
CLAIM_LEASE = 60.0


def hooked(team_id: str, steps: list[str], **config: Any) -> NewExecution:
    new = new_execution(team_id, steps)
    return dataclasses.replace(new, input_config={**new.input_config, "webhook_url": URL, **config})


async def finished(ledger: SqlLedger, new: NewExecution) -> str:
    """Run every step of ``new`` to completion; the execution id."""
    await ledger.executions.create(new, T0)
    for i in range(len(new.step_types)):
        claim = await claimed(ledger, "w1", at(10 * i + 1))
        await ledger.steps.complete(
            claim.step.ref, "w1", at(10 * i + 2), output(claim.step.ref), RATES
        )
    return new.execution_id


async def log(
    ledger: SqlLedger, execution_id: str, team_id: str = "team_a"
) -> list[WebhookDelivery]:
    deliveries = await ledger.webhooks.deliveries(execution_id, team_id)
    assert deliveries is not None
    return deliveries


def outcome(state: DeliveryState, **kw: Any) -> AttemptOutcome:
    values: dict[str, Any] = {
        "next_attempt_at": None,
        "retries": 0,
        "status_code": None,
        "error": None,
    }
    return AttemptOutcome(state, **(values | kw))


async def test_completion_records_the_webhook_in_its_transaction(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    execution_id = await finished(ledger, hooked(team_id, ["convert"]))

    [delivery] = await log(ledger, execution_id)

    assert delivery.delivery_id.startswith("whd_") and "." not in delivery.delivery_id
    assert (delivery.event, delivery.url, delivery.team_id) == ("execution", URL, team_id)
    assert (delivery.state, delivery.attempt, delivery.retries) == (DeliveryState.PENDING, 0, 0)
    assert delivery.next_attempt_at == at(2) == delivery.created
    assert delivery.payload["status"] == "completed"
    assert delivery.payload["execution_id"] == execution_id
    assert delivery.attempts == ()
    assert await ledger.webhooks.next_due() == at(2)


async def test_no_webhook_url_records_nothing(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    execution_id = await finished(ledger, new_execution(team_id, ["convert"]))
    assert await log(ledger, execution_id) == []
    assert await ledger.webhooks.next_due() is None


async def test_failure_and_cancellation_record_one_webhook_each(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    failing = hooked(team_id, ["convert", "segment"])
    await ledger.executions.create(failing, T0)
    claim = await claimed(ledger, "w1", at(1))
    await ledger.steps.fail(claim.step.ref, "w1", at(2), "corrupt", None, RATES)
    cancelled = hooked(team_id, ["convert"])
    await ledger.executions.create(cancelled, T0)
    await ledger.executions.cancel(cancelled.execution_id, team_id, at(3), RATES)
    await ledger.executions.cancel(cancelled.execution_id, team_id, at(4), RATES)  # no-op

    [failed] = await log(ledger, failing.execution_id)
    [cancel] = await log(ledger, cancelled.execution_id)

    assert (failed.payload["status"], failed.payload["cancelled"]) == ("failed", False)
    # A cancelled execution's wire form: failed (every SDK poll loop ends on it), flagged.
    assert (cancel.payload["status"], cancel.payload["cancelled"]) == ("failed", True)


async def test_a_retried_step_is_no_event_and_step_events_are_opt_in(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    new = hooked(team_id, ["convert", "segment"], webhook_events=["execution", "step"])
    await ledger.executions.create(new, T0)
    first = await claimed(ledger, "w1", at(1))
    await ledger.steps.fail(first.step.ref, "w1", at(2), "flaky", at(3), RATES)
    assert await log(ledger, new.execution_id) == []
    again = await claimed(ledger, "w1", at(4))
    await ledger.steps.complete(again.step.ref, "w1", at(5), output(again.step.ref), RATES)
    assert [d.event for d in await log(ledger, new.execution_id)] == ["step.0"]
    last = await claimed(ledger, "w1", at(6))
    await ledger.steps.complete(last.step.ref, "w1", at(7), output(last.step.ref), RATES)

    events = [(d.event, d.payload["type"]) for d in await log(ledger, new.execution_id)]

    assert events == [
        ("step.0", "execution.step.finished"),
        ("step.1", "execution.step.finished"),
        ("execution", "execution.finished"),
    ]


async def test_one_claim_wins_and_the_claim_fences_the_attempt(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    execution_id = await finished(ledger, hooked(team_id, ["convert"]))

    assert await ledger.webhooks.claim("d1", at(1), CLAIM_LEASE) is None  # not due yet
    claims = await asyncio.gather(
        *(ledger.webhooks.claim(f"d{i}", at(3), CLAIM_LEASE) for i in range(4))
    )
    won = [c for c in claims if c is not None]

    assert len(won) == 1
    delivery = won[0]
    assert (delivery.state, delivery.attempt) == (DeliveryState.SENDING, 1)
    assert delivery.claimed_at == at(3)
    assert delivery.next_attempt_at == at(3 + CLAIM_LEASE)
    assert await ledger.webhooks.claim("dx", at(4), CLAIM_LEASE) is None
    stranger = "d9" if delivery.lease_owner != "d9" else "d8"
    not_mine = outcome(DeliveryState.DELIVERED, status_code=200)
    assert not await ledger.webhooks.finish_attempt(
        delivery.delivery_id, 1, stranger, at(3), 5, not_mine, at(4)
    )
    assert delivery.lease_owner is not None
    assert await ledger.webhooks.finish_attempt(
        delivery.delivery_id, 1, delivery.lease_owner, at(3), 12, not_mine, at(4)
    )
    [done] = await log(ledger, execution_id)
    assert (done.state, done.finished_at, done.last_status_code) == (
        DeliveryState.DELIVERED,
        at(4),
        200,
    )
    assert [(a.attempt, a.status_code, a.duration_ms) for a in done.attempts] == [(1, 200, 12)]
    assert await ledger.webhooks.next_due() is None


async def test_a_failed_attempt_waits_for_its_retry(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    execution_id = await finished(ledger, hooked(team_id, ["convert"]))
    first = await ledger.webhooks.claim("d1", at(3), CLAIM_LEASE)
    assert first is not None
    retry = outcome(
        DeliveryState.PENDING, next_attempt_at=at(30), retries=1, status_code=500, error="HTTP 500."
    )
    assert await ledger.webhooks.finish_attempt(first.delivery_id, 1, "d1", at(3), 40, retry, at(4))

    assert await ledger.webhooks.claim("d2", at(29), CLAIM_LEASE) is None
    assert await ledger.webhooks.next_due() == at(30)
    second = await ledger.webhooks.claim("d2", at(30), CLAIM_LEASE)
    assert second is not None
    assert (second.attempt, second.retries, second.last_error) == (2, 1, "HTTP 500.")
    [delivery] = await log(ledger, execution_id)
    assert [(a.attempt, a.started_at, a.status_code, a.error) for a in delivery.attempts] == [
        (1, at(3), 500, "HTTP 500.")
    ]


async def test_a_lapsed_claim_is_taken_over_and_its_late_report_only_logs(
    ledger: SqlLedger,
) -> None:
    team_id = await team(ledger)
    execution_id = await finished(ledger, hooked(team_id, ["convert"]))
    lost = await ledger.webhooks.claim("d1", at(3), CLAIM_LEASE)
    assert lost is not None

    assert await ledger.webhooks.claim("d2", at(3 + CLAIM_LEASE - 1), CLAIM_LEASE) is None
    taken = await ledger.webhooks.claim("d2", at(3 + CLAIM_LEASE), CLAIM_LEASE)
    assert taken is not None and taken.attempt == 2
    [delivery] = await log(ledger, execution_id)
    assert [(a.attempt, a.error) for a in delivery.attempts] == [(1, LOST_ATTEMPT)]

    late = outcome(DeliveryState.DELIVERED, status_code=200)
    assert not await ledger.webhooks.finish_attempt(
        lost.delivery_id, 1, "d1", at(3), 9, late, at(70)
    )
    [delivery] = await log(ledger, execution_id)
    assert delivery.state is DeliveryState.SENDING  # still attempt 2's
    assert [(a.attempt, a.status_code) for a in delivery.attempts] == [(1, 200)]
    assert await ledger.webhooks.finish_attempt(lost.delivery_id, 2, "d2", at(63), 5, late, at(64))


async def test_redeliver_queues_an_attempt_now_for_the_team_only(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    other = await team(ledger, "team_b")
    execution_id = await finished(ledger, hooked(team_id, ["convert"]))
    claim = await ledger.webhooks.claim("d1", at(3), CLAIM_LEASE)
    assert claim is not None
    with pytest.raises(Conflict, match="being sent"):
        await ledger.webhooks.redeliver(execution_id, claim.delivery_id, team_id, at(4))
    gone = outcome(DeliveryState.FAILED, retries=3, status_code=410, error="HTTP 410 Gone")
    await ledger.webhooks.finish_attempt(claim.delivery_id, 1, "d1", at(3), 5, gone, at(4))

    assert await ledger.webhooks.redeliver(execution_id, claim.delivery_id, other, at(5)) is None
    assert await ledger.webhooks.redeliver(execution_id, "whd_nope", team_id, at(5)) is None
    assert await ledger.webhooks.redeliver("pex_nope", claim.delivery_id, team_id, at(5)) is None
    again = await ledger.webhooks.redeliver(execution_id, claim.delivery_id, team_id, at(5))

    assert again is not None
    assert (again.state, again.next_attempt_at, again.retries, again.finished_at) == (
        DeliveryState.PENDING,
        at(5),
        0,
        None,
    )
    assert [a.attempt for a in again.attempts] == [1]
    next_claim = await ledger.webhooks.claim("d2", at(5), CLAIM_LEASE)
    assert next_claim is not None and next_claim.attempt == 2


async def test_the_log_is_team_scoped(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    await team(ledger, "team_b")
    execution_id = await finished(ledger, hooked(team_id, ["convert"]))
    assert await ledger.webhooks.deliveries(execution_id, "team_b") is None
    assert await ledger.webhooks.deliveries("pex_missing", team_id) is None


async def test_secrets_are_created_once_and_rotated_with_a_grace(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    assert await ledger.webhooks.secret(team_id) is None
    created = await asyncio.gather(
        *(ledger.webhooks.create_secret(team_id, f"whsec_candidate{i}", at(i)) for i in range(4))
    )
    assert len({s.secret for s in created}) == 1  # one first use wins, the others read it
    first = created[0]
    assert (first.previous_secret, first.rotated_at) == (None, None)

    rotated = await ledger.webhooks.rotate_secret(team_id, "whsec_new", at(10), at(100))

    assert (rotated.secret, rotated.previous_secret) == ("whsec_new", first.secret)
    assert (rotated.rotated_at, rotated.previous_expires_at) == (at(10), at(100))
    assert rotated.signing_secrets(at(99)) == ["whsec_new", first.secret]
    assert rotated.signing_secrets(at(100)) == ["whsec_new"]
    assert await ledger.webhooks.secret(team_id) == rotated
    other = await team(ledger, "team_b")
    fresh = await ledger.webhooks.rotate_secret(other, "whsec_x", at(1), at(2))
    assert (fresh.secret, fresh.previous_secret, fresh.rotated_at) == ("whsec_x", None, None)
    with pytest.raises(Conflict):
        await ledger.webhooks.create_secret("no_such_team", "whsec_x", at(1))


async def test_claims_across_deliveries_go_in_due_order(ledger: SqlLedger) -> None:
    team_id = await team(ledger)
    ids = []
    for i in range(3):
        new = hooked(team_id, ["convert"])
        await ledger.executions.create(new, T0)
        claim = await claimed(ledger, "w1", at(i))
        await ledger.steps.complete(claim.step.ref, "w1", at(10 - i), output(claim.step.ref), RATES)
        ids.append(new.execution_id)

    order = []
    for _ in range(3):
        delivery = await ledger.webhooks.claim("d1", at(20), LEASE)
        assert delivery is not None
        order.append(delivery.execution_id)

    assert order == list(reversed(ids))  # the earliest due first
    assert await ledger.webhooks.claim("d1", at(20) + timedelta(seconds=1), LEASE) is None
