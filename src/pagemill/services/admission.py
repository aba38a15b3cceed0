"""Admission control at submit: pages per request, and pages a team has in flight.

Both limits are checked before anything is queued, and so is the document's format when the
first step converts it: a format whose converter this server lacks (LibreOffice, for legacy
Office and OpenDocument files) is refused (415) rather than queued to fail. The page count is
taken from the document itself (``processors.pages``) and stored on the execution as
``input_config.page_count_at_submit``; a team's pages in flight are those counts summed over
its unfinished executions (pending or running), read from the ledger.

The in-flight check and the insert of the execution run under a per-team lock of this process,
so concurrent submits of one team through one server cannot both slip under the limit; API
processes of a scale-out deployment check independently (a burst may overshoot by a request
per process).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pagemill.domain.errors import Conflict, RateLimited, UnsupportedMediaType
from pagemill.domain.models import NewExecution
from pagemill.ports.blobs import BlobStore
from pagemill.ports.ledger.executions import ExecutionLedger
from pagemill.processors.convert.office.libreoffice import missing_converter
from pagemill.processors.pages import count_pages

PAGE_COUNT_KEY = "page_count_at_submit"
RETRY_AFTER_SECONDS = 30


@dataclass(frozen=True, slots=True)
class AdmissionLimits:
    max_pages_per_request: int = 7000
    max_pages_in_flight: int = 5000


class Admission:
    def __init__(
        self, executions: ExecutionLedger, blobs: BlobStore, limits: AdmissionLimits
    ) -> None:
        self._executions = executions
        self._blobs = blobs
        self.limits = limits
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

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
    ) -> int:
        """The pages the run would process; ``Conflict`` (400) over the per-request limit, and
        ``UnsupportedMediaType`` (415) when the document is ``converted`` but cannot be."""
        async with self._blobs.local_path(input_key) as path:
            missing = await asyncio.to_thread(missing_converter, path) if converted else None
            if missing is not None:
                raise UnsupportedMediaType(missing)
            pages = await asyncio.to_thread(count_pages, path, page_range, max_pages)
        limit = self.limits.max_pages_per_request
        if pages > limit:
            raise Conflict(
                f"The document has {pages:,} pages to process and the limit is {limit:,} pages "
                "per request; split it, or send a page_range that selects fewer pages."
            )
        return pages

    @contextlib.asynccontextmanager
    async def admit(self, team_id: str, pages: int) -> AsyncIterator[None]:
        """Hold the team's slot while the execution is created; ``RateLimited`` (429) when the
        team's unfinished executions plus this one would exceed the in-flight limit."""
        lock = self._locks.get(team_id)
        if lock is None:
            lock = self._locks[team_id] = asyncio.Lock()
        async with lock:
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
