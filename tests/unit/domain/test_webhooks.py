"""Webhook rules: which are due, what they say, and the retry schedule after each attempt."""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pagemill.domain.errors import InvalidInput
from pagemill.domain.models import Execution, ExecutionSnapshot, StepRun
from pagemill.domain.statuses import ExecutionStatus, StepStatus, wire_status
from pagemill.domain.webhooks import (
    DEFAULT_RETRY_SCHEDULE,
    DeliveryState,
    RetryPolicy,
    SendResult,
    WebhookDelivery,
    check_webhook_url,
    decide,
    due_events,
    encode_body,
    parse_webhook_events,
    retry_schedule_total,
    with_base_url,
)

T0 = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)


def snapshot(
    status: ExecutionStatus,
    steps: list[StepStatus],
    config: dict[str, Any] | None = None,
) -> ExecutionSnapshot:
    execution = Execution(
        pk=1,
        execution_id="pex_abc",
        team_id="team_a",
        pipeline_id="pl_one",
        pipeline_version=2,
        status=status,
        seq=5,
        created=T0,
        input_key="inputs/x",
        config_snapshot={},
        input_config={"webhook_url": "https://hooks.example.com/in", **(config or {})},
        completed_at=T0 + timedelta(seconds=9) if status.value != "running" else None,
    )
    runs = [
        StepRun(
            execution_id="pex_abc",
            step_index=i,
            step_type=["convert", "segment", "extract"][i],
            status=s,
            attempt=1,
            max_attempts=3,
            settings={},
            lookup_key=f"req_{i}",
            finished_at=T0 + timedelta(seconds=i + 1),
        )
        for i, s in enumerate(steps)
    ]
    return ExecutionSnapshot(execution, runs)


def delivery(retries: int = 0, attempt: int = 1) -> WebhookDelivery:
    return WebhookDelivery(
        pk=1,
        delivery_id="whd_one",
        execution_id="pex_abc",
        team_id="team_a",
        event="execution",
        url="https://hooks.example.com/in",
        payload={},
        state=DeliveryState.SENDING,
        attempt=attempt,
        retries=retries,
        created=T0,
    )


# -- what is due -------------------------------------------------------------------------------
def test_a_terminal_execution_is_due_one_webhook_with_the_recommended_payload() -> None:
    events = due_events(snapshot(ExecutionStatus.COMPLETED, [StepStatus.COMPLETED]))
    assert [e.key for e in events] == ["execution"]
    assert events[0].url == "https://hooks.example.com/in"
    assert events[0].payload == {
        "type": "execution.finished",
        "timestamp": "2025-05-01T08:00:09Z",
        "execution_id": "pex_abc",
        "pipeline_id": "pl_one",
        "pipeline_version": 2,
        "status": "completed",
        "cancelled": False,
        "execution_check_url": "/api/v1/pipelines/executions/pex_abc",
        "request_id": "pex_abc",
        "request_check_url": "/api/v1/pipelines/executions/pex_abc",
    }
    assert "webhook_secret" not in events[0].payload  # signed instead


@pytest.mark.parametrize(
    "status",
    [ExecutionStatus.FAILED, ExecutionStatus.COMPLETED_WITH_ERRORS, ExecutionStatus.CANCELLED],
)
def test_every_terminal_status_is_notified(status: ExecutionStatus) -> None:
    events = due_events(snapshot(status, [StepStatus.FAILED]))
    # A cancelled execution is sent as failed (flagged ``cancelled``), like the API shows it.
    assert [(e.key, e.payload["status"]) for e in events] == [("execution", wire_status(status))]


def test_nothing_is_due_without_a_url_or_before_the_end() -> None:
    running = snapshot(ExecutionStatus.RUNNING, [StepStatus.COMPLETED, StepStatus.RUNNING])
    assert due_events(running) == []
    bare = snapshot(ExecutionStatus.COMPLETED, [StepStatus.COMPLETED], {"webhook_url": None})
    assert due_events(bare) == []


def test_step_events_are_opt_in_and_cover_steps_that_ran() -> None:
    config = {"webhook_events": ["execution", "step"]}
    running = snapshot(ExecutionStatus.RUNNING, [StepStatus.COMPLETED, StepStatus.RUNNING], config)
    assert [e.key for e in due_events(running)] == ["step.0"]
    step = due_events(running)[0].payload
    assert (step["type"], step["step_index"], step["step_type"], step["step_status"]) == (
        "execution.step.finished",
        0,
        "convert",
        "completed",
    )
    assert step["step_result_url"] == "/api/v1/pipelines/executions/pex_abc/steps/0/result"
    failed = snapshot(
        ExecutionStatus.FAILED,
        [StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.SKIPPED],
        config,
    )
    assert [e.key for e in due_events(failed)] == ["step.0", "step.1", "execution"]
    only_steps = snapshot(
        ExecutionStatus.COMPLETED, [StepStatus.COMPLETED], {"webhook_events": ["step"]}
    )
    assert [e.key for e in due_events(only_steps)] == ["step.0"]


def test_check_urls_become_absolute_with_a_public_url_and_the_body_is_compact() -> None:
    payload = due_events(snapshot(ExecutionStatus.COMPLETED, [StepStatus.COMPLETED]))[0].payload
    absolute = with_base_url(payload, "https://pm.example.com/")
    assert (
        absolute["execution_check_url"]
        == "https://pm.example.com/api/v1/pipelines/executions/pex_abc"
    )
    assert absolute["request_check_url"] == absolute["execution_check_url"]
    assert with_base_url(payload, None) is payload
    body = encode_body(absolute)
    assert b" " not in body and json.loads(body) == absolute
    assert list(json.loads(body)) == list(absolute)  # key order kept


