"""The library API: ``convert`` in this process, ``Pipeline`` checked by the server's rules,
``run`` and ``Engine`` on the embedded engine, on generated documents."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

import pagemill
from docgen.extractgen import form, invoice, write_pdf
from docgen.pdfgen import make_pdf
from pagemill import (
    ConversionResult,
    Engine,
    ExtractionResult,
    InvalidInput,
    Pipeline,
    ProcessingError,
    RunProgress,
    SegmentationResult,
    convert,
    run,
)

REPORT = [
    [("h1", "Quarterly report"), ("p", "Revenue grew by ten percent in the quarter.")],
    [("h1", "Costs"), ("p", "Costs fell after the move to the new warehouse.")],
    [("h1", "Outlook"), ("p", "The board expects steady growth next year.")],
]


@pytest.fixture
def report(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "report.pdf", REPORT)


def test_convert_a_pdf_to_markdown_and_json(report: Path) -> None:
    result = convert(report, output_format="markdown,json")

    assert isinstance(result, ConversionResult)
    assert result.page_count == 3
    assert result.markdown is not None
    assert "# Quarterly report" in result.markdown
    assert "Costs fell after the move" in result.markdown
    assert result.json is not None and result.json["block_type"] == "Document"
    assert result.html is None and result.chunks is None  # only what was asked for
    assert [page["page"] for page in result.metadata["page_stats"]] == [0, 1, 2]
    assert result.raw["output_format"] == "markdown,json"


def test_convert_takes_bytes_and_the_server_settings(report: Path) -> None:
    result = convert(report.read_bytes(), filename="report.pdf", page_range="1", paginate=True)

    assert result.page_count == 1
    assert result.markdown is not None
    assert "Costs" in result.markdown and "Quarterly report" not in result.markdown


def test_convert_refuses_what_the_server_refuses(report: Path) -> None:
    with pytest.raises(InvalidInput, match="Unknown setting for the convert step: 'colour'"):
        convert(report, colour="blue")
    with pytest.raises(InvalidInput, match="'paginate' must be true or false"):
        convert(report, paginate="yes")
    with pytest.raises(InvalidInput, match="output_format"):
        convert(report, output_format="docx")
    with pytest.raises(InvalidInput, match="No such file"):
        convert(report.with_name("missing.pdf"))


def test_a_document_that_cannot_be_converted_raises_processing_error() -> None:
    with pytest.raises(ProcessingError, match="empty"):
        convert(b"", filename="empty.pdf")
    with pytest.raises(ProcessingError):
        convert(b"%PDF-1.7\nnot really a pdf", filename="broken.pdf")


def test_pipelines_follow_the_composition_rules() -> None:
    pipeline = Pipeline(
        [
            {"type": "convert"},
            {"type": "segment"},
            {
                "type": "extract",
                "settings": {
                    "page_schema": {"type": "object", "properties": {"a": {"type": "string"}}}
                },
            },
        ]
    )
    assert pipeline.step_types == ["convert", "segment", "extract"]
    assert len(pipeline) == 3

    with pytest.raises(InvalidInput, match="The first step must be convert"):
        Pipeline([{"type": "segment"}])
    with pytest.raises(InvalidInput, match="extract must be the last step"):
        Pipeline(
            [
                {"type": "convert"},
                {"type": "extract", "settings": {"page_schema": {}}},
                {"type": "segment"},
            ]
        )
    with pytest.raises(InvalidInput, match="unknown step type 'ocr-plus'"):
        Pipeline([{"type": "ocr-plus"}])
    with pytest.raises(InvalidInput, match=r"Step 0 \(convert\): Unknown setting"):
        Pipeline([{"type": "convert", "settings": {"speed": "max"}}])
    with pytest.raises(InvalidInput, match="plain JSON"):
        Pipeline([{"type": "convert", "settings": {"when": object()}}])


def test_pipelines_read_from_yaml_or_json_text() -> None:
    from_yaml = Pipeline.from_text(
        "steps:\n  - type: convert\n    settings: {output_format: html}\n  - type: segment\n"
    )
    from_json = Pipeline.from_text(
        '[{"type": "convert", "settings": {"output_format": "html"}}, {"type": "segment"}]'
    )

    assert from_yaml == from_json
    assert hash(from_yaml) == hash(from_json)
    assert from_yaml.steps[0] == {"type": "convert", "settings": {"output_format": "html"}}
    with pytest.raises(InvalidInput, match="expected a list of steps"):
        Pipeline.from_text("convert: yes")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        Pipeline.from_text("steps: [")


def test_run_converts_and_segments_on_the_embedded_engine(report: Path) -> None:
    seen: list[RunProgress] = []

    result = run(
        Pipeline([{"type": "convert"}, {"type": "segment"}]), report, on_progress=seen.append
    )

    assert result.ok, result
    assert result.execution_id.startswith("pex_") and result.pipeline_id.startswith("pl_")
    convert_step, segment_step = result.steps
    assert isinstance(convert_step.output, ConversionResult)
    assert convert_step.output.markdown is not None
    assert "Revenue grew by ten percent" in convert_step.output.markdown
    assert isinstance(segment_step.output, SegmentationResult)
    assert [s["name"] for s in segment_step.output.segments] == [
        "Quarterly report",
        "Costs",
        "Outlook",
    ]
    assert result.final is segment_step
    assert seen[-1].finished and seen[-1].status == "completed"
    assert all(not later.finished for later in seen[:-1])


def test_run_extracts_an_invoice_by_its_schema(tmp_path: Path) -> None:
    doc = invoice(3)
    pdf = write_pdf(tmp_path / "invoice.pdf", [doc])

    result = run(
        Pipeline(
            [{"type": "convert"}, {"type": "extract", "settings": {"page_schema": doc.schema}}]
        ),
        pdf,
    )

    assert result.ok, result
    extraction = result.final.output
    assert isinstance(extraction, ExtractionResult)
    assert extraction.data["invoice_number"] == doc.expected["invoice_number"]
    assert extraction.metadata["extraction_method"] == "offline"


def test_an_engine_runs_many_documents_and_reuses_identical_work(tmp_path: Path) -> None:
    documents = [write_pdf(tmp_path / f"form{seed}.pdf", [form(seed)]) for seed in range(3)]
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n" + b"\x00garbage" * 50)
    pipeline = Pipeline([{"type": "convert"}])

    async def go() -> tuple[list[pagemill.RunResult], pagemill.RunResult, pagemill.RunResult]:
        async with Engine(tmp_path / "data", workers=3) as engine:
            results = await asyncio.gather(*(engine.run(pipeline, d) for d in documents))
            again = await engine.run(pipeline, documents[0])
            failed = await engine.run(pipeline, broken)
            return list(results), again, failed

    results, again, failed = asyncio.run(go())

    assert [r.status for r in results] == ["completed"] * 3
    assert len({r.pipeline_id for r in results}) == 1  # stored once per engine
    assert results[0].steps[0].cache == "miss"
    assert again.steps[0].cache == "hit"
    first, reused = results[0].steps[0].output, again.steps[0].output
    assert isinstance(first, ConversionResult) and isinstance(reused, ConversionResult)
    assert reused.markdown == first.markdown
    assert failed.status == "failed"
    assert failed.steps[0].error
    assert failed.steps[0].output is None


def test_an_engine_runs_a_stored_pipeline_by_id(tmp_path: Path, report: Path) -> None:
    async def go() -> tuple[str, str]:
        async with Engine(tmp_path / "data") as engine:
            pipeline_id = await engine.pipeline_id(Pipeline([{"type": "convert"}]))
        async with Engine(tmp_path / "data") as engine:  # the same data dir, later
            result = await engine.run(pipeline_id, report)
            with pytest.raises(pagemill.PagemillError, match="not found"):
                await engine.run("pl_missing", report)
            return pipeline_id, result.status

    pipeline_id, status = asyncio.run(go())
    assert pipeline_id.startswith("pl_")
    assert status == "completed"


def test_the_public_surface_is_exactly_all() -> None:
    for name in pagemill.__all__:
        assert getattr(pagemill, name) is not None
    assert set(pagemill.__all__) >= {"convert", "run", "Pipeline", "Engine", "__version__"}
    with pytest.raises(AttributeError):
        pagemill.not_a_thing  # noqa: B018


def test_importing_pagemill_does_not_load_the_engine() -> None:
    # Worker processes import processors through ``pagemill``: the library stays unloaded.
    code = (
        "import sys, pagemill.processors.registry; "
        "print('pagemill.library' in sys.modules, 'pagemill.bootstrap' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
