"""Page-slice fan-out: a long text PDF's convert on one worker process against two.

Generates a text PDF (a heading and five paragraphs a page, ``docgen``), then converts it with
the real ``convert`` processor in a real process pool, as a step does (``StepWork``):

* one worker: a pool of one process, not split (``slice_pages = 0``);
* two workers: a pool of two processes, split into slices of ``--slice-pages`` pages.

Each is run ``--repeat`` times (best time kept, the pools are warm first); the outputs must be
identical (but ``runtime``), or the benchmark fails. Usage::

    PYTHONPATH=src:. python bench/bench_slices.py --pages 400 --slice-pages 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from docgen.pdfgen import make_large_pdf
from pagemill.adapters.compute.processes import ProcessComputePool
from pagemill.ports.processing import ProcessorInput, ProcessorOutput
from pagemill.processors.convert.processor import ConvertProcessor


async def convert(
    pool: ProcessComputePool, job: ProcessorInput, slice_pages: int
) -> ProcessorOutput:
    processor = ConvertProcessor()
    sliced = await processor.run_sliced(job, pool, slice_pages)
    return sliced if sliced is not None else await pool.run(processor.run, job)


def comparable(output: ProcessorOutput) -> dict[str, Any]:
    result = {key: value for key, value in output.result.items() if key != "runtime"}
    return {"result": result, "checkpoint": output.checkpoint, "metadata": output.metadata}


async def measure(
    size: int, job: ProcessorInput, slice_pages: int, repeat: int
) -> tuple[float, ProcessorOutput]:
    pool = ProcessComputePool(size, 500, preload=ConvertProcessor.preload)
    await pool.start()
    try:
        best = float("inf")
        output: ProcessorOutput | None = None
        for _ in range(repeat):
            started = time.perf_counter()
            output = await convert(pool, job, slice_pages)
            best = min(best, time.perf_counter() - started)
        assert output is not None
        return best, output
    finally:
        await pool.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--slice-pages", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = make_large_pdf(Path(scratch) / "long.pdf", args.pages)
        job = ProcessorInput(document=path, filename="long.pdf", settings={})
        one, unsplit = await measure(1, job, 0, args.repeat)
        two, split = await measure(2, job, args.slice_pages, args.repeat)
    identical = comparable(unsplit) == comparable(split)
    report = {
        "pages": args.pages,
        "slice_pages": args.slice_pages,
        "one_worker_seconds": round(one, 2),
        "two_workers_seconds": round(two, 2),
        "speedup": round(one / two, 2),
        "identical_output": identical,
    }
    print(json.dumps(report, indent=2))
    if not identical:
        raise SystemExit("the sliced output differs from the unsliced one")


if __name__ == "__main__":
    asyncio.run(main())
