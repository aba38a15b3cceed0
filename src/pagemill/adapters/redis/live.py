"""The live store on Redis: a hash per execution plus a capped stream of its events.

Layout (``pm:`` is the default prefix; the braces are a Redis Cluster hash tag, so both keys of
an execution live in one slot)::

    pm:exec:{<execution_id>}         hash  seq, status, snapshot (JSON), progress (JSON),
                                           states (JSON), [pinned]
                                           TTL 7 days, refreshed on each write
    pm:exec:{<execution_id>}:events  stream  type snapshot|progress, seq,
                                           status, steps, prev | step, data
                                           MAXLEN ~ 1000, same TTL as the hash

Stream ids are ``<n>-0``, ``n`` counting the execution's events from 1 (one more than the last
entry's), so they read the same on every replica and in the in-process store. ``states`` are
the steps' states of the stored snapshot (``StepState``); a snapshot event carries the new ones
and those they replaced (``prev``), from which readers derive the event stream.

Every write is one Lua script, so the ``seq`` guard and the event are atomic: an older snapshot
never overwrites a newer one, an equal seq rewrites the entry without an event. ``expire`` sets
``pinned`` and shortens both TTLs; later writes keep that deadline.

The client fails fast (0.5 s for a pooled connection, a connect or a reply, and for the whole
call; no retries): the live store is a cache and every caller has the ledger to fall back on.
Every Redis error leaves this module as ``ServiceUnavailable``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Mapping
from typing import Any, Literal, TypeVar, cast

import orjson
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from pagemill.adapters.redis.client import fail_fast_client
from pagemill.adapters.redis.codec import (
    DecodeError,
    decode_snapshot,
    decode_states,
    encode_progress_fields,
    encode_snapshot,
    encode_states,
)
from pagemill.domain.errors import InvalidInput, ServiceUnavailable
from pagemill.domain.events import StepState, step_states
from pagemill.domain.models import ExecutionSnapshot
from pagemill.domain.statuses import ExecutionStatus
from pagemill.ports.live import LiveEvent, LiveStore

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TTL_SECONDS = 7 * 24 * 3600
DEFAULT_MAX_EVENTS = 1000
_EVENT_ID = re.compile(r"\d+(?:-\d+)?")

# The next id of an execution's stream: one more than its last entry's.
_NEXT_ID = """
local function next_id(stream)
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  if #last == 0 then
    return '1-0'
  end
  return tostring(tonumber(string.match(last[1][1], '^(%d+)')) + 1) .. '-0'
end
"""

# KEYS: hash, stream. ARGV: seq, status, snapshot JSON, TTL ms, stream MAXLEN, states JSON.
_PUT = (
    _NEXT_ID
    + """
local seq = tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'seq'))
if current ~= nil and current > seq then
  return 0
end
local previous = redis.call('HGET', KEYS[1], 'states')
redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'status', ARGV[2], 'snapshot', ARGV[3],
           'states', ARGV[6])
if redis.call('HEXISTS', KEYS[1], 'pinned') == 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
if current == nil or current < seq then
  if previous then
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], next_id(KEYS[2]),
               'type', 'snapshot', 'seq', ARGV[1], 'status', ARGV[2], 'steps', ARGV[6],
               'prev', previous)
  else
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], next_id(KEYS[2]),
               'type', 'snapshot', 'seq', ARGV[1], 'status', ARGV[2], 'steps', ARGV[6])
  end
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return 1
"""
)

# KEYS: hash, stream. ARGV: step, TTL ms, stream MAXLEN, update JSON, then key/JSON-value pairs.
# Values stay JSON text: cjson would round numbers and turn [] into {}.
_PROGRESS = (
    _NEXT_ID
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local raw = redis.call('HGET', KEYS[1], 'progress')
local all = {}
if raw then
  all = cjson.decode(raw)
end
local step = all[ARGV[1]]
if type(step) ~= 'table' then
  step = {}
end
for i = 5, #ARGV, 2 do
  step[ARGV[i]] = ARGV[i + 1]
end
all[ARGV[1]] = step
redis.call('HSET', KEYS[1], 'progress', cjson.encode(all))
if redis.call('HEXISTS', KEYS[1], 'pinned') == 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
local seq = redis.call('HGET', KEYS[1], 'seq') or '0'
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], next_id(KEYS[2]),
           'type', 'progress', 'seq', seq, 'step', ARGV[1], 'data', ARGV[4])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return 1
"""
)

