"""Tracing: one trace per execution, a span per step attempt.

The API's run request opens the execution's trace (as a child of the caller's ``traceparent``
when the request carries one) and the execution keeps that span's W3C ``traceparent``, so
whichever worker runs a step, on any machine, parents the attempt's span to it. Without a
configured exporter the port is ``NoTracing``: nothing is recorded and no traceparent kept.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping

AttributeValue = str | int | float | bool
Attributes = Mapping[str, AttributeValue | None]  # None: the attribute is left out


class AttemptSpan(ABC):
    """The span of one step attempt, open while the attempt runs."""

    @abstractmethod
    def set(self, attributes: Attributes) -> None:
        """Add attributes (cache outcome, pages, the outcome)."""

    @abstractmethod
    def fail(self, message: str) -> None:
        """Mark the attempt as ended in error."""


class Tracing(ABC):
    @abstractmethod
    def run_request(
        self, attributes: Attributes, parent: str | None = None
    ) -> contextlib.AbstractContextManager[str | None]:
        """The span of a run request, open for the block; yields the traceparent the
        execution keeps (None when nothing is traced). ``parent``: the caller's
        ``traceparent`` header, if any (a malformed one starts a new trace)."""

    @abstractmethod
    def step_attempt(
        self, traceparent: str | None, attributes: Attributes
    ) -> contextlib.AbstractContextManager[AttemptSpan]:
        """The span of a step attempt, a child of the execution's ``traceparent``."""

    def close(self) -> None:
        """Send what is buffered; called once when the process stops."""
        return


class _NoSpan(AttemptSpan):
    def set(self, attributes: Attributes) -> None:
        return None

    def fail(self, message: str) -> None:
        return None


NO_SPAN: AttemptSpan = _NoSpan()


class NoTracing(Tracing):
    """Tracing turned off: no spans, no traceparent."""

    @contextlib.contextmanager
    def run_request(self, attributes: Attributes, parent: str | None = None) -> Iterator[None]:
        yield None

    @contextlib.contextmanager
    def step_attempt(
        self, traceparent: str | None, attributes: Attributes
    ) -> Iterator[AttemptSpan]:
        yield NO_SPAN
