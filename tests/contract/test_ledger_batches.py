"""The collections and batch-runs part of the ledger contract, on every SQL dialect."""

from __future__ import annotations

import dataclasses
import tracemalloc

import sqlalchemy as sa

from pagemill.adapters.sql import SqlLedger
from pagemill.adapters.sql.database import to_db
from pagemill.adapters.sql.tables import files
from pagemill.domain.batches import BatchStatus, ItemOutcome, ItemStatus, NewBatchRun
from pagemill.domain.files import FileStatus
from pagemill.domain.statuses import ExecutionStatus
from tests.contract.ledger_kit import RATES, T0, at, new_execution, team


async def uploaded(ledger: SqlLedger, team_id: str, name: str) -> int:
    created = await ledger.files.create(team_id, name, "application/pdf", f"files/{name}", T0)
    await ledger.uploads.replace_pending(created.file_id, f"files/{name}", 10, "0" * 64)
    confirmed = await ledger.uploads.confirm(created.file_id, team_id)
    assert confirmed is not None and confirmed.upload_status is FileStatus.COMPLETED
    return created.file_id


def new_run(team_id: str, collection_id: int) -> NewBatchRun:
    return NewBatchRun(team_id, collection_id, "pl_one", 1, None, {"page_range": "0"})


async def test_collections_link_the_teams_files_in_order(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")
    c = await ledger.collections.create("team_a", "docs", "some", T0)
    ids = [await uploaded(ledger, "team_a", f"f{i}") for i in range(4)]
    theirs = await uploaded(ledger, "team_b", "b")

    assert await ledger.collections.add_files(
        c.collection_id, "team_a", [ids[0], theirs], at(1)
    ) == (
        0,
        [theirs],
    )
    assert await ledger.collections.add_files(c.collection_id, "team_b", [theirs], at(1)) is None
    assert await ledger.collections.add_files(c.collection_id, "team_a", ids[2:], at(1)) == (2, [])
    assert await ledger.collections.add_files(c.collection_id, "team_a", ids, at(2)) == (2, [])
    listed = await ledger.collections.files(c.collection_id, "team_a", limit=10, offset=0)
    assert listed is not None
    assert ([f.file_id for f in listed[0]], listed[1]) == ([ids[2], ids[3], ids[0], ids[1]], 4)
    got = await ledger.collections.get(c.collection_id, "team_a")
    assert got is not None and (got.file_count, got.updated) == (4, at(2))
    assert await ledger.collections.get(c.collection_id, "team_b") is None

    assert await ledger.collections.remove_files(c.collection_id, "team_a", [ids[2], 5], at(3)) == 1
    await ledger.files.delete(ids[3], "team_a")  # its link goes with it
    listed = await ledger.collections.files(c.collection_id, "team_a", limit=1, offset=1)
    assert listed is not None and ([f.file_id for f in listed[0]], listed[1]) == ([ids[1]], 2)

    page, total = await ledger.collections.page("team_a", limit=10, offset=0)
    assert total == 1 and page[0].file_count == 2
    assert await ledger.collections.delete(c.collection_id, "team_b") is False
    assert await ledger.collections.delete(c.collection_id, "team_a") is True
    assert await ledger.collections.get(c.collection_id, "team_a") is None


async def test_a_run_copies_the_uploaded_files_and_moves_by_compare_and_set(
    ledger: SqlLedger,
) -> None:
    await team(ledger, "team_a")
    c = await ledger.collections.create("team_a", "docs", None, T0)
    ids = [await uploaded(ledger, "team_a", f"f{i}") for i in range(3)]
    waiting = await ledger.files.create("team_a", "pending", "application/pdf", "files/p", T0)
    await ledger.collections.add_files(c.collection_id, "team_a", [*ids, waiting.file_id], T0)
    assert await ledger.batch_runs.create(new_run("team_b", c.collection_id), T0) is None

    run = await ledger.batch_runs.create(new_run("team_a", c.collection_id), at(1))
    assert run is not None
    assert (run.status, run.total_files, run.counts.pending, run.options) == (
        BatchStatus.PENDING,
        3,  # the file still uploading is not part of it
        3,
        {"page_range": "0"},
    )
    items = await ledger.batch_runs.items(run.run_id, "team_a", limit=10, offset=0)
    assert items is not None
    assert [(i.position, i.file_id, i.filename) for i in items[0]] == [
        (1, ids[0], "f0"),
        (2, ids[1], "f1"),
        (3, ids[2], "f2"),
    ]
    assert await ledger.batch_runs.items(run.run_id, "team_b", limit=10, offset=0) is None

    assert not await ledger.batch_runs.mark_running(run.run_id, 1, at(2))  # nothing reserved
    assert await ledger.batch_runs.reserve(run.run_id, 1, "pex_a")
    assert not await ledger.batch_runs.reserve(run.run_id, 1, "pex_b")  # taken
    assert await ledger.batch_runs.mark_running(run.run_id, 1, at(2))
    assert not await ledger.batch_runs.mark_running(run.run_id, 1, at(2))
    started = await ledger.batch_runs.get(run.run_id, "team_a")
    assert started is not None and (started.status, started.started_at) == (
        BatchStatus.RUNNING,
        at(2),
    )
    assert [i.position for i in await ledger.batch_runs.pending(run.run_id, 5)] == [2, 3]

    scored = ItemOutcome(1, ItemStatus.COMPLETED, eval_score=0.5, eval_results={"score": 0.5})
    assert await ledger.batch_runs.finish_items(run.run_id, [scored], at(3)) == 1
    # Compare-and-set per item: one that ended already is left as it is.
    assert (
        await ledger.batch_runs.finish_items(
            run.run_id,
            [ItemOutcome(1, ItemStatus.FAILED), ItemOutcome(2, ItemStatus.COMPLETED, 1.0)],
            at(3),
        )
        == 1
    )
    assert await ledger.batch_runs.finalize(run.run_id, at(4)) is None  # item 3 is pending
    assert await ledger.batch_runs.finish_items(
        run.run_id, [ItemOutcome(3, ItemStatus.FAILED, error_message="no")], at(4)
    )
    final = await ledger.batch_runs.finalize(run.run_id, at(5))
    assert final is not None
    assert (final.status, final.completed_at, final.avg_score) == (
        BatchStatus.COMPLETED,
        at(5),
        0.75,
    )
    assert (final.counts.completed, final.counts.failed, final.counts.finished) == (2, 1, 3)
    assert await ledger.batch_runs.finalize(run.run_id, at(6)) is None  # one winner
    items = await ledger.batch_runs.items(run.run_id, "team_a", limit=10, offset=0)
    assert items is not None and items[0][0].eval_results == {"score": 0.5}
    assert items[0][2].error_message == "no" and items[0][2].finished_at == at(4)


async def test_cancel_and_the_executions_of_running_items(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    c = await ledger.collections.create("team_a", "docs", None, T0)
    ids = [await uploaded(ledger, "team_a", f"f{i}") for i in range(3)]
    await ledger.collections.add_files(c.collection_id, "team_a", ids, T0)
    run = await ledger.batch_runs.create(new_run("team_a", c.collection_id), T0)
    assert run is not None
    executions = []
    for position in (1, 2):
        new = new_execution("team_a", ["convert"])
        await ledger.executions.create(new, at(1))
        await ledger.batch_runs.reserve(run.run_id, position, new.execution_id)
        await ledger.batch_runs.mark_running(run.run_id, position, at(1))
        executions.append(new.execution_id)
    await ledger.executions.cancel(executions[0], "team_a", at(2), RATES)

    finished = await ledger.batch_runs.finished_executions(run.run_id, 10)
    assert [(i.position, s) for i, s in finished] == [(1, ExecutionStatus.CANCELLED)]
    assert await ledger.batch_runs.running_executions(run.run_id, 10) == [executions[1]]
    # An execution that no longer exists (deleted) is reported as such, not waited for.
    other = await ledger.batch_runs.create(new_run("team_a", c.collection_id), T0)
    assert other is not None
    await ledger.batch_runs.reserve(other.run_id, 2, "pex_deleted")
    await ledger.batch_runs.mark_running(other.run_id, 2, at(1))
    vanished = await ledger.batch_runs.finished_executions(other.run_id, 10)
    assert [(i.position, s) for i, s in vanished] == [(2, None)]
    assert await ledger.batch_runs.running_executions(other.run_id, 10) == []

    assert await ledger.batch_runs.cancel(run.run_id, "team_b", at(3)) is None
    cancelled = await ledger.batch_runs.cancel(run.run_id, "team_a", at(3))
    assert cancelled is not None and cancelled.status is BatchStatus.CANCELLED
    assert (cancelled.counts.cancelled, cancelled.counts.running) == (1, 2)  # item 3 never starts
    assert cancelled.cancel_requested and cancelled.completed_at is None
    for position in (1, 2):
        await ledger.batch_runs.finish_items(
            run.run_id, [ItemOutcome(position, ItemStatus.CANCELLED)], at(4)
        )
    final = await ledger.batch_runs.finalize(run.run_id, at(5))
    assert final is not None and (final.status, final.counts.cancelled) == (
        BatchStatus.CANCELLED,
        3,
    )
    again = await ledger.batch_runs.cancel(run.run_id, "team_a", at(6))
    assert again is not None and again.completed_at == at(5)


async def test_leases_share_runs_between_admitters(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    c = await ledger.collections.create("team_a", "docs", None, T0)
    await ledger.collections.add_files(
        c.collection_id, "team_a", [await uploaded(ledger, "team_a", "f")], T0
    )
    run = await ledger.batch_runs.create(new_run("team_a", c.collection_id), T0)
    assert run is not None

    assert [r.run_id for r in await ledger.batch_runs.lease_unfinished("a", at(1), 10, 5)] == [
        run.run_id
    ]
    assert await ledger.batch_runs.lease_unfinished("b", at(2), 10, 5) == []
    assert len(await ledger.batch_runs.lease_unfinished("a", at(5), 10, 5)) == 1  # renewed
    assert await ledger.batch_runs.lease_unfinished("b", at(14), 10, 5) == []
    assert len(await ledger.batch_runs.lease_unfinished("b", at(16), 10, 5)) == 1  # lapsed
    await ledger.batch_runs.release("b")
    assert len(await ledger.batch_runs.lease_unfinished("a", at(17), 10, 5)) == 1
    await ledger.batch_runs.finish_items(run.run_id, [ItemOutcome(1, ItemStatus.FAILED)], at(18))
    assert (await ledger.batch_runs.finalize(run.run_id, at(18))) is not None
    assert await ledger.batch_runs.lease_unfinished("a", at(19), 10, 5) == []  # wound down


async def test_ten_thousand_files_are_copied_in_the_database(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    c = await ledger.collections.create("team_a", "many", None, T0)
    rows = [
        {
            "id": 10**9 + i,
            "team_id": "team_a",
            "original_filename": f"f{i}.pdf",
            "content_type": "application/pdf",
            "blob_key": f"files/{i}",
            "upload_status": FileStatus.COMPLETED.value,
            "file_size": 10,
            "created": to_db(T0),
        }
        for i in range(10_000)
    ]
    async with ledger.database.write() as conn:
        await conn.execute(sa.insert(files), rows)
    for start in range(0, 10_000, 1000):
        ids = [r["id"] for r in rows[start : start + 1000]]
        assert await ledger.collections.add_files(c.collection_id, "team_a", ids, T0) == (1000, [])
    del rows

    tracemalloc.start()
    try:
        run = await ledger.batch_runs.create(new_run("team_a", c.collection_id), at(1))
        assert run is not None
        got = await ledger.batch_runs.get(run.run_id, "team_a")
        pending = await ledger.batch_runs.pending(run.run_id, 64)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got is not None and (got.total_files, got.counts.pending) == (10_000, 10_000)
    assert [i.position for i in pending] == list(range(1, 65))
    # Ten thousand items as Python objects would take several megabytes.
    assert peak < 2_000_000, peak
    last = await ledger.batch_runs.items(run.run_id, "team_a", limit=5, offset=9_998)
    assert last is not None and [i.filename for i in last[0]] == ["f9998.pdf", "f9999.pdf"]
    assert dataclasses.replace(got, counts=run.counts) == run
