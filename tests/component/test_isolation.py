"""Tenant isolation, by construction: every route of the app, called by team beta with the ids
of team alpha's things, answers 404 — never 403, never data.

The routes come from ``app.routes``, so a new endpoint is covered the day it is added: a path
parameter this suite cannot fill, or a body it does not know, makes it fail with what to add.
Routes that are not team-scoped are listed in ``NOT_TEAM_SCOPED`` with the reason.
"""

from __future__ import annotations

import string
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from tests.component.test_executions_api import make_pipeline, run, wait_done
from tests.component.test_teams_api import add_member, login
from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry

NOT_TEAM_SCOPED = {
    "/openapi.json": "the API description",
    "/docs": "interactive docs",
    "/docs/oauth2-redirect": "interactive docs",
    "/redoc": "interactive docs",
    "/healthz": "liveness probe",
    "/readyz": "readiness probe",
    "/metrics": "Prometheus scrape",
    "/api/v1/admin/steps": "the operator's admin API (X-Admin-Token), not a team's",
    "/api/v1/auth/login": "sessions: who the user is, before any team",
    "/api/v1/auth/session": "sessions: the user's own session",
    "/api/v1/auth/logout": "sessions: the user's own session",
    "/api/v1/auth/password": "sessions: the user's own password",
    "/api/v1/files/{file_id}/content": "signed URL: the signature is the credential, not a key",
    "/api/v1/workflows/outputs/{team_id}/{execution_id}/{step_index}": "signed URL: the "
    "signature is the credential, not a key (test_workflows_api: a forged one is refused)",
    "/api/v1/auth/invitations": "sessions: invitations addressed to the signed-in user",
    "/api/v1/auth/invitations/{invitation_id}/accept": "sessions: the addressee's own "
    "(test_invitations_api: anyone else's is 404)",
    "/api/v1/auth/invitations/{invitation_id}/decline": "sessions: the addressee's own "
    "(test_invitations_api: anyone else's is 404)",
    "/": "a redirect to the dashboard",
    "/ui": "the dashboard's home: a redirect",
    "/ui/login": "the dashboard's sign-in, before any team",
    "/ui/logout": "the dashboard's sign-out of the browser's own session",
    "/ui/team": "the dashboard's choice among the signed-in user's own teams",
    "/ui/static": "the dashboard's scripts and styles",
}

DEFINITION = {"rules": [{"action": "drop", "match": {"type": "page_footer"}}]}

# Bodies that pass validation, so that the request reaches the team check. Routes not listed
# are called without a body.
_PDF = {"files": {"file": ("a.pdf", b"%PDF-1.4 test", "application/pdf")}}
_STEPS = {"json": {"steps": [{"type": "convert", "settings": {}}]}}
REQUESTS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/pipelines/{pipeline_id}/run"): _PDF,
    ("PUT", "/api/v1/pipelines/{pipeline_id}"): _STEPS,
    ("PUT", "/api/v1/pipelines/{pipeline_id}/save"): {"json": {"name": "mine now"}},
    ("POST", "/api/v1/custom_processors/{processor_id}/iterate"): {
        "json": {"definition": DEFINITION}
    },
    ("POST", "/api/v1/custom_processors/{processor_id}/set_active"): {"data": {"version": "1"}},
    ("POST", "/api/v1/custom_pipelines/{processor_id}/set_active"): {"data": {"version": "1"}},
    ("PUT", "/api/v1/extraction_schemas/{schema_id}"): {"json": {"name": "mine now"}},
    ("PUT", "/api/v1/eval_rubrics/{rubric_id}"): {"json": {"name": "mine now"}},
    ("POST", "/api/v1/workflows/workflows/{workflow_id}/execute"): {
        "json": {"input_config": {"file_urls": ["https://example.com/a.pdf"]}}
    },
    ("PATCH", "/api/v1/teams/current/members/{user_id}"): {"json": {"role": "owner"}},
    ("POST", "/ui/pipelines/{pipeline_id}/discard"): {"data": {"version": "1"}},
    ("PUT", "/api/v1/pipelines/{pipeline_id}/retention"): {"json": {"retention_seconds": 60}},
    ("POST", "/api/v1/pipelines/executions/{execution_id}/rerun"): {"json": {"from_step": 0}},
    ("POST", "/api/v1/collections/{collection_id}/files"): {"json": {"file_ids": [1]}},
    ("POST", "/api/v1/collections/{collection_id}/files/remove"): {"json": {"file_ids": [1]}},
}

