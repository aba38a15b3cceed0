"""The dashboard's HTML routes: pipelines, the step check, executions and their viewers."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.component.test_executions_api import make_pipeline, run, wait_done
from tests.support.app import TestServer, test_server
from tests.support.dashboard import csrf_token, sign_in
from tests.support.processors import test_registry

STEPS = json.dumps([{"type": "convert", "settings": {}}, {"type": "segment", "settings": {}}])


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    # The test client talks plain http: a Secure cookie would never be sent back.
    async with test_server(
        tmp_path / "data", test_registry(), session_cookie_secure=False
    ) as running:
        yield running


async def signed_in(server: TestServer, team: str = "alpha") -> str:
    """Sign the client in with the team's key; return the CSRF token of its pages."""
    server.client.cookies.clear()
    response = await sign_in(server.client, api_key=server.keys[team])
    assert response.status_code == 303, response.text
    return await csrf_token(server.client)


async def pipeline_total(server: TestServer, team: str = "alpha") -> int:
    response = await server.client.get(
        "/api/v1/pipelines",
        params={"saved_only": "false", "include_archived": "true"},
        headers=server.headers(team),
    )
    return int(response.json()["total"])


async def test_the_step_check_answers_with_the_servers_rules(server: TestServer) -> None:
    token = await signed_in(server)
    headers = {"X-CSRF-Token": token}

    async def check(steps: object) -> dict[str, object]:
        response = await server.client.post(
            "/ui/api/check-steps", content=json.dumps(steps), headers=headers
        )
        assert response.status_code == 200
        body: dict[str, object] = response.json()
        return body

    valid = await check([{"type": "convert", "settings": {}}])
    extract_first = await check([{"type": "extract", "settings": {}}])
    unknown = await check([{"type": "convert"}, {"type": "summarize"}])
    not_a_list = await check({"type": "convert"})
    unavailable = await check(
        [{"type": "convert"}, {"type": "custom", "custom_processor_id": "cp_nothing"}]
    )

    assert valid == {"ok": True, "steps": [{"type": "convert", "settings": {}}]}
    assert extract_first["ok"] is False
    assert "convert" in str(extract_first["error"])
    assert "unknown step type 'summarize'" in str(unknown["error"])
    assert not_a_list["ok"] is False
    assert unavailable["ok"] is False  # what this server runs is checked too
    assert "not available on this server" in str(unavailable["error"])
    assert await pipeline_total(server) == 0  # checking writes nothing
    forged = await server.client.post("/ui/api/check-steps", content="[]")
    assert forged.status_code == 403


async def test_an_invalid_draft_is_shown_again_with_the_reason(server: TestServer) -> None:
    token = await signed_in(server)
    steps = '[{"type": "extract"}]'

    response = await server.client.post(
        "/ui/pipelines", data={"csrf_token": token, "name": "x", "steps": steps}
    )

    assert response.status_code == 422
    assert "The first step must be" in response.text or "convert" in response.text
    assert "[{&#34;type&#34;: &#34;extract&#34;}]" in response.text  # kept, escaped
    assert await pipeline_total(server) == 0


async def test_pipeline_pages_create_save_publish_and_list(server: TestServer) -> None:
    token = await signed_in(server)

    created = await server.client.post(
        "/ui/pipelines", data={"csrf_token": token, "name": "Invoices", "steps": STEPS}
    )
    pipeline_id = created.headers["location"].rsplit("/", 1)[-1]
    await server.client.post(
        f"/ui/pipelines/{pipeline_id}/versions", data={"csrf_token": token, "description": "v1"}
    )
    listing = await server.client.get("/ui/pipelines")
    detail = await server.client.get(f"/ui/pipelines/{pipeline_id}")

    assert created.status_code == 303
    assert "Invoices" in listing.text
    assert "convert → segment" in listing.text
    assert detail.status_code == 200
    assert "version 1 is active" in detail.text
    assert f'data-run-form="/api/v1/pipelines/{pipeline_id}/run"' in detail.text
    api = await server.client.get(f"/api/v1/pipelines/{pipeline_id}", headers=server.headers())
    assert api.json()["name"] == "Invoices"
    assert api.json()["active_version"] == 1

    # Change the draft, then reset it to version 1.
    one_step = json.dumps([{"type": "convert", "settings": {}}])
    await server.client.post(
        f"/ui/pipelines/{pipeline_id}",
        data={"csrf_token": token, "name": "Invoices", "steps": one_step},
    )
    changed = await server.client.get(f"/api/v1/pipelines/{pipeline_id}", headers=server.headers())
    reset = await server.client.post(
        f"/ui/pipelines/{pipeline_id}/discard", data={"csrf_token": token, "version": "1"}
    )
    after = await server.client.get(f"/api/v1/pipelines/{pipeline_id}", headers=server.headers())
    unknown = await server.client.post(
        f"/ui/pipelines/{pipeline_id}/discard", data={"csrf_token": token, "version": "7"}
    )
    assert [s["type"] for s in changed.json()["steps"]] == ["convert"]
    assert reset.status_code == 303
    assert [s["type"] for s in after.json()["steps"]] == ["convert", "segment"]
    assert unknown.status_code == 404


