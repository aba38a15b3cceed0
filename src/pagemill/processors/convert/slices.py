"""Page-slice fan-out: a long PDF's pages are read by several worker processes at once.

Reading a page (its text layer, drawn objects and, for a scan, OCR: ``pdf.parse.read_pages``)
depends on that page alone and is nearly all of a text PDF's conversion time. So a PDF of more
than ``slice_pages`` selected pages is cut into near-equal runs of consecutive pages, each run is
read by its own task in the compute pool, and the reads are merged in page order. One last task
then does, once, what needs the whole document: running headers and footers, heading levels
from the document's font statistics, tables continued across pages, rendering. The output is
therefore the one ``run`` gives for the same input, whatever the slice borders.

A slice whose worker process dies (or that fails in a way another attempt could fix) is read
again alone, up to ``SLICE_ATTEMPTS`` times; a document error (a damaged page) fails the step at
once, as it would unsliced. Progress counts pages read across all slices.

Limits: slices run in the compute pool of the worker that claimed the step (the pool's children
are its parallel workers), not on other machines; documents other than PDF are not split.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pagemill.domain.errors import ProcessingError
from pagemill.domain.page_ranges import select_pages
from pagemill.ports.compute import ComputePool, WorkerCrashed
from pagemill.ports.processing import ProcessorInput, ProcessorOutput
from pagemill.processors import progress
from pagemill.processors.convert.formats import MAGIC_WINDOW, PDF_MAGIC, detect_format

if TYPE_CHECKING:
    from pagemill.processors.convert.pdf.parse import PageReads
    from pagemill.processors.convert.processor import ConvertProcessor

SLICE_ATTEMPTS = 3  # a slice whose worker process died is read again, at most this often in all
PROGRESS_SECONDS = 0.5  # how often the slices' progress is summed into the step's


@dataclass(frozen=True, slots=True)
class SlicePlan:
    slices: list[list[int]]  # consecutive runs of the selected pages, in page order
    mode: str
    include_images: bool

    @property
    def pages_total(self) -> int:
        return sum(len(pages) for pages in self.slices)


def split(pages: list[int], slice_pages: int) -> list[list[int]]:
    """``pages`` cut into the fewest near-equal consecutive runs of at most ``slice_pages``."""
    if slice_pages <= 0 or len(pages) <= slice_pages:
        return [list(pages)]
    count = math.ceil(len(pages) / slice_pages)
    size, extra = divmod(len(pages), count)
    runs: list[list[int]] = []
    start = 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        runs.append(pages[start:end])
        start = end
    return runs


def plan(job: ProcessorInput, slice_pages: int) -> SlicePlan | None:
    """Run in a worker process (opening a hostile PDF must not touch the caller): the slices of
    this job, or None when it is not split. Any problem is None too: ``run`` reports it."""
    from pagemill.processors.convert import options as convert_settings
    from pagemill.processors.convert.processor import parse_request
    from pagemill.processors.convert.render import parse_output_formats
    from pagemill.processors.page_images import open_pdf

    try:
        convert_settings.check_settings(job.settings)
        parse_output_formats(job.output_format or job.settings.get("output_format") or "markdown")
        if detect_format(job.document) != "pdf":
            return None
        request = parse_request(job, convert_settings.convert_options(job.settings), None)
        with open_pdf(job.document) as pdf:
            page_count = len(pdf)
        pages = select_pages(page_count, request.page_range, request.max_pages)
    except Exception:
        return None
    slices = split(pages, slice_pages)
    if len(slices) < 2:
        return None
    return SlicePlan(slices=slices, mode=request.mode, include_images=request.include_images)


def read_slice(
    path: Path, pages: list[int], mode: str, include_images: bool, progress_file: Path | None
) -> PageReads:
    """Run in a worker process: the reads of one slice's pages."""
    from pagemill.processors.convert.pdf.parse import read_pages
    from pagemill.processors.page_images import open_pdf

    try:
        # Under pdfium's lock: uncontended in a worker process, and it keeps slices run in
        # threads (an inline compute pool) one at a time, as pdfium is not thread-safe.
        with open_pdf(path) as pdf:
            return read_pages(pdf, pages, mode, include_images, progress.reporter(progress_file))
    except ProcessingError:
        raise
    except Exception as error:  # as ``pdf.parse.parse``: a damaged file fails its step
        raise ProcessingError(
            f"The PDF could not be converted ({type(error).__name__}: {error})."
        ) from error


