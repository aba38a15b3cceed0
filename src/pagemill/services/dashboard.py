"""What the web dashboard reads beyond the public API: executions across a team's pipelines
(one ledger query, a page at a time),
page images of an execution's input, and the places on the page each extracted value came from.

Everything is scoped to the caller's team: an execution of another team is ``NotFound``, as on
the API.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pagemill.domain.errors import InvalidInput, NotFound, ProcessingError
from pagemill.domain.models import Execution, StepRun
from pagemill.domain.statuses import ExecutionStatus
from pagemill.ports.blobs import BlobStore
from pagemill.ports.ledger.executions import ExecutionCursor, ExecutionLedger
from pagemill.processors.document import Document
from pagemill.processors.thumbnails import thumbnails
from pagemill.services.executions import ExecutionView
from pagemill.services.executor_cache import checkpoint_key

CITATIONS_SUFFIX = "_citations"
EXECUTIONS_PER_PAGE = 100
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ExecutionsPage:
    executions: list[ExecutionView]
    next_page: str | None  # the cursor of the page after this one; None: this is the last


def encode_cursor(cursor: ExecutionCursor) -> str:
    """An opaque page cursor for a URL: microseconds since the epoch, then the execution id."""
    micros = (cursor.created - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{cursor.execution_id}"


def decode_cursor(text: str) -> ExecutionCursor:
    """The cursor ``encode_cursor`` wrote; ``InvalidInput`` for anything else."""
    micros, _, execution_id = text.partition(".")
    if not micros.isdigit() or not execution_id or len(micros) > 20:
        raise InvalidInput(f"Invalid page cursor {text!r}.")
    return ExecutionCursor(_EPOCH + timedelta(microseconds=int(micros)), execution_id)


@dataclass(frozen=True, slots=True)
class CitedBox:
    block_id: str
    page: int  # 0-based page of the input file
    bbox: tuple[float, float, float, float]  # PDF points, origin top left


@dataclass(frozen=True, slots=True)
class ExtractedField:
    name: str  # a top-level field; ``segment / field`` after a segment step
    value: Any
    citations: list[str]  # block ids, as the extract step returned them
    boxes: list[CitedBox]  # the cited blocks found in the upstream document


@dataclass(frozen=True, slots=True)
class Extraction:
    fields: list[ExtractedField]
    page_sizes: dict[int, tuple[float, float]]  # width, height in points, pages with boxes

    @property
    def pages(self) -> list[int]:
        return sorted({box.page for field in self.fields for box in field.boxes})


class DashboardService:
    def __init__(self, executions: ExecutionLedger, blobs: BlobStore) -> None:
        self.page_size = EXECUTIONS_PER_PAGE
        self._executions = executions
        self._blobs = blobs

    async def recent_executions(
        self,
        team_id: str,
        *,
        pipeline_id: str | None = None,
        status: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> ExecutionsPage:
        """A page of the team's executions, newest first, across its pipelines or of one;
        ``status`` keeps those with it (an unknown one, none); ``after``: the ``next_page``
        cursor of the page before; ``limit``: the page's size (``page_size`` when None)."""
        limit = limit or self.page_size
        try:
            wanted = ExecutionStatus(status) if status else None
        except ValueError:
            return ExecutionsPage([], None)
        # One more than the page: whether a next page exists, without counting.
        found = await self._executions.recent(
            team_id,
            pipeline_id=pipeline_id or None,
            status=wanted,
            before=decode_cursor(after) if after else None,
            limit=limit + 1,
        )
        views = [ExecutionView(s.execution, s.steps, "ledger") for s in found[:limit]]
        next_page = None
        if len(found) > limit:
            last = views[-1].execution
            next_page = encode_cursor(ExecutionCursor(last.created, last.execution_id))
        return ExecutionsPage(views, next_page)

    async def _execution(self, team_id: str, execution_id: str) -> Execution:
        found = await self._executions.get(execution_id, team_id)
        if found is None:
            raise NotFound(f"Execution {execution_id} not found")
        return found

    async def page_image(self, team_id: str, execution_id: str, page: int, width: int) -> bytes:
        """A JPEG of one page (0-based) of the execution's input document."""
        execution = await self._execution(team_id, execution_id)
        if execution.page_count is not None and page >= execution.page_count:
            raise NotFound(f"{execution_id} has {execution.page_count} page(s): no page {page}")
        try:
            async with self._blobs.local_path(execution.input_key) as path:
                # Rendering is CPU work: off the event loop.
                images = await asyncio.to_thread(
                    thumbnails, path, page_range=str(page), thumb_width=width
                )
        except NotFound as exc:
            raise NotFound(f"The input document of {execution_id} is no longer stored") from exc
        except (ProcessingError, InvalidInput) as exc:  # a format without pages, say
            raise NotFound(f"There is no image of page {page}: {exc}") from exc
        return base64.b64decode(images[0])

    async def extraction(
        self, view: ExecutionView, step_index: int, result: Mapping[str, Any]
    ) -> Extraction:
        """The fields an extract step filled (``result``: the step's result, read for the
        caller's team as ``view`` was), with the boxes of the blocks each one cites, read from
        the checkpoint of the convert step upstream of it."""
        fields = _fields(result)
        document = await self._upstream_document(view.steps, step_index)
        blocks = {b.block_id: b for b in document.blocks} if document else {}
        filled: list[ExtractedField] = []
        sizes: dict[int, tuple[float, float]] = {}
        for name, value, cited in fields:
            boxes = []
            for block_id in cited:
                block = blocks.get(block_id)
                if block is None or document is None:
                    continue
                size = document.page_size(block.page)
                if size is None:
                    continue
                sizes[block.page] = size
                bbox = tuple(float(x) for x in block.bbox)
                boxes.append(CitedBox(block_id, block.page, (bbox[0], bbox[1], bbox[2], bbox[3])))
            filled.append(ExtractedField(name, value, cited, boxes))
        return Extraction(filled, sizes)

    async def _upstream_document(self, steps: list[StepRun], step_index: int) -> Document | None:
        for step in reversed(steps[:step_index]):
            if step.checkpoint_id:
                try:
                    data = await self._blobs.read_bytes(checkpoint_key(step.checkpoint_id))
                    return Document.from_json_bytes(data)
                except (NotFound, ProcessingError):
                    return None  # expired or unreadable: values are shown without boxes
        return None


def _fields(body: Mapping[str, Any]) -> list[tuple[str, Any, list[str]]]:
    """(name, value, cited block ids) of every filled field of an extract step's result."""
    raw = body.get("extraction_schema_json")
    try:
        data = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return []
    if not isinstance(data, dict):
        return []
    if isinstance(data.get("segments"), list):
        found: list[tuple[str, Any, list[str]]] = []
        for segment in data["segments"]:
            if isinstance(segment, dict) and isinstance(segment.get("data"), dict):
                label = str(segment.get("segment", ""))
                found += [
                    (f"{label} / {name}", value, cited)
                    for name, value, cited in _flat(segment["data"])
                ]
        return found
    return _flat(data)


def _flat(data: Mapping[str, Any]) -> list[tuple[str, Any, list[str]]]:
    found = []
    for name, value in data.items():
        if name.endswith(CITATIONS_SUFFIX):
            continue
        cited = data.get(name + CITATIONS_SUFFIX)
        ids = [str(c) for c in cited] if isinstance(cited, list) else []
        found.append((name, value, ids))
    return found
