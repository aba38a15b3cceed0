"""Webhooks: which are due, what they say, and what happens after each delivery attempt.

An execution run with a ``webhook_url`` is due one webhook when it reaches a terminal status
(event ``execution``); with ``webhook_events`` including ``step`` (a pagemill extension), also
one per step that completed or failed (event ``step.<index>``). The ledger records each due
webhook as a *delivery* in the transaction that made it due; delivery loops then send it,
retrying with exponential backoff (see :class:`RetryPolicy`) until a 2xx answer, a 410, a URL
the guard refuses, or the end of the schedule.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pagemill.domain.errors import InvalidInput
from pagemill.domain.models import Execution, ExecutionSnapshot, StepRun
from pagemill.domain.statuses import TERMINAL_EXECUTION, ExecutionStatus, StepStatus, wire_status

DELIVERY_PREFIX = "whd_"  # delivery ids; also the ``webhook-id`` header (no '.' allowed there)
EXECUTION_EVENT = "execution"
STEP_EVENT = "step"
EVENT_KINDS = (EXECUTION_EVENT, STEP_EVENT)
EXECUTION_FINISHED = "execution.finished"  # the payload's ``type``
STEP_FINISHED = "execution.step.finished"
_STEP_STATUSES_NOTIFIED = frozenset({StepStatus.COMPLETED, StepStatus.FAILED})
_URL_KEYS = ("execution_check_url", "request_check_url", "step_result_url")
MAX_URL_LENGTH = 4096

# 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h: eleven attempts over ~23.7 hours.
DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (
    5,
    30,
    120,
    600,
    1800,
    3600,
    7200,
    14400,
    28800,
    28800,
)


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its next attempt (``next_attempt_at``)
    SENDING = "sending"  # an attempt is in flight; claimed by one delivery loop
    DELIVERED = "delivered"  # a 2xx answer
    FAILED = "failed"  # given up: 410 Gone, a refused URL, or the retry schedule ran out


FINAL_STATES = frozenset({DeliveryState.DELIVERED, DeliveryState.FAILED})


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A webhook a ledger transition made due; ``key`` is unique per execution."""

    key: str
    url: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    """One attempt in a delivery's log."""

    attempt: int
    started_at: datetime
    duration_ms: int | None
    status_code: int | None  # None: no HTTP answer (see ``error``)
    error: str | None


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    pk: int
    delivery_id: str
    execution_id: str
    team_id: str
    event: str
    url: str
    payload: dict[str, Any]
    state: DeliveryState
    attempt: int  # attempts made so far; a claim takes attempt + 1 (the fence)
    retries: int  # automatic retries scheduled since the delivery was (re)queued
    created: datetime
    next_attempt_at: datetime | None = None  # pending: when due; sending: when the claim lapses
    lease_owner: str | None = None
    claimed_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    finished_at: datetime | None = None
    attempts: tuple[WebhookAttempt, ...] = field(default=())  # filled by log reads only


@dataclass(frozen=True, slots=True)
class WebhookSecret:
    """A team's signing secret; after a rotation the previous one signs too, for a while."""

    team_id: str
    secret: str
    created: datetime
    rotated_at: datetime | None = None
    previous_secret: str | None = None
    previous_expires_at: datetime | None = None

    def signing_secrets(self, now: datetime) -> list[str]:
        keys = [self.secret]
        if (
            self.previous_secret
            and self.previous_expires_at is not None
            and now < self.previous_expires_at
        ):
            keys.append(self.previous_secret)
        return keys


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one POST to a webhook URL came to."""

    status_code: int | None = None  # None: no HTTP answer
    error: str | None = None  # why there was no answer: timeout, connection refused, DNS…
    refused: bool = False  # the URL guard refused the URL: no later attempt can succeed
    duration_seconds: float = 0.0
    retry_after_seconds: float | None = None  # from a Retry-After header (seconds form)
    body_excerpt: str = ""  # the start of the answer's body, for the log

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """What the ledger records when an attempt ends."""

    state: DeliveryState
    next_attempt_at: datetime | None
    retries: int
    status_code: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Delays between attempts: ``schedule[n]`` after the (n+1)-th failure, each multiplied by
    a random factor in ``[1 - jitter, 1 + jitter]``; a Retry-After answer may lengthen a delay
    (up to the longest of the schedule). No attempt after the schedule runs out."""

    schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if any(delay < 0 for delay in self.schedule):
            raise ValueError("webhook retry delays must not be negative")
        if not 0 <= self.jitter < 1:
            raise ValueError("webhook retry jitter must be in [0, 1)")

    def delay(
        self, retries: int, rng: random.Random, retry_after: float | None = None
    ) -> float | None:
        """Seconds until the next attempt after ``retries`` earlier retries; None: give up."""
        if retries >= len(self.schedule):
            return None
        base = self.schedule[retries]
        delay = base * rng.uniform(1 - self.jitter, 1 + self.jitter)
        if retry_after is not None and retry_after > delay:
            delay = min(retry_after, max(self.schedule))
        return max(0.0, delay)