SCHEMA = {"type": "object", "properties": {"total": {"type": "number"}}}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with test_server(
        tmp_path / "data", test_registry(), session_cookie_secure=False
    ) as running:
        yield running


def app_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every route, included routers flattened."""
    try:  # FastAPI ≥ 0.16x keeps included routers lazily
        from fastapi.routing import iter_route_contexts

        contexts: Any = iter_route_contexts(app.routes)
    except ImportError:
        contexts = app.routes
    for route in contexts:
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                yield method, route.path


def path_parameters(path: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(path) if name]


async def alpha_world(server: TestServer) -> dict[str, str]:
    """One of each of team alpha's things, by the name of the path parameter that takes it."""
    alpha = server.headers("alpha")
    client = server.client
    pipeline_id = await make_pipeline(server)
    saved = await client.put(
        f"/api/v1/pipelines/{pipeline_id}/save", json={"name": "alpha's"}, headers=alpha
    )
    published = await client.post(f"/api/v1/pipelines/{pipeline_id}/versions", headers=alpha)
    assert (saved.status_code, published.status_code) == (200, 200)
    # The webhook is never sent: loopback is refused (and no socket is opened for it).
    hook = {"webhook_url": "http://127.0.0.1:9/hook"}
    execution_id = (await run(server, pipeline_id, data=hook)).json()["execution_id"]
    lookup_key = (await wait_done(server, execution_id))["steps"][0]["lookup_key"]
    deliveries = await client.get(
        f"/api/v1/pipelines/executions/{execution_id}/webhooks", headers=alpha
    )
    processor = await client.post(
        "/api/v1/custom_processors",
        json={"name": "alpha cp", "definition": DEFINITION},
        headers=alpha,
    )
    schema = await client.post(
        "/api/v1/extraction_schemas", json={"name": "alpha", "schema_json": SCHEMA}, headers=alpha
    )
    upload = await client.post(
        "/api/v1/files/upload",
        json={"filename": "alpha.pdf", "content_type": "application/pdf"},
        headers=alpha,
    )
    rubric = await client.post(
        "/api/v1/eval_rubrics",
        json={
            "name": "alpha",
            "eval_definition": {"rules": [{"type": "field_present", "field": "a"}]},
        },
        headers=alpha,
    )
    put = await client.put(upload.json()["upload_url"], content=b"%PDF-1.4 test")
    confirmed = await client.get(f"/api/v1/files/{upload.json()['file_id']}/confirm", headers=alpha)
    workflow = await client.post(
        "/api/v1/workflows/workflows",
        json={"name": "alpha wf", "steps": [{"step_key": "marker_parse", "unique_name": "p"}]},
        headers=alpha,
    )
    workflow_run = await client.post(
        f"/api/v1/workflows/workflows/{workflow.json()['id']}/execute",
        json={"input_config": {"file_urls": [upload.json()["reference"]]}},
        headers=alpha,
    )
    keys = await client.get("/api/v1/teams/current/keys", headers=alpha)
    member = await add_member(server, "alice@alpha.example", "admin")
    invitation = await client.post(
        "/api/v1/teams/current/invitations", json={"email": "ian@example.com"}, headers=alpha
    )
    assert invitation.status_code == 201, invitation.text
    for response in (
        deliveries,
        processor,
        schema,
        upload,
        keys,
        rubric,
        put,
        confirmed,
        workflow,
        workflow_run,
    ):
        assert response.status_code == 200, response.text
    collection = await client.post("/api/v1/collections", json={"name": "alpha"}, headers=alpha)
    collection_id = collection.json()["id"]
    linked = await client.post(
        f"/api/v1/collections/{collection_id}/files",
        json={"file_ids": [upload.json()["file_id"]]},
        headers=alpha,
    )
    batch_run = await client.post(
        "/api/v1/eval_batch_runs",
        json={"collection_id": collection_id, "pipeline_id": pipeline_id},
        headers=alpha,
    )
    for response in (collection, linked, batch_run):
        assert response.status_code == 200, response.text
    return {
        "collection_id": str(collection_id),
        "run_id": str(batch_run.json()["id"]),
        "pipeline_id": pipeline_id,
        "execution_id": execution_id,
        # A step's lookup key is the request id of the single-shot polls and thumbnails.
        "request_id": lookup_key,
        "lookup_key": lookup_key,
        "delivery_id": deliveries.json()["deliveries"][0]["delivery_id"],
        "step_index": "0",
        "page_index": "0",
        "processor_id": processor.json()["processor_id"],
        "version": "1",
        "schema_id": schema.json()["schema_id"],
        "file_id": str(upload.json()["file_id"]),
        "key_id": keys.json()["keys"][0]["id"],
        "user_id": member["user_id"],
        "invitation_id": invitation.json()["invitation_id"],
        "rubric_id": str(rubric.json()["id"]),
        "workflow_id": str(workflow.json()["id"]),
        "workflow_execution_id": str(workflow_run.json()["execution_id"]),
    }


