"""The dashboard's HTML routes: signing in and out, CSRF on every form, tenancy."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.component.test_dashboard import STEPS, pipeline_total, signed_in
from tests.component.test_executions_api import make_pipeline, run, wait_done
from tests.component.test_teams_api import PASSWORD, add_member, join
from tests.support.app import TestServer, test_server
from tests.support.dashboard import csrf_token, sign_in
from tests.support.processors import test_registry


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    # The test client talks plain http: a Secure cookie would never be sent back.
    async with test_server(
        tmp_path / "data", test_registry(), session_cookie_secure=False
    ) as running:
        yield running


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/ui/pipelines"),
        ("GET", "/ui/pipelines/new"),
        ("GET", "/ui/executions?status=failed"),
        ("GET", "/ui/executions/pex_x"),
        ("GET", "/ui/executions/pex_x/pages/0.jpg"),
        ("POST", "/ui/pipelines"),
        ("POST", "/ui/api/check-steps"),
        ("POST", "/ui/logout"),
    ],
)
async def test_every_page_needs_a_sign_in(server: TestServer, method: str, path: str) -> None:
    response = await server.client.request(method, path)

    assert response.status_code == 303
    target = response.headers["location"]
    assert target.startswith("/ui/login?next=")
    if method == "GET":  # back to the page asked for, once signed in
        assert httpx.URL(target).params["next"] == path


async def test_the_servers_address_opens_the_dashboard(server: TestServer) -> None:
    root = await server.client.get("/")
    home = await server.client.get("/ui")

    assert (root.status_code, root.headers["location"]) == (303, "/ui")
    assert (home.status_code, home.headers["location"]) == (303, "/ui/pipelines")


async def test_an_invalid_cookie_is_sent_to_the_sign_in_page(server: TestServer) -> None:
    server.client.cookies.set("pagemill-key", "pm_not-a-key")
    assert (await server.client.get("/ui/pipelines")).headers["location"].startswith("/ui/login")
    server.client.cookies.clear()
    server.client.cookies.set("wos-session", "u.1.s.sig")
    assert (await server.client.get("/ui/pipelines")).headers["location"].startswith("/ui/login")


async def test_sign_in_with_a_key_sets_a_strict_browser_only_cookie(server: TestServer) -> None:
    response = await sign_in(
        server.client, api_key=server.keys["alpha"], next="/ui/executions?status=failed"
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/ui/executions?status=failed"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("pagemill-key=")
    )
    for flag in ("HttpOnly", "SameSite=strict", "Path=/"):
        assert flag.lower() in cookie.lower(), flag
    assert "expires" not in cookie.lower()  # forgotten when the browser closes
    page = await server.client.get("/ui/pipelines")
    assert page.status_code == 200
    assert "Content-Security-Policy" in page.headers
    assert "Sign out" in page.text
    assert "· team alpha</span>" in page.text


async def test_a_wrong_key_or_password_is_refused(server: TestServer) -> None:
    await add_member(server, "olga@example.com")

    by_key = await sign_in(server.client, api_key="pm_wrong")
    by_password = await sign_in(server.client, email="olga@example.com", password="nope")

    assert by_key.status_code == by_password.status_code == 401
    assert "Invalid API key." in by_key.text
    assert "Invalid email or password." in by_password.text
    assert "pagemill-key" not in server.client.cookies
    assert "wos-session" not in server.client.cookies


async def test_the_sign_in_form_needs_its_own_token(server: TestServer) -> None:
    """Another site cannot post the form to sign a browser in to an account of its choice."""
    response = await server.client.post(
        "/ui/login", data={"login_token": "forged", "api_key": server.keys["alpha"]}
    )

    assert response.status_code == 403
    assert "pagemill-key" not in response.headers.get("set-cookie", "")


async def test_after_sign_in_only_dashboard_paths(server: TestServer) -> None:
    for target in ("//evil.example/ui/", "https://evil.example/", "/api/v1/pipelines"):
        server.client.cookies.clear()
        response = await sign_in(server.client, api_key=server.keys["alpha"], next=target)
        assert response.headers["location"] == "/ui/pipelines", target


async def test_sign_in_with_a_password_is_a_session(server: TestServer) -> None:
    await add_member(server, "olga@example.com")

    response = await sign_in(server.client, email="olga@example.com", password=PASSWORD)

    assert response.status_code == 303
    assert "wos-session" in server.client.cookies
    token = await csrf_token(server.client)
    created = await server.client.post(
        "/ui/pipelines", data={"csrf_token": token, "name": "Mine", "steps": STEPS}
    )
    assert created.status_code == 303
    assert await pipeline_total(server) == 1


async def test_forms_need_the_csrf_token(server: TestServer) -> None:
    token = await signed_in(server)
    pipeline_id = await make_pipeline(server)
    forms = [
        ("/ui/pipelines", {"name": "x", "steps": STEPS}),
        (f"/ui/pipelines/{pipeline_id}", {"name": "x", "steps": STEPS}),
        (f"/ui/pipelines/{pipeline_id}/versions", {}),
        (f"/ui/pipelines/{pipeline_id}/archive", {"archived": "true"}),
        (f"/ui/pipelines/{pipeline_id}/discard", {"version": "1"}),
        ("/ui/logout", {}),
    ]

    for path, fields in forms:
        for forged in ({}, {"csrf_token": "forged"}):
            response = await server.client.post(path, data={**fields, **forged})
            assert response.status_code == 403, (path, forged)
    assert await pipeline_total(server) == 1
    detail = await server.client.get(f"/api/v1/pipelines/{pipeline_id}", headers=server.headers())
    assert detail.json()["active_version"] == 0
    assert not detail.json()["archived"]
    # The same forms with the token go through.
    for path, fields in forms[:-1]:
        response = await server.client.post(path, data={**fields, "csrf_token": token})
        assert response.status_code == 303, (path, response.text)
    assert await pipeline_total(server) == 2


async def test_the_key_cookie_reaches_the_api_with_csrf_for_changes(server: TestServer) -> None:
    """The dashboard's scripts (run form, timeline) call the API with the cookie."""
    token = await signed_in(server)
    body = {"steps": json.loads(STEPS)}

    assert (await server.client.get("/api/v1/pipelines")).status_code == 200
    assert (await server.client.post("/api/v1/pipelines", json=body)).status_code == 403
    created = await server.client.post(
        "/api/v1/pipelines", json=body, headers={"X-CSRF-Token": token}
    )
    assert created.status_code == 200
    # A session's token is not a key's, nor the other way round.
    other = await server.client.post(
        "/api/v1/pipelines", json=body, headers={"X-CSRF-Token": token[:-2] + "xx"}
    )
    assert other.status_code == 403


