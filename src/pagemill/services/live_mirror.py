"""Writes committed snapshots into the live store, and rewrites the ones that failed.

The live store is a cache: a failed write must never fail a step. But a running step's live
entry that missed its write (the store was down or restarting) would stay missing or stale for
the whole step, so GETs would keep going to the ledger after the store is back. The mirror
remembers the last snapshot it could not write per execution and writes it again when the step
running it next beats (about every second); the store's ``seq`` guard makes a late write
harmless when a newer snapshot got there first.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from pagemill.domain.models import ExecutionSnapshot
from pagemill.domain.statuses import TERMINAL_EXECUTION
from pagemill.ports.live import LiveStore

log = logging.getLogger(__name__)
MAX_PENDING = 1024  # executions whose last write failed; the oldest are forgotten first


class LiveMirror:
    def __init__(self, live: LiveStore, ttl_after_finish_seconds: float) -> None:
        self._live = live
        self._ttl_after_finish = ttl_after_finish_seconds
        self._pending: OrderedDict[str, ExecutionSnapshot] = OrderedDict()

    @property
    def pending(self) -> int:
        """Executions whose latest snapshot is not in the live store yet."""
        return len(self._pending)

    async def write(self, snapshot: ExecutionSnapshot) -> None:
        """Mirror ``snapshot``; on failure remember it for ``repair`` (never raises)."""
        execution_id = snapshot.execution.execution_id
        try:
            await self._put(snapshot)
        except Exception:
            log.warning("live store write failed", exc_info=True)
            self._remember(snapshot)
        else:
            self._forget(execution_id, snapshot.execution.seq)

    async def repair(self, execution_id: str) -> None:
        """Write again the snapshot of ``execution_id`` that failed, if any (never raises)."""
        snapshot = self._pending.get(execution_id)
        if snapshot is None:
            return
        try:
            await self._put(snapshot)
        except Exception:
            return  # still down: the next beat tries again
        self._forget(execution_id, snapshot.execution.seq)

    async def _put(self, snapshot: ExecutionSnapshot) -> None:
        await self._live.put(snapshot)
        if snapshot.execution.status in TERMINAL_EXECUTION:
            await self._live.expire(snapshot.execution.execution_id, self._ttl_after_finish)

    def _remember(self, snapshot: ExecutionSnapshot) -> None:
        execution_id = snapshot.execution.execution_id
        known = self._pending.get(execution_id)
        if known is not None and known.execution.seq > snapshot.execution.seq:
            return  # a newer failed snapshot is already waiting
        self._pending[execution_id] = snapshot
        self._pending.move_to_end(execution_id)
        while len(self._pending) > MAX_PENDING:
            self._pending.popitem(last=False)

    def _forget(self, execution_id: str, seq: int) -> None:
        known = self._pending.get(execution_id)
        if known is not None and known.execution.seq <= seq:
            del self._pending[execution_id]
