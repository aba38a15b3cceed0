"""The live mirror: a write the live store missed is written again, and never an older one."""

from __future__ import annotations

from typing import Any

from pagemill.adapters.memory import MemoryLiveStore
from pagemill.domain.errors import ServiceUnavailable
from pagemill.domain.models import ExecutionSnapshot
from pagemill.services.live_mirror import LiveMirror
from tests.contract.test_live_store import snapshot


class FlakyLiveStore(MemoryLiveStore):
    """A memory store whose writes fail while ``down`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def put(self, snapshot: ExecutionSnapshot) -> None:
        if self.down:
            raise ServiceUnavailable("The live store is unavailable: down")
        await super().put(snapshot)

    async def expire(self, execution_id: str, seconds: float) -> None:
        if self.down:
            raise ServiceUnavailable("The live store is unavailable: down")
        await super().expire(execution_id, seconds)


async def _seq(live: FlakyLiveStore) -> Any:
    got = await live.get("pex_a")
    return got.execution.seq if got is not None else None


async def test_a_failed_write_is_written_again_once_the_store_is_back() -> None:
    live = FlakyLiveStore()
    mirror = LiveMirror(live, ttl_after_finish_seconds=60)
    live.down = True
    await mirror.write(snapshot(3))  # does not raise: a step never fails for the cache
    assert mirror.pending == 1
    await mirror.repair("pex_a")  # still down
    assert mirror.pending == 1
    live.down = False
    await mirror.repair("pex_a")
    assert mirror.pending == 0
    assert await _seq(live) == 3


async def test_a_newer_write_supersedes_the_failed_one() -> None:
    live = FlakyLiveStore()
    mirror = LiveMirror(live, ttl_after_finish_seconds=60)
    live.down = True
    await mirror.write(snapshot(3))
    live.down = False
    await mirror.write(snapshot(4))
    assert mirror.pending == 0
    await mirror.repair("pex_a")
    assert await _seq(live) == 4


async def test_an_older_failed_write_never_replaces_a_newer_pending_one() -> None:
    live = FlakyLiveStore()
    mirror = LiveMirror(live, ttl_after_finish_seconds=60)
    live.down = True
    await mirror.write(snapshot(5))
    await mirror.write(snapshot(4))  # a late publisher
    live.down = False
    await mirror.repair("pex_a")
    assert await _seq(live) == 5


async def test_other_executions_are_not_touched_by_a_repair() -> None:
    live = FlakyLiveStore()
    mirror = LiveMirror(live, ttl_after_finish_seconds=60)
    live.down = True
    await mirror.write(snapshot(2, execution_id="pex_b"))
    live.down = False
    await mirror.repair("pex_a")
    assert mirror.pending == 1
    assert await live.get("pex_b") is None
