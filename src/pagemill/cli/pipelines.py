"""``pagemill pipelines``: list, show, create, publish, versions and archive the pipelines of
a server's team."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from pagemill.cli.client import ApiClient
from pagemill.cli.remote import (
    ApiKeyOption,
    JsonOption,
    ServerOption,
    echo_json,
    fail,
    print_table,
    short_time,
    with_api,
)
from pagemill.domain.errors import InvalidInput
from pagemill.library.pipeline import read_steps

pipelines_app = typer.Typer(help="The pipelines of a server's team.", no_args_is_help=True)

PipelineArg = Annotated[str, typer.Argument(help="The pipeline id (pl_…).")]


def steps_text(steps: list[dict[str, Any]]) -> str:
    return " → ".join(str(step.get("type")) for step in steps)


def steps_of(file: Path) -> list[dict[str, Any]]:
    try:
        return read_steps(file)
    except InvalidInput as error:
        raise fail(error.detail, 2) from error


def _pipeline_rows(pipelines: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            p["pipeline_id"],
            p.get("name") or "",
            steps_text(p.get("steps") or []),
            p.get("active_version") or "draft",
            "yes" if p.get("archived") else "",
            short_time(p.get("updated")),
        ]
        for p in pipelines
    ]


PIPELINE_COLUMNS = ("id", "name", "steps", "version", "archived", "updated")


@pipelines_app.command("list")
def list_pipelines(
    all_: Annotated[
        bool, typer.Option("--all", help="Include unsaved drafts (made by `pagemill run`).")
    ] = False,
    archived: Annotated[bool, typer.Option("--archived", help="Include archived ones.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=200, help="At most this many.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many (newest first).")] = 0,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    json: JsonOption = False,
) -> None:
    """List the team's saved pipelines, newest first."""

    async def work(api: ApiClient) -> dict[str, Any]:
        return await api.list_pipelines(
            saved_only=not all_, include_archived=archived, limit=limit, offset=offset
        )

    found = with_api(server, api_key, work)
    if json:
        for pipeline in found["pipelines"]:
            echo_json(pipeline)
        return
    title = f"{len(found['pipelines'])} of {found['total']} pipelines"
    print_table(PIPELINE_COLUMNS, _pipeline_rows(found["pipelines"]), title=title)


@pipelines_app.command("show")
def show(
    pipeline_id: PipelineArg,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    json: JsonOption = False,
) -> None:
    """Show a pipeline: its name, versions and the steps of its draft."""
    found = with_api(server, api_key, lambda api: api.get_pipeline(pipeline_id))
    if json:
        echo_json(found)
        return
    print_table(PIPELINE_COLUMNS, _pipeline_rows([found]))
    typer.echo(yaml.safe_dump({"steps": found.get("steps") or []}, sort_keys=False).rstrip())


@pipelines_app.command("create")
def create(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="A YAML or JSON file of steps (or {steps: […]})."
        ),
    ],
    name: Annotated[
        str | None, typer.Option(help="Save the pipeline under this name (else a draft).")
    ] = None,
    publish: Annotated[
        bool, typer.Option("--publish", help="Also publish version 1 (implies saving).")
    ] = False,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    json: JsonOption = False,
) -> None:
    """Create a pipeline from a file of steps; print its id."""
    steps = steps_of(file)

    async def work(api: ApiClient) -> dict[str, Any]:
        created = await api.create_pipeline(steps)
        pipeline_id = created["pipeline_id"]
        if name is not None or publish:
            created = await api.save_pipeline(pipeline_id, name or "")
        if publish:
            await api.publish(pipeline_id, None)
            created = await api.get_pipeline(pipeline_id)
        return created

    created = with_api(server, api_key, work)
    if json:
        echo_json(created)
    else:
        typer.echo(created["pipeline_id"])


@pipelines_app.command("publish")
def publish(
    pipeline_id: PipelineArg,
    description: Annotated[str | None, typer.Option(help="What changed.")] = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    json: JsonOption = False,
) -> None:
    """Publish the draft as the next version (runs use it from now on); print its number."""
    version = with_api(server, api_key, lambda api: api.publish(pipeline_id, description))
    if json:
        echo_json(version)
    else:
        typer.echo(version["version"])


@pipelines_app.command("versions")
def versions(
    pipeline_id: PipelineArg,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    json: JsonOption = False,
) -> None:
    """List a pipeline's published versions."""
    found = with_api(server, api_key, lambda api: api.versions(pipeline_id))
    if json:
        for version in found["versions"]:
            echo_json(version)
        return
    rows = [
        [
            v["version"],
            steps_text(v.get("steps") or []),
            v.get("description") or "",
            short_time(v.get("created")),
        ]
        for v in found["versions"]
    ]
    print_table(("version", "steps", "description", "created"), rows, title=pipeline_id)


@pipelines_app.command("archive")
def archive(
    pipeline_id: PipelineArg,
    undo: Annotated[bool, typer.Option("--undo", help="Unarchive it instead.")] = False,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    json: JsonOption = False,
) -> None:
    """Archive a pipeline (it can no longer run; `--undo` brings it back)."""
    changed = with_api(server, api_key, lambda api: api.set_archived(pipeline_id, not undo))
    if json:
        echo_json(changed)
    else:
        state = "archived" if changed.get("archived") else "unarchived"
        typer.echo(f"{state} {changed['pipeline_id']}", err=True)
