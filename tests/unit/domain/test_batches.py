"""The rules of batch runs: a file's outcome, a run's final status, the requests' checks."""

from __future__ import annotations

import pytest

from pagemill.domain.batches import (
    MAX_FILES_PER_REQUEST,
    BatchCounts,
    BatchStatus,
    ItemStatus,
    check_collection_name,
    check_file_ids,
    final_batch_status,
    item_status_of,
)
from pagemill.domain.errors import InvalidInput
from pagemill.domain.statuses import ExecutionStatus


@pytest.mark.parametrize(
    ("execution", "item"),
    [
        (ExecutionStatus.COMPLETED, ItemStatus.COMPLETED),
        (ExecutionStatus.COMPLETED_WITH_ERRORS, ItemStatus.FAILED),
        (ExecutionStatus.FAILED, ItemStatus.FAILED),
        (ExecutionStatus.CANCELLED, ItemStatus.CANCELLED),
    ],
)
def test_a_files_outcome_is_its_executions(execution: ExecutionStatus, item: ItemStatus) -> None:
    assert item_status_of(execution) is item


@pytest.mark.parametrize(
    ("counts", "cancelled", "status"),
    [
        (BatchCounts(completed=3), False, BatchStatus.COMPLETED),
        (BatchCounts(completed=1, failed=2), False, BatchStatus.COMPLETED),
        (BatchCounts(failed=2), False, BatchStatus.FAILED),
        (BatchCounts(), False, BatchStatus.COMPLETED),  # an empty collection did nothing wrong
        (BatchCounts(completed=2, cancelled=1), True, BatchStatus.CANCELLED),
    ],
)
def test_a_runs_final_status(counts: BatchCounts, cancelled: bool, status: BatchStatus) -> None:
    assert final_batch_status(counts, cancelled) is status


def test_counts_by_status() -> None:
    counts = BatchCounts.of({"pending": 4, "running": 2, "completed": 3, "failed": 1})
    assert (counts.total, counts.finished, counts.cancelled) == (10, 4, 0)


def test_requests_are_checked() -> None:
    assert check_collection_name("  invoices ") == "invoices"
    with pytest.raises(InvalidInput):
        check_collection_name("   ")
    assert check_file_ids([3, 1, 3, 2]) == [3, 1, 2]
    with pytest.raises(InvalidInput):
        check_file_ids([])
    with pytest.raises(InvalidInput, match="at most"):
        check_file_ids(list(range(1, MAX_FILES_PER_REQUEST + 2)))