async def test_executions_list_filters_by_pipeline_and_status(server: TestServer) -> None:
    await signed_in(server)
    ok = await make_pipeline(server)
    bad = await make_pipeline(server, [{"type": "convert", "settings": {"fail": "boom"}}])
    done = (await run(server, ok)).json()["execution_id"]
    failed = (await run(server, bad)).json()["execution_id"]
    await wait_done(server, done)
    await wait_done(server, failed)

    everything = await server.client.get("/ui/executions")
    only_failed = await server.client.get("/ui/executions", params={"status": "failed"})
    only_ok = await server.client.get("/ui/executions", params={"pipeline": ok})

    assert done in everything.text and failed in everything.text
    assert failed in only_failed.text and done not in only_failed.text
    assert done in only_ok.text and failed not in only_ok.text


async def test_execution_page_shows_the_timeline_and_results(server: TestServer) -> None:
    await signed_in(server)
    pipeline_id = await make_pipeline(
        server, [{"type": "convert", "settings": {}}, {"type": "segment", "settings": {}}]
    )
    execution_id = (await run(server, pipeline_id)).json()["execution_id"]
    await wait_done(server, execution_id)

    page = await server.client.get(f"/ui/executions/{execution_id}")

    assert page.status_code == 200
    rows = re.findall(r'<tr data-step="(\d)" class="step-(\w+)">', page.text)
    assert rows == [("0", "completed"), ("1", "completed")]
    assert 'data-terminal="true"' in page.text
    assert 'id="step-0"' in page.text and 'id="step-1"' in page.text
    # The converted Markdown is shown in a sandboxed frame, never inline.
    assert re.search(
        r'<iframe class="rendered" sandbox [^>]*srcdoc="&lt;p&gt;report.pdf', page.text
    )


async def test_a_document_cannot_script_the_dashboard(server: TestServer) -> None:
    await signed_in(server)
    pipeline_id = await make_pipeline(server)
    response = await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/run",
        files={"file": ("<img src=x onerror=alert(1)>.pdf", b"%PDF-1.4", "application/pdf")},
        headers=server.headers(),
    )
    execution_id = response.json()["execution_id"]
    await wait_done(server, execution_id)

    page = await server.client.get(f"/ui/executions/{execution_id}")
    listing = await server.client.get("/ui/executions")

    for html in (page.text, listing.text):
        assert "<img src=x" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in html


async def test_extraction_view_places_each_citation_on_its_page(tmp_path: Path) -> None:
    """With the real processors: values, the blocks they cite, and boxes on the page image."""
    from docgen.pdfgen import make_pdf
    from pagemill.processors.registry import ProcessorRegistry

    pdf = make_pdf(
        tmp_path / "invoice.pdf",
        [[("h1", "Invoice"), ("p", "Invoice number: INV-2041"), ("p", "Total due: 99.50 EUR")]],
    )
    schema = {
        "type": "object",
        "properties": {
            "invoice_number": {"type": "string", "description": "The invoice number"},
            "total_due": {"type": "number", "description": "Total due"},
        },
    }
    steps = [
        {"type": "convert", "settings": {}},
        {"type": "extract", "settings": {"page_schema": schema}},
    ]
    async with test_server(
        tmp_path / "data", ProcessorRegistry.builtin(), session_cookie_secure=False
    ) as server:
        await signed_in(server)
        pipeline_id = await make_pipeline(server, steps)
        execution_id = (await run(server, pipeline_id, content=pdf.read_bytes())).json()[
            "execution_id"
        ]
        assert (await wait_done(server, execution_id))["status"] == "completed"

        page = await server.client.get(f"/ui/executions/{execution_id}")
        image = await server.client.get(f"/ui/executions/{execution_id}/pages/0.jpg?width=200")
        missing = await server.client.get(f"/ui/executions/{execution_id}/pages/5.jpg")

    assert page.status_code == 200
    fields = dict(re.findall(r"<td>(\w+)</td><td class=\"value\">([^<]*)</td>", page.text))
    assert fields == {"invoice_number": "INV-2041", "total_due": "99.5"}
    boxes = re.findall(
        r'<span class="box" data-field="(\d+)" title="(/page/0/[^"]+)"\s+'
        r'data-left="([\d.]+)" data-top="([\d.]+)" data-width="([\d.]+)" data-height="([\d.]+)"',
        page.text,
    )
    assert sorted(b[0] for b in boxes) == ["0", "1"]
    for _, _, left, top, width, height in boxes:
        assert 0 <= float(left) < 100 and 0 <= float(top) < 50  # the top half of the page
        assert 0 < float(width) <= 100 and 0 < float(height) < 20
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/jpeg"
    assert image.content.startswith(b"\xff\xd8")
    assert missing.status_code == 404


