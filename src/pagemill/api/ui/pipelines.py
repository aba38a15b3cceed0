"""Dashboard pages of pipelines: the list, the step editor, versions and the run form."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from pagemill.api.session_auth import CSRF_HEADER, check_browser_csrf
from pagemill.api.ui.common import PREFIX, UiRoute, Viewer, form_of, page, redirect, viewer
from pagemill.domain.errors import Conflict, InvalidInput, NotFound
from pagemill.domain.pipelines import STEP_TYPES

router = APIRouter(prefix=PREFIX, route_class=UiRoute, include_in_schema=False)

DEFAULT_STEPS = [{"type": "convert", "settings": {"output_format": "markdown,json"}}]
MAX_STEPS_TEXT = 256 * 1024


def _steps_from(text: str) -> list[dict[str, Any]]:
    """The steps a form's JSON text holds: a list of steps, or ``{"steps": [...]}``."""
    if len(text) > MAX_STEPS_TEXT:
        raise InvalidInput(f"The steps are limited to {MAX_STEPS_TEXT} characters of JSON.")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"The steps are not valid JSON: {exc}") from exc
    if isinstance(data, dict) and "steps" in data:
        data = data["steps"]
    if not isinstance(data, list) or not all(isinstance(s, dict) for s in data):
        raise InvalidInput("The steps must be a JSON list of step objects.")
    return data


def _pretty(steps: Any) -> str:
    return json.dumps(steps, indent=2, ensure_ascii=False)


@router.get("/pipelines")
async def pipelines(request: Request, archived: bool = False) -> Response:
    who = await viewer(request)
    items, total = await who.services.pipelines.list_pipelines(
        who.team_id, saved_only=False, include_archived=archived, limit=200, offset=0
    )
    return page("pipelines.html", request, who, pipelines=items, total=total, archived=archived)


def _editor(
    request: Request,
    who: Viewer,
    *,
    steps_text: str,
    name: str,
    error: str | None = None,
    status: int = 200,
) -> Response:
    return page(
        "pipeline_new.html",
        request,
        who,
        status,
        steps_text=steps_text,
        name=name,
        error=error,
        step_types=STEP_TYPES,
    )


@router.get("/pipelines/new")
async def new_pipeline(request: Request) -> Response:
    who = await viewer(request)
    return _editor(request, who, steps_text=_pretty(DEFAULT_STEPS), name="")


@router.post("/pipelines")
async def create_pipeline(request: Request) -> Response:
    who = await viewer(request)
    form = await form_of(request, who)
    steps_text = str(form.get("steps", ""))
    name = str(form.get("name", ""))
    try:
        created = await who.services.pipelines.create(who.team_id, _steps_from(steps_text))
    except InvalidInput as exc:
        return _editor(request, who, steps_text=steps_text, name=name, error=exc.detail, status=422)
    await who.services.pipelines.save(who.team_id, created.pipeline_id, name)
    return redirect(f"{PREFIX}/pipelines/{created.pipeline_id}")


async def _pipeline_page(
    request: Request,
    who: Viewer,
    pipeline_id: str,
    *,
    steps_text: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    services = who.services
    found = await services.pipelines.get(who.team_id, pipeline_id)
    versions = await services.pipelines.versions(who.team_id, pipeline_id)
    executions = await services.dashboard.recent_executions(
        who.team_id, pipeline_id=pipeline_id, limit=10
    )
    return page(
        "pipeline.html",
        request,
        who,
        status,
        pipeline=found,
        versions=sorted(versions, key=lambda v: v.version, reverse=True),
        executions=executions.executions,
        steps_text=steps_text if steps_text is not None else _pretty(found.steps),
        error=error,
        step_types=STEP_TYPES,
    )


@router.get("/pipelines/{pipeline_id}")
async def show_pipeline(request: Request, pipeline_id: str) -> Response:
    who = await viewer(request)
    return await _pipeline_page(request, who, pipeline_id)


@router.post("/pipelines/{pipeline_id}")
async def update_pipeline(request: Request, pipeline_id: str) -> Response:
    """Save the draft: its steps and its name."""
    who = await viewer(request)
    form = await form_of(request, who)
    steps_text = str(form.get("steps", ""))
    try:
        await who.services.pipelines.update_steps(who.team_id, pipeline_id, _steps_from(steps_text))
    except InvalidInput as exc:
        return await _pipeline_page(
            request, who, pipeline_id, steps_text=steps_text, error=exc.detail, status=422
        )
    await who.services.pipelines.save(who.team_id, pipeline_id, str(form.get("name", "")))
    return redirect(f"{PREFIX}/pipelines/{pipeline_id}")


@router.post("/pipelines/{pipeline_id}/versions")
async def publish(request: Request, pipeline_id: str) -> Response:
    who = await viewer(request)
    form = await form_of(request, who)
    description = str(form.get("description", "")).strip() or None
    await who.services.pipelines.publish(who.team_id, pipeline_id, description)
    return redirect(f"{PREFIX}/pipelines/{pipeline_id}")


@router.post("/pipelines/{pipeline_id}/discard")
async def discard_draft(request: Request, pipeline_id: str) -> Response:
    """Reset the draft to a published version's steps."""
    who = await viewer(request)
    form = await form_of(request, who)
    wanted = str(form.get("version", ""))
    if not wanted.isdigit() or len(wanted) > 9:
        raise InvalidInput("version must be a published version's number.")
    await who.services.pipelines.discard_draft(who.team_id, pipeline_id, int(wanted))
    return redirect(f"{PREFIX}/pipelines/{pipeline_id}")


@router.post("/pipelines/{pipeline_id}/archive")
async def archive(request: Request, pipeline_id: str) -> Response:
    who = await viewer(request)
    form = await form_of(request, who)
    archived = form.get("archived") == "true"
    await who.services.pipelines.set_archived(who.team_id, pipeline_id, archived)
    return redirect(f"{PREFIX}/pipelines/{pipeline_id}")


@router.post("/api/check-steps")
async def check_steps(request: Request) -> Response:
    """The step editor's check as the user types: every rule a save would apply, nothing
    written. ``{"ok": true, "steps": [...]}`` or ``{"ok": false, "error": "..."}``."""
    who = await viewer(request)
    check_browser_csrf(who.services, who.caller, request.headers.get(CSRF_HEADER))
    body = await request.body()
    try:
        steps = _steps_from(body.decode("utf-8", "replace"))
        checked = await who.services.pipelines.check(who.team_id, steps)
    except (InvalidInput, NotFound, Conflict) as exc:  # a referenced processor or schema
        return JSONResponse({"ok": False, "error": exc.detail})
    return JSONResponse({"ok": True, "steps": checked})