# -- the retry schedule ------------------------------------------------------------------------
def test_the_default_schedule_backs_off_exponentially_over_about_a_day() -> None:
    schedule = DEFAULT_RETRY_SCHEDULE
    assert schedule[:4] == (5, 30, 120, 600)
    assert all(later >= earlier for earlier, later in itertools.pairwise(schedule))
    assert 20 * 3600 < retry_schedule_total(schedule) <= 24 * 3600


def test_jitter_stays_within_its_band_and_varies() -> None:
    policy = RetryPolicy(jitter=0.2)
    rng = random.Random(7)
    delays = [policy.delay(3, rng) for _ in range(200)]
    assert all(d is not None and 480 <= d <= 720 for d in delays)
    assert len(set(delays)) > 100
    assert RetryPolicy(jitter=0).delay(0, rng) == 5
    assert policy.delay(len(DEFAULT_RETRY_SCHEDULE), rng) is None  # the schedule ran out


def test_retry_after_lengthens_a_delay_up_to_the_longest_one() -> None:
    policy = RetryPolicy(schedule=(5, 60), jitter=0)
    rng = random.Random(1)
    assert policy.delay(0, rng, retry_after=30) == 30
    assert policy.delay(0, rng, retry_after=3) == 5
    assert policy.delay(0, rng, retry_after=99999) == 60


def test_bad_policies_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(schedule=(5, -1))
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=1.0)


# -- after an attempt --------------------------------------------------------------------------
POLICY = RetryPolicy(schedule=(5, 30), jitter=0)


def test_a_2xx_is_delivered() -> None:
    outcome = decide(SendResult(status_code=204), delivery(), 1, T0, POLICY, random.Random())
    assert (outcome.state, outcome.next_attempt_at, outcome.error) == (
        DeliveryState.DELIVERED,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("result", "fragment"),
    [
        (SendResult(status_code=500, body_excerpt="boom\n  trace"), "HTTP 500: boom trace"),
        (SendResult(status_code=404), "HTTP 404."),
        (SendResult(status_code=302), "redirects are not followed"),
        (SendResult(error="No answer within 10 s (timed out)."), "timed out"),
        (SendResult(error="Connection failed: refused"), "Connection failed"),
    ],
)
def test_failures_are_retried_on_schedule(result: SendResult, fragment: str) -> None:
    first = decide(result, delivery(retries=0), 1, T0, POLICY, random.Random())
    assert first.state is DeliveryState.PENDING
    assert first.next_attempt_at == T0 + timedelta(seconds=5) and first.retries == 1
    assert first.error is not None and fragment in first.error
    second = decide(result, delivery(retries=1), 2, T0, POLICY, random.Random())
    assert second.next_attempt_at == T0 + timedelta(seconds=30) and second.retries == 2
    last = decide(result, delivery(retries=2), 3, T0, POLICY, random.Random())
    assert last.state is DeliveryState.FAILED and last.next_attempt_at is None
    assert last.error is not None and "Gave up after 3 attempts" in last.error


def test_410_stops_at_once() -> None:
    outcome = decide(SendResult(status_code=410), delivery(), 1, T0, POLICY, random.Random())
    assert outcome.state is DeliveryState.FAILED and outcome.status_code == 410
    assert outcome.error is not None and "410" in outcome.error


def test_a_refused_url_fails_at_once_with_the_reason() -> None:
    refused = SendResult(error="webhook url points to a private or local address", refused=True)
    outcome = decide(refused, delivery(), 1, T0, POLICY, random.Random())
    assert outcome.state is DeliveryState.FAILED
    assert outcome.error == "Refused: webhook url points to a private or local address"


# -- run options -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "example.com/hook",
        "https://",
        "https://user:pw@example.com/",
        "x" * 5000,
    ],
)
def test_webhook_urls_that_can_never_be_delivered_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        check_webhook_url(url)


def test_a_plain_https_url_is_accepted() -> None:
    check_webhook_url("https://hooks.example.com/in?token=1")
    check_webhook_url("http://[2001:db8::1]:8080/x")


def test_webhook_events_parse() -> None:
    assert parse_webhook_events(None) is None
    assert parse_webhook_events("  ") is None
    assert parse_webhook_events("step, execution") == ["execution", "step"]
    assert parse_webhook_events("step") == ["step"]
    with pytest.raises(InvalidInput, match="'steps'"):
        parse_webhook_events("execution,steps")


def test_a_cancelled_execution_is_sent_as_failed_and_flagged_cancelled() -> None:
    events = due_events(snapshot(ExecutionStatus.CANCELLED, [StepStatus.CANCELLED]))
    assert (events[0].payload["status"], events[0].payload["cancelled"]) == ("failed", True)


def test_a_single_shot_request_is_named_by_its_request_id_and_poll_url() -> None:
    state = snapshot(
        ExecutionStatus.COMPLETED,
        [StepStatus.COMPLETED, StepStatus.COMPLETED],
        {"request": "extract"},
    )
    payload = due_events(state)[-1].payload
    assert payload["request_id"] == "req_1"  # the last step's lookup key
    assert payload["request_check_url"] == "/api/v1/extract/req_1"
    assert payload["execution_check_url"] == "/api/v1/pipelines/executions/pex_abc"