async def test_the_timeline_shows_a_retried_step(server: TestServer, tmp_path: Path) -> None:
    await signed_in(server)
    marker = tmp_path / "failed-once"
    pipeline_id = await make_pipeline(
        server, [{"type": "convert", "settings": {"fail_marker": str(marker)}}]
    )
    execution_id = (await run(server, pipeline_id)).json()["execution_id"]
    await wait_done(server, execution_id)

    page = await server.client.get(f"/ui/executions/{execution_id}")

    assert '<td class="c-attempt">2 (retried)</td>' in page.text
    assert '<tr data-step="0" class="step-completed">' in page.text


async def test_an_expired_result_leaves_the_rest_of_the_page(server: TestServer) -> None:
    await signed_in(server)
    pipeline_id = await make_pipeline(
        server, [{"type": "convert", "settings": {}}, {"type": "segment", "settings": {}}]
    )
    execution_id = (await run(server, pipeline_id)).json()["execution_id"]
    await wait_done(server, execution_id)
    steps = await server.runtime.ledger.executions.steps(execution_id)
    assert steps[0].result_key
    (server.settings.blob_root() / steps[0].result_key).unlink()

    page = await server.client.get(f"/ui/executions/{execution_id}")

    assert page.status_code == 200
    assert f"The result of step 0 of {execution_id} was not found or expired" in page.text
    assert 'id="step-1"' in page.text and '<pre class="json">' in page.text


async def test_the_timeline_shows_cache_hits(server: TestServer) -> None:
    await signed_in(server)
    pipeline_id = await make_pipeline(server)
    first = (await run(server, pipeline_id)).json()["execution_id"]
    await wait_done(server, first)
    second = (await run(server, pipeline_id)).json()["execution_id"]
    await wait_done(server, second)

    before = await server.client.get(f"/ui/executions/{first}")
    after = await server.client.get(f"/ui/executions/{second}")

    assert '<td class="c-cache">miss</td>' in before.text
    assert '<td class="c-cache">hit</td>' in after.text


async def test_pages_load_only_the_packaged_script_and_styles(server: TestServer) -> None:
    await signed_in(server)

    page = await server.client.get("/ui/pipelines/new")
    script = await server.client.get("/ui/static/app.js")
    styles = await server.client.get("/ui/static/app.css")

    assert re.findall(r'<script src="([^"]+)"', page.text) == ["/ui/static/app.js"]
    assert "<script>" not in page.text  # nothing inline: the policy would refuse it
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert script.status_code == styles.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "initEditor" in script.text and "EventSource" in script.text


async def test_html_output_is_shown_sandboxed_beside_the_pages(tmp_path: Path) -> None:
    from docgen.pdfgen import make_pdf
    from pagemill.processors.registry import ProcessorRegistry

    pdf = make_pdf(tmp_path / "a.pdf", [[("h1", "Quarterly report")], [("p", "Page two.")]])
    async with test_server(
        tmp_path / "data", ProcessorRegistry.builtin(), session_cookie_secure=False
    ) as server:
        await signed_in(server)
        pipeline_id = await make_pipeline(
            server, [{"type": "convert", "settings": {"output_format": "html"}}]
        )
        execution_id = (await run(server, pipeline_id, content=pdf.read_bytes())).json()[
            "execution_id"
        ]
        await wait_done(server, execution_id)
        page = await server.client.get(f"/ui/executions/{execution_id}")

    frame = re.search(r'<iframe class="rendered" sandbox [^>]*srcdoc="([^"]*)"', page.text)
    assert frame, page.text
    # The step's html, escaped into the frame's srcdoc (there is no markdown in this result).
    shown = frame.group(1)
    assert shown.startswith("&lt;") and "<" not in shown
    assert "Quarterly report" in shown and "Page two." in shown
    images = re.findall(rf'src="/ui/executions/{execution_id}/pages/(\d+).jpg"', page.text)
    assert images == ["0", "1"]
