"""Batch runs in the scale-out shape: a PostgreSQL ledger and a Procrastinate queue worker,
whose process also runs the batch admitter."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.component.test_batch_runs_api import collection_of, results, start, wait_run
from tests.component.test_executions_api import make_pipeline
from tests.support.app import test_server
from tests.support.postgres import postgres_database_async
from tests.support.processors import test_registry

pytestmark = pytest.mark.postgres


async def test_a_batch_run_on_postgresql_with_the_queue_worker(tmp_path: Path) -> None:
    async with (
        postgres_database_async() as url,
        test_server(
            tmp_path / "pg",
            test_registry(),
            database_url=url,
            max_pages_in_flight=4,
            batch_in_flight_share=0.5,
        ) as pg,
    ):
        assert pg.runtime.queue is not None
        collection_id, file_ids = await collection_of(pg, 5)
        pipeline_id = await make_pipeline(
            pg, [{"type": "convert", "settings": {}}, {"type": "segment", "settings": {}}]
        )
        started = await start(pg, {"collection_id": collection_id, "pipeline_id": pipeline_id})
        done = await wait_run(pg, started["id"])
        assert done["status"] == "completed"
        assert (done["total_files"], done["completed_files"], done["succeeded_files"]) == (5, 5, 5)
        items = (await results(pg, started["id"]))["file_results"]
        assert [i["file_id"] for i in items] == file_ids
        assert len({i["lookup_key"] for i in items}) == 5
