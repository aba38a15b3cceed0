"""``pagemill executions``: list, show, watch, fetch results of and cancel executions on a
server."""

from __future__ import annotations

import json as jsonlib
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from pagemill.cli.client import ApiClient
from pagemill.cli.events import Event
from pagemill.cli.follow import follow
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
from pagemill.library import RunProgress

executions_app = typer.Typer(help="Executions (runs) on a server.", no_args_is_help=True)

ExecutionArg = Annotated[str, typer.Argument(help="The execution id (pex_…).")]


def _pages(step: dict[str, Any]) -> str:
    progress = step.get("progress") or {}
    done, total = progress.get("pages_done"), progress.get("pages_total")
    return f"{done}/{total}" if step.get("status") == "running" and total else ""


@executions_app.command("list")
def list_executions(
    pipeline: Annotated[
        str | None,
        typer.Option(help="The pipeline's executions (pl_…); without it, the team's."),
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="Only those in this status (the team's listing).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="At most this many.")] = 20,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many (newest first).")] = 0,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    json: JsonOption = False,
) -> None:
    """List executions, newest first."""

    async def work(api: ApiClient) -> dict[str, Any]:
        return await api.list_executions(pipeline, status=status, limit=limit, offset=offset)

    found = with_api(server, api_key, work)
    executions = found["executions"]
    if json:
        for execution in executions:
            echo_json(execution)
        return
    rows = [
        [
            e["execution_id"],
            e["pipeline_id"],
            e.get("pipeline_version"),
            "cancelled" if e.get("cancelled") is True else e["status"],
            " → ".join(f"{s['step_type']}:{s['status']}" for s in e.get("steps") or []),
            (e.get("input_config") or {}).get("filename"),
            short_time(e.get("created")),
        ]
        for e in executions
    ]
    columns = ("id", "pipeline", "version", "status", "steps", "document", "created")
    print_table(columns, rows, title=f"{len(executions)} of {found['total']} executions")


@executions_app.command("show")
def show(
    execution_id: ExecutionArg,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    json: JsonOption = False,
) -> None:
    """Show an execution and its steps."""
    found = with_api(server, api_key, lambda api: api.get_execution(execution_id))
    if json:
        echo_json(found)
        return
    document = (found.get("input_config") or {}).get("filename")
    typer.echo(
        f"{found['execution_id']}  {found['status']}  pipeline {found['pipeline_id']} "
        f"v{found.get('pipeline_version')}  document {document}"
    )
    rows = [
        [
            s["step_index"],
            s["step_type"],
            s["status"],
            s.get("attempt"),
            (s.get("cache") or {}).get("status"),
            _pages(s),
            short_time(s.get("started_at")),
            short_time(s.get("finished_at")),
            s.get("error_message"),
        ]
        for s in found.get("steps") or []
    ]
    columns = ("step", "type", "status", "attempt", "cache", "pages", "started", "finished")
    print_table((*columns, "error"), rows)


def describe(event: Event) -> str:
    """One line for people about an event."""
    data = event.data
    step = f"step {data.get('step_index')} {data.get('step_type')}"
    attempt = f"attempt {data.get('attempt')}"
    if event.type == "step.progress":
        return f"{step}: {data.get('pages_done')}/{data.get('pages_total')} pages"
    if event.type == "step.started":
        worker = f" on {data['worker']}" if data.get("worker") else ""
        return f"{step} started ({attempt}{worker})"
    if event.type == "step.completed":
        cache = (data.get("cache") or {}).get("status")
        took = f", {data['duration_ms'] / 1000:.1f} s" if data.get("duration_ms") else ""
        return f"{step} completed ({attempt}{took}{f', cache {cache}' if cache else ''})"
    if event.type in ("step.failed", "step.retrying"):
        verb = "failed" if event.type == "step.failed" else "will be retried"
        return f"{step} {verb} ({attempt}): {data.get('error') or 'no reason given'}"
    if event.type == "step.dispatched":
        return f"{step} queued ({attempt})"
    if event.terminal:
        return f"execution {data.get('status')}"
    return event.type


@executions_app.command("watch")
def watch(
    execution_id: ExecutionArg,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    json: JsonOption = False,
) -> None:
    """Follow an execution's events until it ends (its event stream; polling on a server
    without one). Exit code 0 when it completed, 1 otherwise."""

    async def work(api: ApiClient) -> RunProgress | None:
        final = None
        async for event, state in follow(api, execution_id):
            final = state
            if json:
                echo_json(event.as_json())
            else:
                clock = datetime.now().strftime("%H:%M:%S")
                typer.echo(f"{clock}  {describe(event)}")
        return final

    final = with_api(server, api_key, work)
    if final is None or final.status != "completed":
        raise typer.Exit(1)


@executions_app.command("result")
def result(
    execution_id: ExecutionArg,
    step: Annotated[
        int | None, typer.Argument(help="The step's index (default: the last step).")
    ] = None,
    field: Annotated[
        str | None,
        typer.Option(help="Print only this field of the result, e.g. markdown (text as is)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write to this file instead of standard output.")
    ] = None,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Print a step's result (JSON, as the API returns it)."""

    async def work(api: ApiClient) -> bytes:
        index = step
        if index is None:
            index = len((await api.get_execution(execution_id))["steps"]) - 1
        return await api.step_result(execution_id, index)

    body = with_api(server, api_key, work)
    if field is not None:
        value = jsonlib.loads(body).get(field)
        if value is None:
            raise fail(f"the result has no {field!r} (is the step completed?)")
        text = value if isinstance(value, str) else jsonlib.dumps(value, ensure_ascii=False)
        body = text.encode()
    if out is not None:
        out.write_bytes(body)
        typer.echo(f"wrote {out}", err=True)
    else:
        typer.echo(body, nl=not body.endswith(b"\n"))


@executions_app.command("cancel")
def cancel(
    execution_id: ExecutionArg,
    server: ServerOption = None,
    api_key: ApiKeyOption = None,
    json: JsonOption = False,
) -> None:
    """Cancel an execution: steps not started are cancelled, a running one stops at its next
    heartbeat. A finished execution is left as it is."""
    found = with_api(server, api_key, lambda api: api.cancel(execution_id))
    if json:
        echo_json(found)
    else:
        typer.echo(f"{found['execution_id']} {found['status']}")
