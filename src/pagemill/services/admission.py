"""Admission control at submit: pages per request, and pages a team has in flight.

Both limits are checked before anything is queued, and so is the document's format when the
first step converts it: a format whose converter this server lacks (LibreOffice, for legacy
Office and OpenDocument files) is refused (415) rather than queued to fail. The page count is
taken from the document itself (``processors.pages``) and stored on the execution as
``input_config.page_count_at_submit``; a team's pages in flight are those counts summed over
its unfinished executions (pending or running), read from the ledger.

The document is untrusted and counting its pages means parsing it (pdfium, a ZIP directory, a
TIFF's chain of frames), so the count runs in the compute pool — a separate process with a
memory limit — within ``count_timeout_seconds``: a document that crashes its reader, exhausts
its memory or takes too long is refused, and the API process never parses anything.

The in-flight check and the insert of the execution run under a per-team mutex of the
``LimitStore`` — in process for the embedded server, in Redis when a live store URL is set — so
concurrent submits of one team cannot both slip under the limit, through one API process or
through many. (A holder that dies keeps the mutex for its lease, ``LEASE_SECONDS``, at most.)
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from pagemill.domain.errors import Conflict, RateLimited, UnsupportedMediaType
from pagemill.domain.models import NewExecution
from pagemill.ports.blobs import BlobStore
from pagemill.ports.compute import ComputePool, WorkerCrashed
from pagemill.ports.ledger.executions import ExecutionLedger
from pagemill.ports.limits import LimitStore
from pagemill.processors.pages import inspect

# (path, page_range, max_pages, cap, the filename it is converted under or None when the run
# does not convert it) → (pages, why it cannot be converted or None)
Inspector = Callable[[Path, str | None, int | None, int, str | None], tuple[int, str | None]]

PAGE_COUNT_KEY = "page_count_at_submit"
RETRY_AFTER_SECONDS = 30
LEASE_SECONDS = 30.0  # a check and an insert take milliseconds; a lost holder frees it by then
WAIT_SECONDS = 10.0  # a team's submits queue this long for their turn, then get a 429


@dataclass(frozen=True, slots=True)
class AdmissionLimits:
    max_pages_per_request: int = 7000
    max_pages_in_flight: int = 5000
    count_timeout_seconds: float = 30.0


class Admission:
    def __init__(
        self,
        executions: ExecutionLedger,
        blobs: BlobStore,
        limits: AdmissionLimits,
        compute: ComputePool,
        mutexes: LimitStore,
        *,
        inspector: Inspector = inspect,
    ) -> None:
        """``compute`` runs ``inspector`` (``processors.pages.inspect``; tests pass others);
        ``mutexes`` serialize each team's check-and-insert."""
        self._executions = executions
        self._blobs = blobs
        self.limits = limits
        self._compute = compute
        self._mutexes = mutexes
        self._inspector = inspector

    @contextlib.asynccontextmanager
    async def execution(self, new: NewExecution) -> AsyncIterator[NewExecution]:
        """Count the pages of ``new``'s document, check both limits and yield ``new`` with its
        count recorded; create the execution inside the ``async with``."""
        convert = new.step_settings[0] if new.step_types[:1] == ["convert"] else {}
        page_range = new.input_config.get("page_range") or convert.get("page_range")
        max_pages = convert.get("max_pages")
        pages = await self.count(
            new.input_key,
            page_range if isinstance(page_range, str) else None,
            max_pages if isinstance(max_pages, int) and not isinstance(max_pages, bool) else None,
            converted=new.step_types[:1] == ["convert"],
            filename=str(new.input_config.get("filename") or "document"),
        )
        counted = dataclasses.replace(new, input_config={**new.input_config, PAGE_COUNT_KEY: pages})
        async with self.admit(new.team_id, pages):
            yield counted

    async def count(
        self,
        input_key: str,
        page_range: str | None,
        max_pages: int | None,
        *,
        converted: bool = False,
        filename: str = "document",
    ) -> int:
        """The pages the run would process; ``Conflict`` (400) over the per-request limit, or
        when the document cannot be inspected (its reader crashed, ran out of memory or time);
        ``UnsupportedMediaType`` (415) when the document is ``converted`` but cannot be (a
        converter is missing, or ``filename`` names a type that is not converted)."""
        limit = self.limits.max_pages_per_request
        timeout = self.limits.count_timeout_seconds
        async with self._blobs.local_path(input_key) as path:
            try:
                pages, missing = await self._compute.run(
                    self._inspector,
                    path,
                    page_range,
                    max_pages,
                    limit + 1,
                    filename if converted else None,
                    timeout=timeout,
                )
            except TimeoutError:
                raise Conflict(
                    f"The document could not be inspected within {timeout:g} s; it cannot be run."
                ) from None
            except (WorkerCrashed, MemoryError):
                raise Conflict(
                    "Reading the document crashed its reader (or exhausted its memory); "
                    "it cannot be run."
                ) from None
        if missing is not None:
            raise UnsupportedMediaType(missing)
        if pages > limit:
            shown = f"at least {pages:,}" if pages == limit + 1 else f"{pages:,}"
            raise Conflict(
                f"The document has {shown} pages to process and the limit is {limit:,} pages "
                "per request; split it, or send a page_range that selects fewer pages."
            )
        return pages

    @contextlib.asynccontextmanager
    async def admit(self, team_id: str, pages: int) -> AsyncIterator[None]:
        """Hold the team's slot while the execution is created; ``RateLimited`` (429) when the
        team's unfinished executions plus this one would exceed the in-flight limit."""
        async with self._mutexes.hold(
            f"admission:{team_id}", lease_seconds=LEASE_SECONDS, wait_seconds=WAIT_SECONDS
        ) as held:
            if not held:
                raise RateLimited(
                    "Too many submissions of your team at once; please retry.", retry_after=1
                )
            current = await self._executions.pages_in_flight(team_id)
            limit = self.limits.max_pages_in_flight
            # A request larger than the limit itself runs alone rather than never.
            if current + pages > limit and current > 0:
                raise RateLimited(
                    f"Your team has {current:,} pages in flight and this request adds "
                    f"{pages:,} more ({current + pages:,} total, limit {limit:,}). Please wait "
                    "for some executions to finish before submitting more.",
                    retry_after=RETRY_AFTER_SECONDS,
                )
            yield
