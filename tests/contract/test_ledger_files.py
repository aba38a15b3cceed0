"""The files part of the ledger contract (and pages in flight), on every SQL dialect."""

from __future__ import annotations

import dataclasses

from pagemill.adapters.sql import SqlLedger
from pagemill.domain.files import FileStatus
from pagemill.domain.ids import PUBLIC_NUMBER_MAX, PUBLIC_NUMBER_MIN
from pagemill.domain.statuses import ExecutionStatus
from tests.contract.ledger_kit import RATES, T0, at, new_execution, team


async def test_create_then_read_back(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")

    created = await ledger.files.create(
        "team_a", "Rapport été.pdf", "application/pdf", "files/k1", T0
    )

    assert isinstance(created.file_id, int) and created.file_id >= 1
    assert created.team_id == "team_a"
    assert (created.original_filename, created.content_type) == (
        "Rapport été.pdf",
        "application/pdf",
    )
    assert (created.blob_key, created.upload_status) == ("files/k1", FileStatus.PENDING)
    assert (created.file_size, created.sha256, created.created) == (None, None, T0)
    assert created.reference == f"datalab://file-{created.file_id}"
    assert await ledger.files.get(created.file_id, "team_a") == created
    assert await ledger.files.get(created.file_id, None) == created  # signed-URL access


async def test_ids_are_random_and_listing_is_newest_first(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")
    ids = [
        (await ledger.files.create("team_a", f"f{i}", "text/plain", f"files/{i}", at(i))).file_id
        for i in range(5)
    ]
    await ledger.files.create("team_b", "other", "text/plain", "files/b", at(9))

    assert len(set(ids)) == 5
    # Random, 53-bit (JavaScript-safe), above every sequential id of earlier versions: the
    # gaps between a team's ids tell nothing about other teams' uploads.
    assert all(PUBLIC_NUMBER_MIN <= i <= PUBLIC_NUMBER_MAX for i in ids)
    page, total = await ledger.files.page("team_a", limit=2, offset=1)
    assert total == 5
    assert [f.original_filename for f in page] == ["f3", "f2"]
    assert (await ledger.files.page("team_c", limit=10, offset=0)) == ([], 0)


async def test_reads_and_writes_are_team_scoped(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")
    mine = await ledger.files.create("team_a", "a", "text/plain", "files/a", T0)

    assert await ledger.files.get(mine.file_id, "team_b") is None
    assert await ledger.uploads.confirm(mine.file_id, "team_b") is None
    assert await ledger.files.delete(mine.file_id, "team_b") is None
    assert await ledger.files.get(mine.file_id, "team_a") == mine
    assert await ledger.files.get(mine.file_id + 1000, None) is None


async def test_delete_returns_the_row_once(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    stored = await ledger.files.create("team_a", "a", "text/plain", "files/a", T0)

    assert await ledger.files.delete(stored.file_id, "team_a") == stored
    assert await ledger.files.delete(stored.file_id, "team_a") is None
    assert await ledger.files.get(stored.file_id, None) is None
    assert await ledger.files.page("team_a", limit=10, offset=0) == ([], 0)


async def test_pages_in_flight_sums_unfinished_executions_of_the_team(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")
    assert await ledger.executions.pages_in_flight("team_a") == 0

    async def submit(team_id: str, pages: int | None) -> str:
        new = new_execution(team_id, ["convert"])
        if pages is not None:
            config = {**new.input_config, "page_count_at_submit": pages}
            new = dataclasses.replace(new, input_config=config)
        return (await ledger.executions.create(new, T0)).execution.execution_id

    await submit("team_a", 120)
    await submit("team_a", 7)
    await submit("team_a", None)  # created before admission control: counts as 0
    finished = await submit("team_a", 1000)
    await submit("team_b", 50)
    cancelled = await ledger.executions.cancel(finished, "team_a", at(1), RATES)
    assert cancelled is not None
    assert cancelled.execution.status is ExecutionStatus.CANCELLED

    assert await ledger.executions.pages_in_flight("team_a") == 127
    assert await ledger.executions.pages_in_flight("team_b") == 50
