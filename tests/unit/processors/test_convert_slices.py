"""Page-slice fan-out of a long PDF's convert (``convert.slices``): the output is the unsliced
output, whatever the slice borders; a failed slice is read again alone; progress sums slices."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from docgen.pdfgen import filler_paragraph, make_large_pdf, make_pdf
from pagemill.adapters.compute.inline import InlineComputePool
from pagemill.domain.errors import ProcessingError
from pagemill.ports.compute import ComputePool, WorkerCrashed
from pagemill.ports.processing import ProcessorInput, ProcessorOutput
from pagemill.processors.convert import slices
from pagemill.processors.convert.processor import ConvertProcessor

T = TypeVar("T")
REAL_DOCS = Path(__file__).resolve().parents[3] / "bench" / "quality" / "real" / "docs"
# The real PDFs of the quality corpus with more than one page (a slice border to cross), with
# their page counts: each is converted in slices of every size that splits it.
REAL_MULTI_PAGE = {
    "acl-inlg2016-summarising-news.pdf": 2,
    "acl-inlg2018-simplenlg-dutch.pdf": 2,
    "dmca-title-ii.pdf": 2,
    "vicksburg-ocr-layer.pdf": 2,
    "amiri-arabic-p1-3.pdf": 3,
    "dmca-summary.pdf": 3,
    "pptx-tables-export.pdf": 3,
    "sct-inner-content-export.pdf": 3,
    "latex-repeated-sections.pdf": 4,
}
REAL_CASES = [(name, size) for name, pages in REAL_MULTI_PAGE.items() for size in range(1, pages)]
HEADER = "Pagemill Quarterly Review"
FOOTER = "Page {page} of {pages}"


def _generated(tmp: Path) -> dict[str, Path]:
    chapters = [
        [("h1" if n == 0 else "h2", f"Chapter {n}"), ("p", filler_paragraph(n, 60))]
        for n in range(6)
    ]
    table = "Name | Count | Share\n" + "\n".join(f"Row {i} | {i * 7} | {i}%" for i in range(12))
    tables = [
        [("h2", "Figures"), ("p", filler_paragraph(40, 50)), ("table", table)],
        [("table", table), ("p", filler_paragraph(41, 30))],
        [("h3", "Notes"), ("li", "First note"), ("li", "Second note")],
    ]
    return {
        "furnished": make_pdf(tmp / "furnished.pdf", chapters, header=HEADER, footer=FOOTER),
        "tables": make_pdf(tmp / "tables.pdf", tables, header=HEADER),
        "two-columns": make_pdf(tmp / "columns.pdf", chapters, columns=2, footer=FOOTER),
        "long": make_large_pdf(tmp / "long.pdf", 9),
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _generated(tmp_path_factory.mktemp("slices"))


def job_for(path: Path, **settings: Any) -> ProcessorInput:
    return ProcessorInput(document=path, filename=path.name, settings=dict(settings))


def comparable(output: ProcessorOutput) -> dict[str, Any]:
    result = {key: value for key, value in output.result.items() if key != "runtime"}
    return {
        "result": result,
        "page_count": output.page_count,
        "checkpoint": output.checkpoint,
        "metadata": output.metadata,
    }


def sliced(
    job: ProcessorInput, slice_pages: int, pool: ComputePool | None = None
) -> ProcessorOutput:
    output = asyncio.run(
        ConvertProcessor().run_sliced(job, pool or InlineComputePool(), slice_pages)
    )
    assert output is not None, "the document was not split"
    return output


def test_split_makes_near_equal_consecutive_runs() -> None:
    assert slices.split(list(range(10)), 4) == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert slices.split(list(range(8)), 8) == [list(range(8))]
    assert slices.split([3, 5, 9], 1) == [[3], [5], [9]]
    assert slices.split(list(range(5)), 0) == [list(range(5))]


@pytest.mark.parametrize(("name", "slice_pages"), REAL_CASES)
def test_real_pdfs_convert_the_same_in_slices(name: str, slice_pages: int) -> None:
    job = job_for(REAL_DOCS / name, output_format="markdown,html,json,chunks")
    assert _pages(job) == REAL_MULTI_PAGE[name]
    assert comparable(sliced(job, slice_pages)) == comparable(ConvertProcessor().run(job))


@pytest.mark.parametrize("name", ["furnished", "tables", "two-columns", "long"])
@pytest.mark.parametrize(
    "settings",
    [
        {"output_format": "markdown,html,json,chunks"},
        {"include_headers_footers": True, "paginate": True, "add_block_ids": True},
        {"page_range": "1-4,6", "output_format": "json"},
    ],
)
def test_generated_pdfs_convert_the_same_in_slices(
    generated: dict[str, Path], name: str, settings: dict[str, Any]
) -> None:
    path = generated[name]
    if name == "tables" and "page_range" in settings:
        settings = {**settings, "page_range": "0,2"}
    job = job_for(path, **settings)
    unsliced = ConvertProcessor().run(job)
    for slice_pages in range(1, unsliced.page_count):  # every size that splits it
        assert comparable(sliced(job, slice_pages)) == comparable(unsliced)


def test_scanned_pages_read_in_slices_convert_the_same(tmp_path: Path) -> None:
    """Each slice OCRs its own scans; their sizes are harmonised once, on the merged pages."""
    pages = [
        [("h1", "Survey"), ("p", filler_paragraph(1, 60))],
        [("h2", "Method"), ("p", filler_paragraph(2, 60))],
        [("h2", "Results"), ("li", "First finding"), ("li", "Second finding")],
        [("h2", "Outlook"), ("p", filler_paragraph(3, 40))],
    ]
    pdf = make_pdf(tmp_path / "scans.pdf", pages, scanned={1, 2}, header=HEADER, footer=FOOTER)
    job = job_for(pdf, output_format="markdown,json")
    unsliced = ConvertProcessor().run(job)
    assert unsliced.metadata["ocr_pages"] == [1, 2]
    for slice_pages in (1, 2):
        assert comparable(sliced(job, slice_pages)) == comparable(unsliced)


def test_headers_and_headings_are_found_across_slice_borders(generated: dict[str, Path]) -> None:
    """Each slice alone sees too few pages for a running header: merged, it is found."""
    job = job_for(generated["furnished"], include_headers_footers=True, output_format="json")
    markdown = sliced(job_for(generated["furnished"]), 1).result["markdown"]
    assert HEADER not in markdown
    assert "# Chapter 0" in markdown and "## Chapter 5" in markdown
    blocks = json.dumps(sliced(job, 1).result["json"])
    assert "PageHeader" in blocks or "page_header" in blocks


def test_short_and_non_pdf_documents_are_not_split(
    generated: dict[str, Path], tmp_path: Path
) -> None:
    processor, pool = ConvertProcessor(), InlineComputePool()
    short = job_for(generated["tables"])
    assert asyncio.run(processor.run_sliced(short, pool, 3)) is None
    assert asyncio.run(processor.run_sliced(short, pool, 0)) is None
    text = tmp_path / "notes.txt"
    text.write_text("Just some text.\n" * 50)
    assert asyncio.run(processor.run_sliced(job_for(text), pool, 1)) is None
    # A setting the run rejects is left to ``run`` to report, not to the slicer.
    assert asyncio.run(processor.run_sliced(job_for(generated["long"], mode="x"), pool, 1)) is None
    bad_format = job_for(generated["long"], output_format="markdown,pdf")
    assert asyncio.run(processor.run_sliced(bad_format, pool, 1)) is None


class FlakyPool(ComputePool):
    """Inline, but the first read of the given slices dies as a crashed worker process would."""

    def __init__(self, crash_first: set[int], error: Exception | None = None) -> None:
        self.inner = InlineComputePool()
        self.crash_first = set(crash_first)
        self.error = error
        self.reads: list[int] = []

    async def run(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        if fn is slices.read_slice:
            first_page = args[1][0]
            self.reads.append(first_page)
            if first_page in self.crash_first:
                self.crash_first.discard(first_page)
                raise self.error or WorkerCrashed("killed")
        return await self.inner.run(fn, *args, timeout=timeout)

    async def close(self) -> None:
        return None


def test_a_failed_slice_is_read_again_alone(generated: dict[str, Path]) -> None:
    job = job_for(generated["long"])
    pool = FlakyPool({3, 6})
    output = sliced(job, 3, pool)
    assert sorted(pool.reads) == [0, 3, 3, 6, 6]
    assert comparable(output) == comparable(ConvertProcessor().run(job))
    retryable = FlakyPool({3}, ProcessingError("disk hiccup", retryable=True))
    sliced(job, 3, retryable)
    assert sorted(retryable.reads) == [0, 3, 3, 6]


def test_a_slice_that_keeps_failing_or_a_document_error_fails_the_step(
    generated: dict[str, Path],
) -> None:
    job = job_for(generated["long"])

    class Doomed(FlakyPool):
        async def run(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
            if fn is slices.read_slice and args[1][0] == 3:
                self.crash_first.add(3)
            return await super().run(fn, *args, timeout=timeout)

    doomed = Doomed(set())
    with pytest.raises(WorkerCrashed):
        sliced(job, 3, doomed)
    assert doomed.reads.count(3) == slices.SLICE_ATTEMPTS
    damaged = FlakyPool({3}, ProcessingError("The PDF's text could not be read"))
    with pytest.raises(ProcessingError, match="could not be read"):
        sliced(job, 3, damaged)
    assert damaged.reads.count(3) == 1  # a document error is not retried


def test_progress_counts_pages_across_slices(
    generated: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slices, "PROGRESS_SECONDS", 0.01)
    progress_file = tmp_path / "step.json"
    job = ProcessorInput(
        document=generated["long"], filename="long.pdf", settings={}, progress_file=progress_file
    )
    seen: list[dict[str, Any]] = []

    class Held(FlakyPool):
        """The last slice waits until the others' pages show in the step's progress."""

        async def run(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
            if fn is slices.read_slice and args[1][0] == 6:
                for _ in range(500):
                    report = json.loads(progress_file.read_text()) if progress_file.exists() else {}
                    if report.get("pages_done") == 6:
                        seen.append(report)
                        break
                    await asyncio.sleep(0.01)
            return await super().run(fn, *args, timeout=timeout)

    sliced(job, 3, Held(set()))
    assert seen and seen[0]["pages_total"] == 9 and seen[0]["slices"] == 3
    assert json.loads(progress_file.read_text())["pages_done"] == 9
    assert sorted(path.name for path in tmp_path.iterdir()) == ["step.json"]  # slices' gone


def _pages(job: ProcessorInput) -> int:
    from pagemill.processors.convert.pdf.parse import pdf_page_count

    return pdf_page_count(job.document)


def test_slices_run_in_worker_processes_and_merge_the_same(generated: dict[str, Path]) -> None:
    """Through a real process pool: every slice's read crosses a process boundary (pickled)."""
    from pagemill.adapters.compute.processes import ProcessComputePool

    async def both() -> tuple[ProcessorOutput | None, ProcessorOutput]:
        pool = ProcessComputePool(2, 10, preload=ConvertProcessor.preload)
        try:
            processor = ConvertProcessor()
            split = await processor.run_sliced(job, pool, 3)
            return split, await pool.run(processor.run, job)
        finally:
            await pool.close()

    job = job_for(generated["furnished"], include_headers_footers=True, output_format="json")
    split, whole = asyncio.run(both())
    assert split is not None
    assert comparable(split) == comparable(whole)
