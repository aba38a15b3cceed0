"""OpenTelemetry traces of executions: the run request opens the trace (joining the caller's
``traceparent``), the execution keeps it in the ledger, and each step attempt is a span of it
with its attributes — on the in-process API with the SDK's in-memory exporter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from pagemill import bootstrap
from pagemill.adapters.otel import OtelTracing
from pagemill.ports.tracing import NoTracing
from pagemill.settings import Settings
from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry

CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def traced(tmp_path: Path, exporter: InMemorySpanExporter) -> AsyncIterator[TestServer]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with test_server(tmp_path / "data", test_registry(), tracing=OtelTracing(provider)) as s:
        yield s


async def run(server: TestServer, steps: list[dict[str, Any]], **headers: str) -> dict[str, Any]:
    created = await server.client.post(
        "/api/v1/pipelines", json={"steps": steps}, headers=server.headers()
    )
    pipeline_id = created.json()["pipeline_id"]
    started = await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/run",
        files={"file": ("a.pdf", b"%PDF-1.4 tiny", "application/pdf")},
        headers={**server.headers(), **headers},
    )
    assert started.status_code == 200, started.text
    execution_id = started.json()["execution_id"]
    for _ in range(500):
        body: dict[str, Any] = (
            await server.client.get(
                f"/api/v1/pipelines/executions/{execution_id}", headers=server.headers()
            )
        ).json()
        if body["status"] in ("completed", "completed_with_errors", "failed", "cancelled"):
            return body
        await asyncio.sleep(0.02)
    raise AssertionError("the execution did not end")


async def spans_of(
    exporter: InMemorySpanExporter, execution_id: str, count: int
) -> list[ReadableSpan]:
    """The execution's ``count`` spans: an attempt's span ends just after its step's end is
    recorded, so the execution may read as ended a moment before."""
    for _ in range(500):
        spans = [
            s
            for s in exporter.get_finished_spans()
            if (s.attributes or {}).get("pagemill.execution_id") == execution_id
        ]
        if len(spans) >= count:
            return spans
        await asyncio.sleep(0.01)
    raise AssertionError(f"{len(spans)} spans of {execution_id}, not {count}")


async def test_one_trace_per_execution_with_a_span_per_step_attempt(
    traced: TestServer, exporter: InMemorySpanExporter
) -> None:
    body = await run(traced, [{"type": "convert"}, {"type": "segment"}], traceparent=CALLER)
    execution_id = body["execution_id"]

    spans = await spans_of(exporter, execution_id, 3)
    run_span = next(s for s in spans if s.name == "pagemill.execution.run")
    steps = sorted(
        (s for s in spans if s.name.startswith("pagemill.step")),
        key=lambda s: s.attributes["pagemill.step.index"],  # type: ignore[index]
    )
    assert body["status"] == "completed"
    # The caller's trace, the run request under the caller's span, every attempt under it.
    trace_id = int(CALLER.split("-")[1], 16)
    assert {s.context.trace_id for s in spans} == {trace_id}
    assert run_span.parent is not None and run_span.parent.span_id == int(CALLER.split("-")[2], 16)
    assert [s.parent.span_id for s in steps if s.parent] == [run_span.context.span_id] * 2
    assert [s.name for s in steps] == ["pagemill.step convert", "pagemill.step segment"]
    first = dict(steps[0].attributes or {})
    assert first["pagemill.step.type"] == "convert"
    assert first["pagemill.step.attempt"] == 1
    assert first["pagemill.outcome"] == "completed"
    assert first["pagemill.cache"] == "miss"
    assert first["pagemill.pages"] == 1
    assert run_span.attributes["pagemill.pipeline_id"] == body["pipeline_id"]  # type: ignore[index]
    # The ledger keeps the context the workers parent their spans to.
    stored = await stored_traceparent(traced, execution_id)
    assert stored is not None
    assert stored.split("-")[2] == f"{run_span.context.span_id:016x}"


async def test_a_retried_attempt_is_a_span_of_its_own_and_ends_in_error(
    traced: TestServer, exporter: InMemorySpanExporter, tmp_path: Path
) -> None:
    marker = tmp_path / "failed-once"

    body = await run(traced, [{"type": "convert", "settings": {"fail_marker": str(marker)}}])

    spans = [
        s
        for s in await spans_of(exporter, body["execution_id"], 3)
        if s.name.startswith("pagemill.step")
    ]
    attempts = sorted(spans, key=lambda s: dict(s.attributes or {})["pagemill.step.attempt"])
    outcomes = [dict(a.attributes or {})["pagemill.outcome"] for a in attempts]
    assert body["status"] == "completed"
    assert outcomes == ["retried", "completed"]
    assert attempts[0].status.status_code is StatusCode.ERROR
    assert attempts[0].status.description == "transient failure"
    assert attempts[1].status.status_code is not StatusCode.ERROR
    assert len({a.context.trace_id for a in attempts}) == 1  # no caller context: a new trace


async def test_without_an_exporter_nothing_is_traced(server: TestServer) -> None:
    body = await run(server, [{"type": "convert"}], traceparent=CALLER)

    assert await stored_traceparent(server, body["execution_id"]) is None


def test_the_exporter_is_configured_by_settings(tmp_path: Path) -> None:
    assert isinstance(bootstrap.open_tracing(Settings(data_dir=tmp_path)), NoTracing)
    configured = bootstrap.open_tracing(
        Settings(data_dir=tmp_path, otel_endpoint="http://127.0.0.1:9/", otel_service_name="pm")
    )
    assert isinstance(configured, OtelTracing)
    configured.close()


async def stored_traceparent(server: TestServer, execution_id: str) -> str | None:
    team = await server.services.teams.team_named("alpha")
    stored = await server.runtime.ledger.executions.get(execution_id, team.id)
    assert stored is not None
    return stored.traceparent
