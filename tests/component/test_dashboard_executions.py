"""The dashboard's executions list: one ledger query across the team's pipelines, newest first,
a page at a time ("Older executions" follows a cursor), never another team's executions."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.component.test_dashboard import signed_in
from tests.component.test_executions_api import make_pipeline, run, wait_done
from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    # The test client talks plain http: a Secure cookie would never be sent back.
    async with test_server(
        tmp_path / "data", test_registry(), session_cookie_secure=False
    ) as running:
        yield running


async def _runs(server: TestServer, team: str, pipelines: int, each: int) -> list[str]:
    started: list[str] = []
    for _ in range(pipelines):
        pipeline_id = await make_pipeline(server, team=team)
        for i in range(each):
            response = await run(server, pipeline_id, content=f"%PDF-1.4 {i}".encode(), team=team)
            started.append(response.json()["execution_id"])
    for execution_id in started:
        await wait_done(server, execution_id, team)
    return started


def _listed(text: str) -> list[str]:
    return re.findall(r'<a href="/ui/executions/(pex_\w+)">', text)


def _older(text: str) -> str | None:
    found = re.search(r'id="older" href="([^"]+)"', text)
    return html.unescape(found.group(1)) if found else None


async def test_the_list_pages_through_every_pipeline_newest_first(server: TestServer) -> None:
    ours = await _runs(server, "alpha", pipelines=3, each=2)
    theirs = await _runs(server, "beta", pipelines=1, each=2)
    await signed_in(server, "alpha")
    server.services.dashboard.page_size = 4

    first = await server.client.get("/ui/executions")
    older = _older(first.text)
    assert older is not None
    second = await server.client.get(older)

    assert first.status_code == 200 and second.status_code == 200
    listed = _listed(first.text) + _listed(second.text)
    assert len(_listed(first.text)) == 4 and _older(second.text) is None
    assert sorted(listed) == sorted(ours)  # every pipeline's, each once
    team = await server.runtime.ledger.tenancy.team_by_name("alpha")
    assert team is not None
    whole = await server.services.dashboard.recent_executions(team.id, limit=100)
    assert listed == [v.execution.execution_id for v in whole.executions]  # one order
    created = [v.execution.created for v in whole.executions]
    assert created == sorted(created, reverse=True)  # newest first
    assert not set(theirs) & set(listed)


async def test_filters_keep_to_the_team_and_carry_over_to_the_next_page(
    server: TestServer,
) -> None:
    await _runs(server, "alpha", pipelines=1, each=3)
    theirs = await _runs(server, "beta", pipelines=1, each=1)
    await signed_in(server, "alpha")
    server.services.dashboard.page_size = 2

    completed = await server.client.get("/ui/executions", params={"status": "completed"})
    older = _older(completed.text)
    assert older is not None and "status=completed" in older
    rest = await server.client.get(older)
    # Another team's pipeline as the filter finds nothing of theirs.
    beta_pipeline = await server.runtime.ledger.executions.get(theirs[0])
    assert beta_pipeline is not None
    foreign = await server.client.get(
        "/ui/executions", params={"pipeline": beta_pipeline.pipeline_id}
    )
    bad_cursor = await server.client.get("/ui/executions", params={"after": "nonsense"})

    assert len(_listed(completed.text)) == 2 and len(_listed(rest.text)) == 1
    assert _listed(foreign.text) == []
    assert theirs[0] not in foreign.text
    assert bad_cursor.status_code == 422
