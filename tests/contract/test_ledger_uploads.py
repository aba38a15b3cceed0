"""The uploads part of the ledger contract: content replaced only while not confirmed."""

from __future__ import annotations

import asyncio

from pagemill.adapters.sql import SqlLedger
from pagemill.domain.files import FileStatus
from pagemill.ports.ledger.uploads import ReplacedContent
from tests.contract.ledger_kit import T0, team

SHA = "ab" * 32


async def test_content_replaces_until_the_file_is_confirmed(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    stored = await ledger.files.create("team_a", "a", "text/plain", "files/k0", T0)

    first = await ledger.uploads.replace_pending(stored.file_id, "files/k1", 2**40, SHA)
    assert first is not None and (first.previous_blob_key, first.previous_size) == (
        "files/k0",
        None,
    )
    assert (first.file.blob_key, first.file.file_size, first.file.sha256) == (
        "files/k1",
        2**40,
        SHA,
    )
    second = await ledger.uploads.replace_pending(stored.file_id, "files/k2", 5, SHA)
    assert second is not None and (second.previous_blob_key, second.previous_size) == (
        "files/k1",
        2**40,
    )

    confirmed = await ledger.uploads.confirm(stored.file_id, "team_a")
    assert confirmed is not None and confirmed.upload_status is FileStatus.COMPLETED
    assert (confirmed.blob_key, confirmed.file_size) == ("files/k2", 5)

    assert await ledger.uploads.replace_pending(stored.file_id, "files/k3", 9, SHA) is None
    assert await ledger.uploads.fail_pending(stored.file_id) is None
    assert await ledger.files.get(stored.file_id, None) == confirmed  # frozen
    assert await ledger.uploads.confirm(stored.file_id, "team_a") == confirmed  # idempotent


async def test_a_file_without_content_is_not_confirmed(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    stored = await ledger.files.create("team_a", "a", "text/plain", "files/k0", T0)

    unchanged = await ledger.uploads.confirm(stored.file_id, "team_a")
    assert unchanged == stored

    await ledger.uploads.replace_pending(stored.file_id, "files/k1", 3, SHA)
    failed = await ledger.uploads.fail_pending(stored.file_id)
    assert failed is not None and failed.file.upload_status is FileStatus.FAILED
    assert (failed.file.file_size, failed.file.sha256) == (None, None)
    assert (failed.previous_blob_key, failed.previous_size) == ("files/k1", 3)
    refused = await ledger.uploads.confirm(stored.file_id, "team_a")
    assert refused is not None and refused.upload_status is FileStatus.FAILED
    retried = await ledger.uploads.replace_pending(stored.file_id, "files/k2", 4, SHA)
    assert retried is not None and retried.file.upload_status is FileStatus.PENDING


async def test_unknown_files_and_other_teams_are_none(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")
    stored = await ledger.files.create("team_a", "a", "text/plain", "files/k0", T0)

    assert await ledger.uploads.confirm(stored.file_id, "team_b") is None
    assert await ledger.uploads.replace_pending(stored.file_id + 7, "files/x", 1, SHA) is None
    assert await ledger.uploads.fail_pending(stored.file_id + 7) is None


async def test_racing_uploads_and_confirm_leave_one_consistent_content(
    ledger: SqlLedger,
) -> None:
    await team(ledger, "team_a")
    stored = await ledger.files.create("team_a", "a", "text/plain", "files/k0", T0)
    await ledger.uploads.replace_pending(stored.file_id, "files/first", 1, SHA)

    replacements = [
        ledger.uploads.replace_pending(stored.file_id, f"files/r{i}", 10 + i, SHA) for i in range(5)
    ]
    *outcomes, _ = await asyncio.gather(
        *replacements, ledger.uploads.confirm(stored.file_id, "team_a")
    )

    final = await ledger.files.get(stored.file_id, None)
    assert final is not None and final.upload_status is FileStatus.COMPLETED
    replaced = [o for o in outcomes if isinstance(o, ReplacedContent)]
    refused = {f"files/r{i}" for i, o in enumerate(outcomes) if o is None}
    # Every replacement handed back a distinct previous key (none lost, none deleted twice);
    # with the refused ones (their writers delete them), exactly the confirmed key is left.
    previous = [o.previous_blob_key for o in replaced]
    assert len(set(previous)) == len(previous)
    keys = {"files/first"} | {f"files/r{i}" for i in range(5)}
    assert keys - set(previous) - refused == {final.blob_key}
    sizes = {"files/first": 1} | {f"files/r{i}": 10 + i for i in range(5)}
    assert final.file_size == sizes[final.blob_key]
