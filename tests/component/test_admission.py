"""Admission control at submit (pages per request, pages in flight) and per-step timeouts."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from PIL import Image

from docgen.hostilegen import tiff_with_many_frames, zip_with_many_members
from tests.component.test_executions_api import make_pipeline, run, wait_done
from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry


def blank_pdf(pages: int) -> bytes:
    pdf = pdfium.PdfDocument.new()
    for _ in range(pages):
        pdf.new_page(200, 200)
    buffer = io.BytesIO()
    pdf.save(buffer)
    pdf.close()
    return buffer.getvalue()


def tiff(frames: int) -> bytes:
    images = [Image.new("L", (8, 8), color=i * 40) for i in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, format="TIFF", save_all=True, append_images=images[1:])
    return buffer.getvalue()


async def executions_of(server: TestServer, pipeline_id: str) -> int:
    listed = await server.client.get(
        f"/api/v1/pipelines/{pipeline_id}/executions", headers=server.headers()
    )
    total: int = listed.json()["total"]
    return total


def no_inputs(data_dir: Path) -> bool:
    inputs = data_dir / "blobs" / "inputs"
    return not inputs.exists() or not any(p.is_file() for p in inputs.rglob("*"))


async def test_the_page_limit_is_checked_at_submit(tmp_path: Path) -> None:
    data = tmp_path / "d"
    async with test_server(data, test_registry(), max_pages_per_request=3) as server:
        pipeline_id = await make_pipeline(server)

        over = await run(server, pipeline_id, content=blank_pdf(5))
        assert over.status_code == 400
        detail = over.json()["detail"]
        assert "5 pages" in detail and "limit is 3 pages per request" in detail
        frames = await run(server, pipeline_id, content=tiff(4))
        assert frames.status_code == 400 and "4 pages" in frames.json()["detail"]
        assert await executions_of(server, pipeline_id) == 0  # nothing was queued
        assert no_inputs(data)

        narrowed = await run(server, pipeline_id, {"page_range": "1-3,40"}, content=blank_pdf(5))
        assert narrowed.status_code == 200, narrowed.text
        assert narrowed.json()["input_config"]["page_count_at_submit"] == 3
        at_limit = await run(server, pipeline_id, content=blank_pdf(3))
        assert at_limit.json()["input_config"]["page_count_at_submit"] == 3
        other = await run(server, pipeline_id, content=b"plain text, one unit")
        assert other.json()["input_config"]["page_count_at_submit"] == 1
        for response in (narrowed, at_limit, other):
            await wait_done(server, response.json()["execution_id"])


async def test_a_convert_steps_own_page_range_counts(tmp_path: Path) -> None:
    async with test_server(tmp_path / "d", test_registry(), max_pages_per_request=2) as server:
        pipeline_id = await make_pipeline(
            server, [{"type": "convert", "settings": {"max_pages": 2}}]
        )
        response = await run(server, pipeline_id, content=blank_pdf(6))
        assert response.status_code == 200, response.text
        assert response.json()["input_config"]["page_count_at_submit"] == 2
        await wait_done(server, response.json()["execution_id"])


async def test_pages_in_flight_are_limited_per_team(tmp_path: Path) -> None:
    async with test_server(tmp_path / "d", test_registry(), max_pages_in_flight=5) as server:
        slow = await make_pipeline(server, [{"type": "convert", "settings": {"sleep": 0.8}}])
        held = [await run(server, slow, content=blank_pdf(2)) for _ in range(2)]
        assert [r.status_code for r in held] == [200, 200]
        for response in held:  # both are running (2 workers), neither is finished
            body = await _until_running(server, response.json()["execution_id"])
            assert body["status"] == "running"

        refused = await run(server, slow, content=blank_pdf(2))
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "30"
        assert refused.json()["detail"].startswith(
            "Your team has 4 pages in flight and this request adds 2 more (6 total, limit 5)"
        )
        assert await executions_of(server, slow) == 2
        fits = await run(server, slow, content=blank_pdf(1))  # 4 + 1 = 5: at the limit
        assert fits.status_code == 200
        beta_pipeline = await make_pipeline(server, team="beta")
        beta = await run(server, beta_pipeline, content=blank_pdf(2), team="beta")
        assert beta.status_code == 200  # another team's pages do not count

        for response in (*held, fits):
            await wait_done(server, response.json()["execution_id"])
        await wait_done(server, beta.json()["execution_id"], team="beta")
        after = await run(server, slow, content=blank_pdf(2))
        assert after.status_code == 200
        await wait_done(server, after.json()["execution_id"])


async def test_concurrent_submits_cannot_both_slip_under_the_limit(tmp_path: Path) -> None:
    async with test_server(tmp_path / "d", test_registry(), max_pages_in_flight=3) as server:
        pipeline_id = await make_pipeline(server, [{"type": "convert", "settings": {"sleep": 0.5}}])
        responses = await asyncio.gather(
            *(run(server, pipeline_id, content=blank_pdf(2)) for _ in range(4))
        )
        assert sorted(r.status_code for r in responses) == [200, 429, 429, 429]
        for response in responses:
            if response.status_code == 200:
                await wait_done(server, response.json()["execution_id"])


async def test_a_request_larger_than_the_in_flight_limit_runs_alone(tmp_path: Path) -> None:
    async with test_server(tmp_path / "d", test_registry(), max_pages_in_flight=3) as server:
        pipeline_id = await make_pipeline(server, [{"type": "convert", "settings": {"sleep": 0.5}}])
        alone = await run(server, pipeline_id, content=blank_pdf(4))
        assert alone.status_code == 200
        second = await run(server, pipeline_id, content=blank_pdf(1))
        assert second.status_code == 429
        await wait_done(server, alone.json()["execution_id"])


async def test_a_step_over_its_timeout_fails_without_retry(server: TestServer) -> None:
    pipeline_id = await make_pipeline(
        server, [{"type": "convert", "settings": {"sleep": 1.0, "timeout_seconds": 0.2}}]
    )
    done = await wait_done(server, (await run(server, pipeline_id)).json()["execution_id"])
    assert done["status"] == "failed"
    step = done["steps"][0]
    assert step["error_message"] == "The step took longer than 0.2 s."
    assert step["attempt"] == 1


async def test_the_server_step_timeout_caps_a_steps_own(tmp_path: Path) -> None:
    async with test_server(tmp_path / "d", test_registry(), step_timeout_seconds=0.3) as server:
        pipeline_id = await make_pipeline(
            server, [{"type": "convert", "settings": {"sleep": 1.0, "timeout_seconds": 60}}]
        )
        done = await wait_done(server, (await run(server, pipeline_id)).json()["execution_id"])
        assert done["steps"][0]["error_message"] == "The step took longer than 0.3 s."
        quick = await make_pipeline(server, [{"type": "convert", "settings": {}}])
        ok = await wait_done(server, (await run(server, quick)).json()["execution_id"])
        assert ok["status"] == "completed"


async def test_bad_step_timeouts_are_422(server: TestServer) -> None:
    for value in (0, -1, "10", True, 10**9):
        response = await server.client.post(
            "/api/v1/pipelines",
            json={"steps": [{"type": "convert", "settings": {"timeout_seconds": value}}]},
            headers=server.headers(),
        )
        assert response.status_code == 422, value
        assert "timeout_seconds" in str(response.json()["detail"])


async def _until_running(server: TestServer, execution_id: str) -> dict[str, Any]:
    for _ in range(200):
        response = await server.client.get(
            f"/api/v1/pipelines/executions/{execution_id}", headers=server.headers()
        )
        body: dict[str, Any] = response.json()
        if body["status"] != "pending":
            return body
        await asyncio.sleep(0.01)
    raise AssertionError(f"{execution_id} never started")


async def test_hostile_containers_are_counted_within_bounds_at_submit(tmp_path: Path) -> None:
    async with test_server(tmp_path / "d", test_registry(), max_pages_per_request=50) as server:
        pipeline_id = await make_pipeline(server)
        chain = tiff_with_many_frames(tmp_path / "chain.tif", 1_000_000).read_bytes()
        bomb = zip_with_many_members(tmp_path / "many.xlsx", 100_000).read_bytes()

        frames = await run(server, pipeline_id, content=chain)
        members = await run(server, pipeline_id, content=bomb)

        assert frames.status_code == 400
        assert "at least 51 pages" in frames.json()["detail"]
        # Admitted as one unit, unopened: the convert step refuses it with the reason.
        assert members.status_code == 200, members.text
        assert members.json()["input_config"]["page_count_at_submit"] == 1
        await wait_done(server, members.json()["execution_id"])


async def test_a_format_whose_converter_is_missing_is_refused_at_submit(
    tmp_path: Path, monkeypatch: Any
) -> None:
    from pagemill.processors.convert.office import libreoffice

    monkeypatch.setattr(libreoffice, "executable", lambda: None)
    legacy = (Path(__file__).parents[1] / "fixtures" / "real" / "legacy-lorem.doc").read_bytes()
    data = tmp_path / "d"
    async with test_server(data, test_registry()) as server:
        pipeline_id = await make_pipeline(server)
        refused = await run(server, pipeline_id, content=legacy)
        assert refused.status_code == 415
        assert "LibreOffice" in refused.json()["detail"]
        assert "apt-get install" in refused.json()["detail"]
        assert await executions_of(server, pipeline_id) == 0
        assert no_inputs(data)
