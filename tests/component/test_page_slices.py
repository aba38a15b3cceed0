"""A long PDF's convert step in page slices, through the app: the results are the unsliced ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from docgen.pdfgen import filler_paragraph, make_pdf
from pagemill.processors.convert import slices
from pagemill.processors.registry import ProcessorRegistry
from tests.component.test_executions_api import make_pipeline, run, wait_done
from tests.support.app import test_server

STEPS = [
    {"type": "convert", "settings": {"output_format": "markdown,json"}},
    {"type": "segment", "settings": {}},
]


async def results(data_dir: Path, pdf: bytes, slice_pages: int) -> list[dict[str, Any]]:
    async with test_server(
        data_dir, ProcessorRegistry.builtin(), slice_pages=slice_pages
    ) as server:
        response = await run(server, await make_pipeline(server, STEPS), content=pdf)
        assert response.status_code == 200, response.text
        execution_id = response.json()["execution_id"]
        done = await wait_done(server, execution_id)
        assert done["status"] == "completed", done
        url = f"/api/v1/pipelines/executions/{execution_id}"
        outputs = []
        for index in range(len(STEPS)):
            result = await server.client.get(
                f"{url}/steps/{index}/result", headers=server.headers()
            )
            assert result.status_code == 200, result.text
            body = result.json()
            for key in ("runtime", "lookup_key", "checkpoint_id", "provenance"):
                body.pop(key, None)  # which attempt and when: never the same twice
            outputs.append(body)
        return outputs


async def test_a_sliced_convert_step_gives_the_unsliced_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = slices.read_slice
    slices_read: list[list[int]] = []

    def counted(path: Path, pages: list[int], *args: Any) -> Any:
        slices_read.append(pages)
        return read(path, pages, *args)

    monkeypatch.setattr(slices, "read_slice", counted)
    pages = [
        [("h1" if n == 0 else "h2", f"Part {n}"), ("p", filler_paragraph(n, 70))] for n in range(7)
    ]
    pdf = make_pdf(tmp_path / "long.pdf", pages, header="Annual Review", footer="Page {page}")
    content = pdf.read_bytes()
    sliced = await results(tmp_path / "sliced", content, 2)
    whole = await results(tmp_path / "whole", content, 0)
    assert sorted(slices_read) == [[0, 1], [2, 3], [4, 5], [6]]  # the test pool runs inline
    assert sliced == whole
    assert "Annual Review" not in sliced[0]["markdown"]
    assert "# Part 0" in sliced[0]["markdown"]