def decide(
    result: SendResult,
    delivery: WebhookDelivery,
    attempt: int,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random,
) -> AttemptOutcome:
    """The state a delivery moves to after ``attempt`` ended with ``result``."""
    code = result.status_code
    if result.delivered:
        return AttemptOutcome(DeliveryState.DELIVERED, None, delivery.retries, code, None)
    if result.refused:
        error = f"Refused: {result.error}" if result.error else "Refused by the URL guard."
        return AttemptOutcome(DeliveryState.FAILED, None, delivery.retries, None, error)
    if code == 410:
        error = "HTTP 410 Gone: the receiver asked for no more attempts."
        return AttemptOutcome(DeliveryState.FAILED, None, delivery.retries, code, error)
    error = describe_failure(result)
    delay = policy.delay(delivery.retries, rng, result.retry_after_seconds)
    if delay is None:
        error = f"{error} Gave up after {attempt} attempt{'s' if attempt != 1 else ''}."
        return AttemptOutcome(DeliveryState.FAILED, None, delivery.retries, code, error)
    return AttemptOutcome(
        DeliveryState.PENDING,
        now + timedelta(seconds=delay),
        delivery.retries + 1,
        code,
        error,
    )


def describe_failure(result: SendResult) -> str:
    if result.status_code is None:
        return result.error or "No answer."
    text = f"HTTP {result.status_code}"
    if 300 <= result.status_code < 400:
        text += " (redirects are not followed: point webhook_url at the final address)"
    excerpt = " ".join(result.body_excerpt.split())[:200]
    return f"{text}: {excerpt}" if excerpt else f"{text}."


# -- what is due -------------------------------------------------------------------------------
def due_events(snapshot: ExecutionSnapshot) -> list[WebhookEvent]:
    """Every webhook this state of the execution calls for (the caller drops those already
    recorded). Step events come first, in step order, then the execution's."""
    execution = snapshot.execution
    url = execution.input_config.get("webhook_url")
    if not url or not isinstance(url, str):
        return []
    kinds = execution.input_config.get("webhook_events") or [EXECUTION_EVENT]
    events: list[WebhookEvent] = []
    if STEP_EVENT in kinds:
        for step in snapshot.steps:
            if step.status in _STEP_STATUSES_NOTIFIED:
                events.append(
                    WebhookEvent(
                        f"{STEP_EVENT}.{step.step_index}", url, step_payload(execution, step)
                    )
                )
    if EXECUTION_EVENT in kinds and execution.status in TERMINAL_EXECUTION:
        events.append(
            WebhookEvent(EXECUTION_EVENT, url, execution_payload(execution, snapshot.steps))
        )
    return events


def execution_check_path(execution_id: str) -> str:
    return f"/api/v1/pipelines/executions/{execution_id}"


def execution_payload(execution: Execution, steps: Sequence[StepRun] = ()) -> dict[str, Any]:
    """The pipeline webhook body: the recommended fields, plus ``type`` and ``timestamp``
    (Standard Webhooks). No secret is echoed: the request is signed instead. A single-shot
    request's (``input_config.request`` names its endpoint) carries its own ``request_id``
    and poll URL, as the hosted single-shot webhooks do."""
    check = execution_check_path(execution.execution_id)
    request_id, request_check = execution.execution_id, check
    endpoint = execution.input_config.get("request")
    if isinstance(endpoint, str) and steps:
        request_id = steps[-1].lookup_key
        request_check = f"/api/v1/{endpoint}/{request_id}"
    return {
        "type": EXECUTION_FINISHED,
        "timestamp": _iso(execution.completed_at),
        "execution_id": execution.execution_id,
        "pipeline_id": execution.pipeline_id,
        "pipeline_version": execution.pipeline_version,
        "status": wire_status(execution.status),
        "cancelled": execution.status is ExecutionStatus.CANCELLED,
        "execution_check_url": check,
        "request_id": request_id,
        "request_check_url": request_check,
    }


def step_payload(execution: Execution, step: StepRun) -> dict[str, Any]:
    check = execution_check_path(execution.execution_id)
    return {
        "type": STEP_FINISHED,
        "timestamp": _iso(step.finished_at),
        "execution_id": execution.execution_id,
        "pipeline_id": execution.pipeline_id,
        "pipeline_version": execution.pipeline_version,
        "status": wire_status(execution.status),
        "step_index": step.step_index,
        "step_type": step.step_type,
        "step_status": step.status.value,
        "step_result_url": f"{check}/steps/{step.step_index}/result",
        "execution_check_url": check,
        "request_id": execution.execution_id,
        "request_check_url": check,
    }


def with_base_url(payload: dict[str, Any], base_url: str | None) -> dict[str, Any]:
    """The payload with its relative URLs made absolute under ``base_url`` (if configured)."""
    if not base_url:
        return payload
    base = base_url.rstrip("/")
    return {
        key: f"{base}{value}"
        if key in _URL_KEYS and isinstance(value, str) and value.startswith("/")
        else value
        for key, value in payload.items()
    }


def encode_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON, keys in payload order."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


# -- run options -------------------------------------------------------------------------------
def check_webhook_url(url: str) -> None:
    """Refuse at run time what can never be delivered; addresses are checked when sending."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"webhook_url is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise InvalidInput(f"webhook_url is not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidInput("webhook_url must be an absolute http or https URL.")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("webhook_url must not contain credentials (user:password@).")


def parse_webhook_events(value: str | None) -> list[str] | None:
    """``webhook_events`` (a pagemill extension): comma-separated ``execution`` and ``step``;
    None (or blank) means the default, ``execution`` only."""
    if value is None or not value.strip():
        return None
    kinds = [part.strip() for part in value.split(",") if part.strip()]
    unknown = sorted(set(kinds) - set(EVENT_KINDS))
    if unknown:
        raise InvalidInput(
            f"webhook_events {', '.join(map(repr, unknown))} not known; use "
            f"{' and/or '.join(EVENT_KINDS)}, comma-separated."
        )
    return [kind for kind in EVENT_KINDS if kind in kinds]


def retry_schedule_total(schedule: Sequence[float]) -> float:
    """Seconds from the first attempt to the last, without jitter."""
    return float(sum(schedule))
