"""Batch runs against the same files submitted one by one.

    PYTHONPATH=src .venv/bin/python bench/batch_runs.py --files 1000

Starts ``bench/server.py`` (the embedded default: SQLite ledger, in-process workers, the
process pool; ``--processors standard``, the real converter and the offline extractor),
uploads ``--files`` one-page PDFs (each with different bytes; every run also sets
``skip_cache``, so no result comes from the executor cache), then runs a convert → extract
pipeline over them twice:

* **one by one**: one ``POST /run`` with ``file_url=datalab://file-{id}`` per file, each sent
  when the previous one was answered, as a client script would;
* **eight at a time**: the same requests, eight in flight (a client script with a pool);
* **batch**: the files in a collection and one ``POST /api/v1/eval_batch_runs``.

Each mode's time runs from its first request to the end of its last execution (server
timestamps), and for the batch also to the run's ``completed_at`` (which includes the
admitter noticing the last execution). ``--processors bench`` uses the benchmark's instant
test processors (convert → segment): what is left is the orchestration's own cost per file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import expect, running_server, unique_pdf
from onepage import unique_copy

SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "description": "The report's title"},
        "north_q3": {"type": "string", "description": "North region Q3 revenue"},
    },
}


def _at(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def upload_all(client: httpx.AsyncClient, count: int, standard: bool) -> list[int]:
    """The SDK's upload sequence per file, eight at a time."""
    limit = asyncio.Semaphore(8)

    async def one(i: int) -> int:
        async with limit:
            created = expect(
                await client.post(
                    "/api/v1/files/upload",
                    json={"filename": f"page{i}.pdf", "content_type": "application/pdf"},
                )
            )
            body = unique_copy() if standard else unique_pdf()
            expect(await client.put(created["upload_url"], content=body))
            expect(await client.get(f"/api/v1/files/{created['file_id']}/confirm"))
            return int(created["file_id"])

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def finished_executions(
    client: httpx.AsyncClient, pipeline_id: str, count: int
) -> list[dict[str, Any]]:
    """Every execution of the pipeline once all ``count`` have ended."""
    while True:
        executions: list[dict[str, Any]] = []
        for offset in range(0, count, 100):
            page = expect(
                await client.get(
                    f"/api/v1/pipelines/{pipeline_id}/executions",
                    params={"limit": 100, "offset": offset},
                )
            )
            executions += page["executions"]
        if len(executions) >= count and all(e["completed_at"] for e in executions):
            return executions
        await asyncio.sleep(1.0)


async def one_by_one(client: httpx.AsyncClient, pipeline_id: str, ids: list[int]) -> dict[str, Any]:
    started = time.time()
    for file_id in ids:
        expect(
            await client.post(
                f"/api/v1/pipelines/{pipeline_id}/run",
                data={"file_url": f"datalab://file-{file_id}", "skip_cache": "true"},
            )
        )
    submitted = time.time() - started
    executions = await finished_executions(client, pipeline_id, len(ids))
    end = max(_at(e["completed_at"]) for e in executions)
    # When the last execution was created: admission's end (the rest is processing).
    admitted = max(_at(e["created"]) for e in executions) - started
    return {
        "seconds": end - started,
        "submit_seconds": submitted,
        "admitted_seconds": admitted,
        "completed": sum(e["status"] == "completed" for e in executions),
    }


async def eight_at_a_time(
    client: httpx.AsyncClient, pipeline_id: str, ids: list[int]
) -> dict[str, Any]:
    """The same requests as ``one_by_one``, eight in flight at any time."""
    limit = asyncio.Semaphore(8)

    async def one(file_id: int) -> None:
        async with limit:
            expect(
                await client.post(
                    f"/api/v1/pipelines/{pipeline_id}/run",
                    data={"file_url": f"datalab://file-{file_id}", "skip_cache": "true"},
                )
            )

    started = time.time()
    await asyncio.gather(*(one(i) for i in ids))
    submitted = time.time() - started
    executions = await finished_executions(client, pipeline_id, len(ids))
    end = max(_at(e["completed_at"]) for e in executions)
    # When the last execution was created: admission's end (the rest is processing).
    admitted = max(_at(e["created"]) for e in executions) - started
    return {
        "seconds": end - started,
        "submit_seconds": submitted,
        "admitted_seconds": admitted,
        "completed": sum(e["status"] == "completed" for e in executions),
    }


async def batch(client: httpx.AsyncClient, pipeline_id: str, ids: list[int]) -> dict[str, Any]:
    collection = expect(await client.post("/api/v1/collections", json={"name": "bench"}))
    for start in range(0, len(ids), 1000):
        expect(
            await client.post(
                f"/api/v1/collections/{collection['id']}/files",
                json={"file_ids": ids[start : start + 1000]},
            )
        )
    started = time.time()
    run = expect(
        await client.post(
            "/api/v1/eval_batch_runs",
            json={
                "collection_id": collection["id"],
                "pipeline_id": pipeline_id,
                "skip_cache": True,
            },
        )
    )
    while run["completed_at"] is None:
        await asyncio.sleep(0.5)
        run = expect(await client.get(f"/api/v1/eval_batch_runs/{run['id']}"))
    executions = await finished_executions(client, pipeline_id, len(ids))
    end = max(_at(e["completed_at"]) for e in executions)
    # When the last execution was created: admission's end (the rest is processing).
    admitted = max(_at(e["created"]) for e in executions) - started
    return {
        "seconds": end - started,
        "run_seconds": _at(run["completed_at"]) - started,
        "admitted_seconds": admitted,
        "completed": run["succeeded_files"],
        "status": run["status"],
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--processors", choices=["standard", "bench"], default="standard")
    args = parser.parse_args()
    standard = args.processors == "standard"
    second = (
        {"type": "extract", "settings": {"page_schema": SCHEMA}}
        if standard
        else {"type": "segment", "settings": {}}
    )
    report: dict[str, Any] = {"files": args.files, "workers": args.workers}
    async with running_server(workers=args.workers, processors=args.processors) as server:
        client = server.client(timeout=120.0)
        async with client:
            ids = await upload_all(client, args.files, standard)
            modes = (
                ("one_by_one", one_by_one),
                ("eight_at_a_time", eight_at_a_time),
                ("batch", batch),
            )
            for name, mode in modes:
                pipeline = expect(
                    await client.post(
                        "/api/v1/pipelines",
                        json={"steps": [{"type": "convert", "settings": {}}, second]},
                    )
                )["pipeline_id"]
                result = await mode(client, pipeline, ids)
                result["files_per_second"] = round(args.files / result["seconds"], 2)
                result["ms_per_file"] = round(1000 * result["seconds"] / args.files, 2)
                report[name] = result
    report["batch_overhead_ms_per_file"] = round(
        report["batch"]["ms_per_file"] - report["one_by_one"]["ms_per_file"], 2
    )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