async def test_sign_out_forgets_the_key(server: TestServer) -> None:
    token = await signed_in(server)

    response = await server.client.post("/ui/logout", data={"csrf_token": token})

    assert response.status_code == 303
    assert "pagemill-key" not in server.client.cookies
    assert (await server.client.get("/ui/pipelines")).status_code == 303


async def test_other_teams_pipelines_and_executions_are_not_found(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server, team="alpha")
    execution = (await run(server, pipeline_id, team="alpha")).json()
    await wait_done(server, execution["execution_id"], team="alpha")
    execution_id = execution["execution_id"]
    token = await signed_in(server, "beta")

    for path in (
        f"/ui/pipelines/{pipeline_id}",
        f"/ui/executions/{execution_id}",
        f"/ui/executions/{execution_id}/pages/0.jpg",
    ):
        response = await server.client.get(path)
        assert response.status_code == 404, path
        assert execution_id not in response.text or "not found" in response.text
    changed = await server.client.post(
        f"/ui/pipelines/{pipeline_id}/versions", data={"csrf_token": token}
    )
    cancelled = await server.client.post(
        f"/ui/executions/{execution_id}/cancel", data={"csrf_token": token}
    )
    listing = await server.client.get("/ui/executions")
    filtered = await server.client.get("/ui/executions", params={"pipeline": pipeline_id})

    assert changed.status_code == cancelled.status_code == 404
    assert execution_id not in listing.text
    assert execution_id not in filtered.text


async def test_a_user_in_two_teams_switches_between_them(server: TestServer) -> None:
    await add_member(server, "olga@example.com", "admin", team="alpha")
    await join(server, "olga@example.com", "member", team="beta")
    beta_pipeline = await make_pipeline(server, team="beta")

    await sign_in(server.client, email="olga@example.com", password=PASSWORD)
    token = await csrf_token(server.client)
    first = await server.client.get("/ui/pipelines")
    refused = await server.client.post(
        "/ui/team", data={"csrf_token": token, "team_id": "team_elsewhere"}
    )
    beta_id = re.findall(r'<option value="(team_\w+)" >beta</option>', first.text)
    switched = await server.client.post(
        "/ui/team", data={"csrf_token": token, "team_id": beta_id[0]}
    )
    then = await server.client.get("/ui/pipelines")

    assert "olga@example.com · team alpha" in first.text
    assert beta_pipeline not in first.text
    assert refused.status_code == 403
    assert switched.status_code == 303
    assert "olga@example.com · team beta" in then.text
    assert beta_pipeline in then.text


async def test_a_user_who_joins_a_second_team_keeps_working(server: TestServer) -> None:
    """Signed in with one team, then in two (no team chosen yet): the pages pick the first."""
    await add_member(server, "olga@example.com", "admin", team="alpha")
    await sign_in(server.client, email="olga@example.com", password=PASSWORD)
    session = server.client.cookies["wos-session"]
    await join(server, "olga@example.com", "member", team="beta")  # logs in and out itself
    server.client.cookies.clear()
    server.client.cookies.set("wos-session", session)

    first = await server.client.get("/ui/executions?status=failed")
    then = await server.client.get("/ui/executions?status=failed")

    assert first.status_code == 303
    assert first.headers["location"] == "/ui/executions?status=failed"
    assert "datalab_active_team=team_" in first.headers["set-cookie"]
    assert then.status_code == 200
    assert "olga@example.com · team alpha" in then.text