async def run_sliced(
    processor: ConvertProcessor, job: ProcessorInput, compute: ComputePool, slice_pages: int
) -> ProcessorOutput | None:
    """The job's output, its pages read in parallel slices; None when it is not split."""
    if slice_pages <= 0 or not await asyncio.to_thread(_looks_like_pdf, job.document):
        return None
    sliced = await compute.run(plan, job, slice_pages)
    if sliced is None:
        return None
    files = [_slice_file(job.progress_file, index) for index in range(len(sliced.slices))]
    done: set[int] = set()
    watcher = asyncio.create_task(_relay_progress(job.progress_file, sliced, files, done))
    try:
        reads = await _read_all(compute, job, sliced, files, done)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        for file in files:
            if file is not None:
                file.unlink(missing_ok=True)
    merged = reads[0]
    for later in reads[1:]:
        merged.extend(later)
    total = sliced.pages_total
    progress.reporter(job.progress_file)(
        stage="assemble", pages_done=total, pages_total=total, slices=len(sliced.slices)
    )
    return await compute.run(processor.run_prepared, job, merged)


async def _read_all(
    compute: ComputePool,
    job: ProcessorInput,
    sliced: SlicePlan,
    files: list[Path | None],
    done: set[int],
) -> list[PageReads]:
    async def one(index: int) -> PageReads:
        pages = sliced.slices[index]
        for attempt in range(1, SLICE_ATTEMPTS + 1):
            try:
                read = await compute.run(
                    read_slice,
                    job.document,
                    pages,
                    sliced.mode,
                    sliced.include_images,
                    files[index],
                )
            except (WorkerCrashed, ProcessingError) as error:
                again = isinstance(error, WorkerCrashed) or error.retryable
                if not again or attempt == SLICE_ATTEMPTS:
                    raise
                continue
            done.add(index)
            return read
        raise AssertionError("unreachable")  # the loop returns or raises

    tasks = [asyncio.create_task(one(index)) for index in range(len(sliced.slices))]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        # One slice failed for good (or the step was cancelled): the others are stopped, and
        # a cancelled pool task stops its worker process.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _looks_like_pdf(path: Path) -> bool:
    """Only the first bytes, as ``detect_format`` reads them: this runs in the worker's own
    process, which must never parse a document (a ZIP's directory, say) itself."""
    try:
        with path.open("rb") as handle:
            return PDF_MAGIC in handle.read(MAGIC_WINDOW)
    except OSError:
        return False  # ``run`` reports it


def _slice_file(step_file: Path | None, index: int) -> Path | None:
    return None if step_file is None else step_file.with_name(f"{step_file.name}.slice{index}")


async def _relay_progress(
    step_file: Path | None, sliced: SlicePlan, files: list[Path | None], done: set[int]
) -> None:
    """Every ``PROGRESS_SECONDS``, the pages read by all slices as the step's progress."""
    report: Callable[..., None] = progress.reporter(step_file)
    total = sliced.pages_total
    last: tuple[int, int] | None = None
    while True:
        pages_done = 0
        for index, pages in enumerate(sliced.slices):
            file = files[index]
            if index in done:
                pages_done += len(pages)
            elif file is not None:
                pages_done += _text_pages_done(progress.read(file), len(pages))
        now = (pages_done, len(done))
        if now != last:
            last = now
            report(
                stage="text",
                pages_done=pages_done,
                pages_total=total,
                slices_done=len(done),
                slices=len(sliced.slices),
            )
        await asyncio.sleep(PROGRESS_SECONDS)


def _text_pages_done(reported: dict[str, Any] | None, pages: int) -> int:
    """Pages of a running slice whose text layer is read (an OCR stage comes after all of them)."""
    if not reported:
        return 0
    if reported.get("stage") == "text":
        value = reported.get("pages_done")
        return min(int(value), pages) if isinstance(value, int) else 0
    return pages
