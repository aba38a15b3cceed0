"""The tracing port, on both adapters: no tracing, and OpenTelemetry (in-memory exporter)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pagemill.adapters.otel import OtelTracing
from pagemill.ports.tracing import NoTracing, Tracing

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture(params=["none", "otel"])
def tracing(request: pytest.FixtureRequest) -> Iterator[Tracing]:
    if request.param == "none":
        yield NoTracing()
        return
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    adapter = OtelTracing(provider)
    yield adapter
    adapter.close()


def test_a_run_request_yields_a_traceparent_or_none(tracing: Tracing) -> None:
    with tracing.run_request({"pagemill.execution_id": "pex_1"}, parent=TRACEPARENT) as kept:
        pass
    with tracing.run_request({"pagemill.execution_id": "pex_2"}, parent="garbage") as fresh:
        pass

    for value in (kept, fresh):
        if isinstance(tracing, NoTracing):
            assert value is None
        else:  # version-trace id-span id-flags, as the W3C format writes it
            assert value is not None
            assert [len(part) for part in value.split("-")] == [2, 32, 16, 2]
    if kept is not None and fresh is not None:
        assert kept.split("-")[1] == TRACEPARENT.split("-")[1]  # the caller's trace
        assert fresh.split("-")[1] != TRACEPARENT.split("-")[1]  # a new one


@pytest.mark.parametrize("traceparent", [None, TRACEPARENT, "not-a-traceparent"])
def test_a_step_attempt_span_takes_attributes_and_failures(
    tracing: Tracing, traceparent: str | None
) -> None:
    with tracing.step_attempt(traceparent, {"pagemill.step.index": 0, "none": None}) as span:
        span.set({"pagemill.outcome": "retried", "pagemill.cache": None})
        span.fail("transient failure")


def test_an_exception_leaves_the_attempt_span_closed(tracing: Tracing) -> None:
    with pytest.raises(RuntimeError), tracing.step_attempt(None, {}):
        raise RuntimeError("boom")
    tracing.close()
