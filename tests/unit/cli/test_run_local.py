"""``pagemill run`` without a server: the embedded engine in the command's own process, on
generated documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from docgen.extractgen import invoice, write_pdf
from docgen.pdfgen import make_pdf
from pagemill import Engine, Pipeline
from pagemill.cli import app

# Nothing in the environment may point the command at a server.
NO_SERVER: dict[str, str | None] = dict.fromkeys(
    ("PAGEMILL_SERVER", "DATALAB_HOST", "PAGEMILL_DATABASE_URL")
)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["run", *args], env=NO_SERVER)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Three reports in a directory tree, and a file that is no PDF at all."""
    root = tmp_path / "docs"
    (root / "2025").mkdir(parents=True)
    for index, where in enumerate(["a.pdf", "b.pdf", "2025/a.pdf"]):
        make_pdf(
            root / where,
            [
                [("h1", f"Report {index}"), ("p", "Revenue grew by ten percent this year.")],
                [("h1", "Costs"), ("p", "Costs fell after the move to the new warehouse.")],
            ],
        )
    return root


@pytest.fixture
def steps(tmp_path: Path) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(
        "steps:\n"
        "  - type: convert\n"
        "    settings: {output_format: 'markdown,json'}\n"
        "  - type: segment\n"
    )
    return path


def test_a_directory_runs_and_its_results_are_written_per_step(
    corpus: Path, steps: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"

    result = invoke(str(steps), str(corpus), "--out", str(out), "--concurrency", "1")

    assert result.exit_code == 0, result.output
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json"))
    assert names == [
        "2025/a.pdf/0-convert.json",
        "2025/a.pdf/1-segment.json",
        "a.pdf/0-convert.json",
        "a.pdf/1-segment.json",
        "b.pdf/0-convert.json",
        "b.pdf/1-segment.json",
    ]
    converted = json.loads((out / "b.pdf/0-convert.json").read_text())
    assert "# Report 1" in converted["markdown"]
    assert converted["json"]["block_type"] == "Document"
    segmented = json.loads((out / "b.pdf/1-segment.json").read_text())
    names_found = [s["name"] for s in segmented["segmentation_results"]["segments"]]
    assert names_found == ["Report 1", "Costs"]
    # The summary table, for people, on standard output.
    for name in ("2025/a.pdf", "a.pdf", "b.pdf"):
        assert name in result.stdout
    assert "3 of 3 documents completed" in result.stderr


def test_json_lines_for_scripts_and_exit_code_1_when_a_document_fails(
    corpus: Path, steps: Path, tmp_path: Path
) -> None:
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4\n" + b"\x00" * 64)
    out = tmp_path / "out"

    # Two at once: the steps run in worker processes, as on a server.
    result = invoke(
        str(steps), f"{corpus}/*.pdf", "--out", str(out), "--json", "--concurrency", "2"
    )

    assert result.exit_code == 1, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    documents = {line["document"]: line for line in lines if line["type"] == "document"}
    assert set(documents) == {"a.pdf", "b.pdf", "broken.pdf"}  # the glob's own directory only
    assert documents["a.pdf"]["status"] == "completed"
    assert [s["result_file"] for s in documents["a.pdf"]["steps"]] == [
        str(out / "a.pdf/0-convert.json"),
        str(out / "a.pdf/1-segment.json"),
    ]
    broken = documents["broken.pdf"]
    assert broken["status"] == "failed"
    assert broken["steps"][0]["status"] == "failed" and broken["steps"][0]["error"]
    assert broken["steps"][1]["status"] == "skipped"
    assert lines[-1] == {
        "type": "summary", "documents": 3, "completed": 2, "failed": 1, "out": str(out)
    }  # fmt: skip
    assert not (out / "broken.pdf").exists()


def test_a_stored_pipeline_runs_by_id_in_a_data_dir(tmp_path: Path) -> None:
    import asyncio

    doc = invoice(5)
    pdf = write_pdf(tmp_path / "invoice.pdf", [doc])
    pipeline = Pipeline(
        [{"type": "convert"}, {"type": "extract", "settings": {"page_schema": doc.schema}}]
    )

    async def store() -> str:
        async with Engine(tmp_path / "data") as engine:
            return await engine.pipeline_id(pipeline)

    pipeline_id = asyncio.run(store())
    out = tmp_path / "out"

    result = invoke(pipeline_id, str(pdf), "--data-dir", str(tmp_path / "data"), "--out", str(out))

    assert result.exit_code == 0, result.output
    extracted = json.loads((out / "invoice.pdf/1-extract.json").read_text())
    data = json.loads(extracted["extraction_schema_json"])
    assert data["invoice_number"] == doc.expected["invoice_number"]


def test_what_cannot_run_is_refused_with_exit_code_2(steps: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- type: segment\n")
    pdf = make_pdf(tmp_path / "one.pdf", [[("p", "text")]])

    composition = invoke(str(bad), str(pdf), "--out", str(tmp_path / "out"))
    missing = invoke(str(steps), str(tmp_path / "nothing.pdf"))
    neither = invoke("not-a-pipeline", str(pdf))
    unknown_setting = invoke(str(steps), str(pdf), "--output-format", "docx")

    assert composition.exit_code == 2
    assert "The first step must be convert" in composition.stderr
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    assert neither.exit_code == 2 and "neither a file of steps" in neither.stderr
    assert unknown_setting.exit_code == 2 and "output_format" in unknown_setting.stderr