async def beta_session_headers(server: TestServer) -> dict[str, str]:
    """A beta owner's browser session: the cookie in the client, the CSRF token to send."""
    await add_member(server, "bob@beta.example", "owner", team="beta")
    return {"X-CSRF-Token": await login(server, "bob@beta.example")}


@pytest.mark.parametrize("auth", ["api_key", "session"])
async def test_team_beta_finds_none_of_team_alphas_things(server: TestServer, auth: str) -> None:
    assert server.app is not None
    world = await alpha_world(server)
    numbers = ("step_index", "version", "file_id", "page_index")
    secrets = [v for k, v in world.items() if k not in numbers]
    beta = server.headers("beta") if auth == "api_key" else await beta_session_headers(server)
    checked = 0

    for method, path in app_routes(server.app):
        if path in NOT_TEAM_SCOPED:
            continue
        names = path_parameters(path)
        unknown = [n for n in names if n not in world]
        assert not unknown, (
            f"{method} {path}: add one of team alpha's {unknown} to alpha_world() so that "
            "the isolation suite can call this route"
        )
        request = REQUESTS.get((method, path), {})
        url = path.format(**world)
        response = await server.client.request(method, url, headers=beta, **request)
        where = f"{method} {url} as beta ({auth})"
        if path.startswith("/ui/") and auth == "api_key":
            # The dashboard signs in with a cookie, never an X-API-Key header.
            assert response.status_code == 303, f"{where}: {response.status_code}"
            assert response.headers["location"].startswith("/ui/login"), where
            checked += 1
            continue
        assert response.status_code != 403, f"{where}: 403 tells that the thing exists"
        assert response.status_code < 500, f"{where}: {response.status_code} {response.text}"
        if names:
            assert response.status_code != 422, (
                f"{where}: 422 {response.text} — give the route a valid request in REQUESTS "
                "so that the team check is reached"
            )
            assert response.status_code == 404, f"{where}: {response.status_code} {response.text}"
            if not path.startswith("/ui/"):  # the dashboard answers with a page
                assert set(response.json()) == {"detail"}, where
        else:
            leaked = [s for s in secrets if s in response.text]
            assert not leaked, f"{where} shows team alpha's {leaked}"
        checked += 1

    assert checked >= 40  # the walk really ran over the API
    await assert_alpha_unchanged(server, world)


async def assert_alpha_unchanged(server: TestServer, world: dict[str, str]) -> None:
    """Nothing beta sent changed alpha's things."""
    server.client.cookies.clear()
    alpha = server.headers("alpha")
    reads = {
        f"/api/v1/pipelines/{world['pipeline_id']}": {"name": "alpha's", "archived": False},
        f"/api/v1/custom_processors/{world['processor_id']}": {"active_version": 1},
        f"/api/v1/extraction_schemas/{world['schema_id']}": {"name": "alpha", "archived": False},
        f"/api/v1/files/{world['file_id']}": {},
        f"/api/v1/eval_rubrics/{world['rubric_id']}": {"name": "alpha", "archived": False},
        f"/api/v1/workflows/workflows/{world['workflow_id']}": {"name": "alpha wf"},
        f"/api/v1/workflows/executions/{world['workflow_execution_id']}": {},
        f"/api/v1/pipelines/executions/{world['execution_id']}": {"status": "completed"},
    }
    for url, expected in reads.items():
        response = await server.client.get(url, headers=alpha)
        assert response.status_code == 200, f"{url}: {response.text}"
        body = response.json()
        assert {k: body[k] for k in expected} == expected, url
    keys = await server.client.get("/api/v1/teams/current/keys", headers=alpha)
    assert [k["revoked_at"] for k in keys.json()["keys"]] == [None]
    members = await server.client.get("/api/v1/teams/current/members", headers=alpha)
    assert [(m["user_id"], m["role"]) for m in members.json()["members"]] == [
        (world["user_id"], "admin")
    ]
    invited = await server.client.get("/api/v1/teams/current/invitations", headers=alpha)
    assert [i["invitation_id"] for i in invited.json()["invitations"]] == [world["invitation_id"]]
