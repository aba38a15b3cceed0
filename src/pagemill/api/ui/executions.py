"""Dashboard pages of executions: the filtered list, and one execution with its live step
timeline and the viewers of its results."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from markdown_it import MarkdownIt

from pagemill.api import wire
from pagemill.api.ui.common import PREFIX, UiRoute, Viewer, form_of, page, redirect, viewer
from pagemill.domain.errors import NotFound
from pagemill.domain.statuses import TERMINAL_EXECUTION, ExecutionStatus, StepStatus
from pagemill.services.dashboard import Extraction
from pagemill.services.executions import ExecutionView

router = APIRouter(prefix=PREFIX, route_class=UiRoute, include_in_schema=False)

MAX_PAGES_SHOWN = 30
MAX_JSON_SHOWN = 300_000  # characters of a result shown as JSON; the API has the rest
PAGE_WIDTH = 700
TERMINAL = frozenset(s.value for s in TERMINAL_EXECUTION)
# Converted documents are shown as Markdown rendered without raw HTML, inside a sandboxed
# frame: what a document says never runs as the dashboard.
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


@router.get("/executions")
async def executions(
    request: Request,
    pipeline: Annotated[str | None, Query(max_length=80)] = None,
    status: Annotated[str | None, Query(max_length=40)] = None,
    after: Annotated[str | None, Query(max_length=120)] = None,
) -> Response:
    who = await viewer(request)
    listed = await who.services.dashboard.recent_executions(
        who.team_id, pipeline_id=pipeline or None, status=status or None, after=after or None
    )
    pipelines, _ = await who.services.pipelines.list_pipelines(
        who.team_id, saved_only=False, include_archived=True, limit=200, offset=0
    )
    return page(
        "executions.html",
        request,
        who,
        executions=listed.executions,
        next_page=listed.next_page,
        pipelines=pipelines,
        pipeline_filter=pipeline or "",
        status_filter=status or "",
        statuses=[s.value for s in ExecutionStatus],
    )


@router.get("/executions/{execution_id}")
async def show_execution(
    request: Request, execution_id: Annotated[str, Path(max_length=80)]
) -> Response:
    who = await viewer(request)
    view = await who.services.executions.get(who.team_id, execution_id)
    body = wire.execution(view)
    viewers = await _viewers(who, view) if body["status"] in TERMINAL else []
    return page(
        "execution.html",
        request,
        who,
        execution=body,
        terminal=body["status"] in TERMINAL,
        viewers=viewers,
        execution_json=json.dumps(body, indent=2),
    )


@router.post("/executions/{execution_id}/cancel")
async def cancel(request: Request, execution_id: Annotated[str, Path(max_length=80)]) -> Response:
    who = await viewer(request)
    await form_of(request, who)
    await who.services.executions.cancel(who.team_id, execution_id)
    return redirect(f"{PREFIX}/executions/{execution_id}")


@router.get("/executions/{execution_id}/pages/{page_index}.jpg")
async def page_image(
    request: Request,
    execution_id: Annotated[str, Path(max_length=80)],
    page_index: Annotated[int, Path(ge=0, le=100_000)],
    width: Annotated[int, Query(ge=16, le=2000)] = PAGE_WIDTH,
) -> Response:
    who = await viewer(request)
    image = await who.services.dashboard.page_image(who.team_id, execution_id, page_index, width)
    return Response(
        image,
        media_type="image/jpeg",
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


async def _viewers(who: Viewer, view: ExecutionView) -> list[dict[str, Any]]:
    """One viewer per completed step, in order."""
    shown: list[dict[str, Any]] = []
    execution_id = view.execution.execution_id
    for step in view.steps:
        if step.status is not StepStatus.COMPLETED:
            continue
        try:
            raw = await who.services.executions.step_result(
                who.team_id, execution_id, step.step_index
            )
        except NotFound as exc:  # the result expired: the other steps are still shown
            shown.append({"index": step.step_index, "type": step.step_type, "missing": exc.detail})
            continue
        result = json.loads(raw) if isinstance(raw, bytes) else dict(raw)
        text = json.dumps(result, indent=2, ensure_ascii=False)
        pages = _page_indexes(view, result)
        item: dict[str, Any] = {
            "index": step.step_index,
            "type": step.step_type,
            "json": text[:MAX_JSON_SHOWN],
            "json_cut": len(text) > MAX_JSON_SHOWN,
            "pages": pages,
        }
        if isinstance(result.get("markdown"), str):
            item["markdown_html"] = _markdown.render(result["markdown"])
        if isinstance(result.get("html"), str):
            item["html"] = result["html"]
        if step.step_type == "extract":
            extraction = await who.services.dashboard.extraction(view, step.step_index, result)
            item["extraction"] = _extraction_view(extraction)
        shown.append(item)
    return shown


def _page_indexes(view: ExecutionView, result: dict[str, Any]) -> list[int]:
    count = result.get("page_count") or view.execution.page_count or 0
    return list(range(min(int(count), MAX_PAGES_SHOWN))) if isinstance(count, int) else []


def _extraction_view(extraction: Extraction) -> dict[str, Any]:
    """Fields, and boxes as percentages of their page, so the overlay scales with the image."""
    fields = []
    boxes: dict[int, list[dict[str, Any]]] = {}
    for number, field in enumerate(extraction.fields):
        value = field.value
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        fields.append(
            {"id": number, "name": field.name, "value": shown, "citations": field.citations}
        )
        for box in field.boxes:
            width, height = extraction.page_sizes[box.page]
            x0, y0, x1, y1 = box.bbox
            boxes.setdefault(box.page, []).append(
                {
                    "field": number,
                    "block_id": box.block_id,
                    "left": round(100 * x0 / width, 3),
                    "top": round(100 * y0 / height, 3),
                    "width": round(100 * (x1 - x0) / width, 3),
                    "height": round(100 * (y1 - y0) / height, 3),
                }
            )
    return {"fields": fields, "pages": sorted(boxes), "boxes": boxes}
