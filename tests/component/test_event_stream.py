"""An execution's event stream (Server-Sent Events) on the embedded default."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pagemill.cli.client import ApiClient
from pagemill.cli.follow import follow
from tests.component.test_executions_api import make_pipeline, run, wait_done
from tests.component.test_teams_api import add_member, login
from tests.support.app import TestServer, test_server
from tests.support.events import EVENTS, id_key, read_stream, stream_blocks, summary
from tests.support.processors import test_registry
from tests.support.streaming import StreamingASGITransport, streaming_client

TWO_STEPS = [{"type": "convert", "settings": {}}, {"type": "segment", "settings": {}}]
HISTORY = [
    ("step.dispatched", 0),
    ("step.started", 0),
    ("step.completed", 0),
    ("step.dispatched", 1),
    ("step.started", 1),
    ("step.completed", 1),
    ("execution.completed", None),
]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with test_server(
        tmp_path / "data", test_registry(), session_cookie_secure=False
    ) as running:
        yield running


async def finished_run(server: TestServer, steps: list[dict[str, object]] | None = None) -> str:
    pipeline_id = await make_pipeline(server, steps or TWO_STEPS)
    execution_id = str((await run(server, pipeline_id)).json()["execution_id"])
    await wait_done(server, execution_id)
    return execution_id


async def test_a_finished_execution_replays_its_history_and_the_stream_ends(
    server: TestServer,
) -> None:
    execution_id = await finished_run(server)
    events, _ = await read_stream(server.client, execution_id, server.headers())

    assert summary(events) == HISTORY
    ids = [id_key(e.id) for e in events]
    assert ids == sorted(set(ids)), "every event has its own, increasing id"
    for event in events:
        assert event.data["execution_id"] == execution_id
        assert {"step_index", "step_type", "status"} <= event.data.keys()
    completed = events[2].data
    assert completed["step_type"] == "convert" and completed["status"] == "completed"
    assert completed["lookup_key"] and completed["checkpoint_id"].startswith("ckpt_")
    assert completed["cache"]["status"] == "miss"
    assert completed["result_url"].endswith(f"/executions/{execution_id}/steps/0/result")
    assert completed["attempt"] == 1 and completed["finished_at"]
    result = await server.client.get(completed["result_url"], headers=server.headers())
    assert result.json()["lookup_key"] == completed["lookup_key"]
    end = events[-1].data
    assert end["status"] == "completed"
    assert [(s["step_type"], s["status"]) for s in end["steps"]] == [
        ("convert", "completed"),
        ("segment", "completed"),
    ]


async def test_last_event_id_resumes_with_no_gap_and_no_duplicate(server: TestServer) -> None:
    execution_id = await finished_run(server)
    everything, _ = await read_stream(server.client, execution_id, server.headers())
    for cut, seen in enumerate(everything[:-1]):
        rest, _ = await read_stream(server.client, execution_id, server.headers(), seen.id)
        assert everything[: cut + 1] + rest == everything, f"resumed after {seen.id}"
    by_query = await server.client.get(
        EVENTS.format(execution_id), params={"after": everything[3].id}, headers=server.headers()
    )
    assert by_query.text.count("\nevent: ") == len(everything) - 4


async def test_another_team_and_no_key_get_no_stream(server: TestServer) -> None:
    execution_id = await finished_run(server)
    other = await server.client.get(EVENTS.format(execution_id), headers=server.headers("beta"))
    anonymous = await server.client.get(EVENTS.format(execution_id))
    unknown = await server.client.get(EVENTS.format("pex_unknown"), headers=server.headers())
    assert (other.status_code, anonymous.status_code, unknown.status_code) == (404, 401, 404)
    assert other.json() == {"detail": f"Execution {execution_id} not found"}  # as if unknown


async def test_a_malformed_last_event_id_is_422(server: TestServer) -> None:
    execution_id = await finished_run(server)
    response = await server.client.get(
        EVENTS.format(execution_id), headers={**server.headers(), "Last-Event-ID": "soon"}
    )
    assert response.status_code == 422
    assert "Last-Event-ID" in response.json()["detail"][0]["msg"]


async def test_the_dashboard_session_cookie_opens_the_stream(server: TestServer) -> None:
    execution_id = await finished_run(server)
    await add_member(server, "ana@example.com")
    await login(server, "ana@example.com")  # the client keeps the cookie
    events, _ = await read_stream(server.client, execution_id, {})
    assert summary(events) == HISTORY


async def test_expired_live_events_are_derived_from_the_ledger(tmp_path: Path) -> None:
    # A finished execution leaves the live store at once: the history comes from the ledger.
    async with test_server(
        tmp_path / "data", test_registry(), live_ttl_after_finish_seconds=0
    ) as server:
        execution_id = await finished_run(server)
        for _ in range(100):  # the final snapshot reaches the live store just after the commit
            events, _ = await read_stream(server.client, execution_id, server.headers())
            if events[0].id == "0-0":
                break
            await asyncio.sleep(0.02)
        assert summary(events) == HISTORY
        assert [e.id for e in events] == [f"0-{k}" for k in range(len(HISTORY))]
        assert events[2].data["checkpoint_id"].startswith("ckpt_")
        rest, _ = await read_stream(server.client, execution_id, server.headers(), "0-3")
        assert rest == events[4:]


async def test_a_live_stream_follows_progress_retries_and_keeps_alive(tmp_path: Path) -> None:
    marker = tmp_path / "failed-once"
    steps = [{"type": "convert", "settings": {"fail_marker": str(marker), "sleep": 0.6}}]
    async with test_server(
        tmp_path / "data", test_registry(), events_keep_alive_seconds=0.2
    ) as server:
        pipeline_id = await make_pipeline(server, steps)
        execution_id = str((await run(server, pipeline_id)).json()["execution_id"])
        async with streaming_client(server.app) as client:  # type: ignore[arg-type]
            blocks = [b async for b in stream_blocks(client, execution_id, server.headers())]
    events = [b for b in blocks if "\nevent: " in b]
    kinds = [line.split(": ", 1)[1] for b in events for line in b.splitlines() if "event:" in line]
    assert kinds == [
        "step.dispatched",
        "step.started",
        "step.retrying",
        "step.dispatched",
        "step.started",
        "step.completed",
        "execution.completed",
    ]
    assert '"error":"transient failure"' in events[2] and '"attempt":2' in events[2]
    assert ": keep-alive" in blocks, "an idle stream sends keep-alive comments"
    assert blocks[0] == "retry: 1000"


async def test_the_cli_follows_the_stream_and_resumes_after_a_break(server: TestServer) -> None:
    steps = [{"type": "convert", "settings": {"sleep": 0.3}}, {"type": "segment", "settings": {}}]
    pipeline_id = await make_pipeline(server, steps)
    execution_id = str((await run(server, pipeline_id)).json()["execution_id"])
    transport = StreamingASGITransport(server.app)  # type: ignore[arg-type]
    async with ApiClient("http://pagemill.test", server.keys["alpha"], transport=transport) as api:
        seen = [(e.type, e.id, s.status) async for e, s in follow(api, execution_id)]
    assert [t for t, _, _ in seen] == [kind for kind, _ in HISTORY]
    assert all(event_id is not None for _, event_id, _ in seen), "the server's stream was used"
    assert seen[-1][2] == "completed"


async def test_many_watchers_of_one_running_execution_see_the_same_events(
    server: TestServer,
) -> None:
    steps = [{"type": "convert", "settings": {"sleep": 0.3}}, {"type": "segment", "settings": {}}]
    pipeline_id = await make_pipeline(server, steps)
    execution_id = str((await run(server, pipeline_id)).json()["execution_id"])
    async with streaming_client(server.app) as client:  # type: ignore[arg-type]

        async def watch() -> list[str]:
            return [
                b
                async for b in stream_blocks(client, execution_id, server.headers())
                if "\nevent: " in b
            ]

        watched = await asyncio.gather(*(watch() for _ in range(5)))
    assert all(w == watched[0] for w in watched)
    assert len(watched[0]) == len(HISTORY)