# KEYS: hash, stream. ARGV: TTL ms.
_EXPIRE = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'pinned', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
"""


class RedisLiveStore(LiveStore):
    """``LiveStore`` on one Redis server (``redis://`` or ``rediss://``)."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "pm:",
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        max_events: int = DEFAULT_MAX_EVENTS,
        timeout_seconds: float = 0.5,
        max_connections: int = 32,
        health_check_interval: int = 30,
    ) -> None:
        self._prefix = prefix
        self._ttl_ms = _milliseconds(ttl_seconds)
        self._max_events = max_events
        # One bound for a whole call, whichever phase hangs (pool wait, connect, reply).
        self._deadline = timeout_seconds
        # Fail fast everywhere: the caller falls back to the ledger.
        self._client = fail_fast_client(
            url,
            timeout_seconds=timeout_seconds,
            max_connections=max_connections,
            health_check_interval=health_check_interval,
        )
        self._put = self._client.register_script(_PUT)
        self._progress = self._client.register_script(_PROGRESS)
        self._expire = self._client.register_script(_EXPIRE)

    @property
    def prefix(self) -> str:
        return self._prefix

    def keys(self, execution_id: str) -> tuple[str, str]:
        """The hash and the stream of one execution."""
        key = f"{self._prefix}exec:{{{execution_id}}}"
        return key, f"{key}:events"

    async def put(self, snapshot: ExecutionSnapshot) -> None:
        execution = snapshot.execution
        payload = encode_snapshot(snapshot)
        await self._call(
            self._put(
                keys=self.keys(execution.execution_id),
                args=[
                    execution.seq,
                    execution.status.value,
                    payload,
                    self._ttl_ms,
                    self._max_events,
                    encode_states(step_states(snapshot.steps)),
                ],
            )
        )

    async def progress(self, execution_id: str, step_index: int, progress: dict[str, Any]) -> None:
        update = orjson.dumps(progress)
        await self._call(
            self._progress(
                keys=self.keys(execution_id),
                args=[
                    str(step_index),
                    self._ttl_ms,
                    self._max_events,
                    update,
                    *encode_progress_fields(progress),
                ],
            )
        )

    async def get(self, execution_id: str) -> ExecutionSnapshot | None:
        key, _ = self.keys(execution_id)
        raw, progress = await self._call(self._client.hmget(key, ["snapshot", "progress"]))
        if raw is None:
            return None
        try:
            return decode_snapshot(raw, progress)
        except DecodeError:  # a corrupt or foreign entry is as good as none: ask the ledger
            log.warning("unreadable live entry for %s", execution_id, exc_info=True)
            return None

    async def events(
        self,
        execution_id: str,
        after: str | None = None,
        count: int = 100,
        *,
        inclusive: bool = False,
    ) -> list[LiveEvent]:
        if after is not None and not _EVENT_ID.fullmatch(after):
            raise InvalidInput(f"Invalid event id {after!r}")
        if count <= 0:
            return []
        _, stream = self.keys(execution_id)
        start = "-" if after is None else after if inclusive else f"({after}"
        entries = await self._call(self._client.xrange(stream, start, "+", count=count))
        return [_event(entry_id, fields) for entry_id, fields in entries or () if entry_id]

    async def expire(self, execution_id: str, seconds: float) -> None:
        await self._call(self._expire(keys=self.keys(execution_id), args=[_milliseconds(seconds)]))

    async def close(self) -> None:
        await self._client.aclose()

    async def _call(self, command: Awaitable[T]) -> T:
        """Run one command within the deadline; any failure is ``ServiceUnavailable``."""
        try:
            async with asyncio.timeout(self._deadline):
                return await command
        except (RedisError, OSError) as error:  # TimeoutError is an OSError
            if isinstance(error, RedisConnectionError):
                # The server went away (a restart, a failover): every idle pooled connection is
                # as dead as this one. Drop them all now, or each would fail one more write
                # after the server is back, and those writes' live entries would be missing.
                with contextlib.suppress(RedisError, OSError):
                    await self._client.connection_pool.disconnect(inuse_connections=False)
            reason = str(error) or type(error).__name__
            raise ServiceUnavailable(f"The live store is unavailable: {reason}") from error


def _milliseconds(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def _event(entry_id: bytes | str, raw: Mapping[bytes | str, bytes | str] | None) -> LiveEvent:
    fields = {_str(k): _str(v) for k, v in (raw or {}).items()}
    status, step, data = fields.get("status"), fields.get("step"), fields.get("data")
    steps, previous = fields.get("steps"), fields.get("prev")
    return LiveEvent(
        id=_str(entry_id),
        type=cast(Literal["snapshot", "progress"], fields.get("type")),
        seq=int(fields.get("seq") or 0),
        status=ExecutionStatus(status) if status is not None else None,
        step_index=int(step) if step is not None else None,
        progress=orjson.loads(data) if data is not None else None,
        steps=_states(steps),
        previous=_states(previous),
    )


def _states(raw: str | None) -> tuple[StepState, ...] | None:
    if raw is None:
        return None
    try:
        return decode_states(raw)
    except DecodeError:  # a foreign entry: readers derive from what they know instead
        log.warning("unreadable step states in a live event", exc_info=True)
        return None


def _str(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
