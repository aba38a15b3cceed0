"""The text formats with structure (XML, AsciiDoc, subtitles, JSON, notebooks) through the API:
the single-shot ``/api/v1/convert`` and a pipeline's convert step both accept them (submit-time
admission included) and answer their Markdown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pagemill.processors.registry import ProcessorRegistry
from tests.component.test_executions_api import make_pipeline, wait_done
from tests.component.test_single_shot import poll, started, submit
from tests.support.app import TestServer, test_server

MARKUP = Path(__file__).resolve().parents[1] / "fixtures" / "markup"
CASES = [
    ("article.xml", (MARKUP / "jats-article.xml").read_bytes(), "# Sleep & memory in Drosophila"),
    ("patent.xml", (MARKUP / "uspto-patent.xml").read_bytes(), "## Claims"),
    ("feed.atom", (MARKUP / "atom-feed.xml").read_bytes(), "## Version 2.1"),
    ("guide.adoc", (MARKUP / "guide.adoc").read_bytes(), "| Tea | 3 |"),
    ("talk.vtt", (MARKUP / "talk.vtt").read_bytes(), "[00:09] Ann: Fine & you?"),
    ("data.json", b'{"a": 1}', '```json\n{\n  "a": 1\n}\n```'),
    ("analysis.ipynb", (MARKUP / "analysis.ipynb").read_bytes(), "```python\nx = 1"),
]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with test_server(tmp_path / "data", ProcessorRegistry.builtin()) as running:
        yield running


@pytest.mark.parametrize(("name", "content", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_single_shot_convert_accepts_the_format(
    server: TestServer, name: str, content: bytes, expected: str
) -> None:
    url = await started(
        await submit(server, "convert", {}, (name, content, "application/octet-stream"))
    )
    result = await poll(server, url)
    assert result["status"] == "complete", result
    assert expected in result["markdown"], result["markdown"]


async def test_a_pipeline_convert_step_accepts_every_format(server: TestServer) -> None:
    pipeline_id = await make_pipeline(server, [{"type": "convert", "settings": {}}])
    for name, content, expected in CASES:
        response = await server.client.post(
            f"/api/v1/pipelines/{pipeline_id}/run",
            files={"file": (name, content, "application/octet-stream")},
            headers=server.headers(),
        )
        assert response.status_code == 200, (name, response.text)
        done = await wait_done(server, response.json()["execution_id"])
        assert done["status"] == "completed", (name, done)
        converted = await poll(server, f"/api/v1/convert/{done['steps'][0]['lookup_key']}")
        assert expected in converted["markdown"], (name, converted["markdown"])
