"""Teams and API keys: issue a key once, store only its hash, authenticate in constant time.

A key acts for its team. Keys the operator creates (CLI, first start) act as the team's owner;
a key a user created acts with that user's current role in the team and stops working when the
user leaves the team or is disabled. ``last_used_at`` is written at most once a minute per key
and process, in the background: never on a request's path.

Authentication is cached per secret for ``cache_seconds``, counted from the start of the ledger
read that produced the entry, so a key revoked (or a user removed) elsewhere stops working in
this process within that window. Two things keep the cache from stalling a busy server:

- **Single flight.** Concurrent requests with the same key share one ledger lookup.
- **Refresh ahead.** Once an entry is half its window old, the next request starts a refresh in
  the background and is served from the cache meanwhile; under steady traffic the entry is
  renewed before it expires and no request waits for a read. An entry that could not be renewed
  in time is dropped at the end of its window as before.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from pagemill.domain.clock import Clock
from pagemill.domain.errors import InvalidInput, NotFound, ServiceUnavailable, Unauthenticated
from pagemill.domain.ids import KEY_PREFIX, TEAM_PREFIX, new_id, random_base62
from pagemill.domain.models import ApiKey, Team
from pagemill.domain.teams import Role
from pagemill.ports.ledger.tenancy import TenancyLedger
from pagemill.services.authz import require_manager

log = logging.getLogger("pagemill.keys")

SECRET_PREFIX = "pm_"  # noqa: S105 - a marker that makes leaked keys easy to scan for
_KEY_ID_LENGTH = 12
_SECRET_LENGTH = 32  # 62**32 ≈ 2**190 bits of entropy: a plain SHA-256 is a sound hash here.
DEFAULT_TEAM = "default"
TOUCH_INTERVAL_SECONDS = 60.0  # ``last_used_at`` is written at most this often per key
_MAX_CACHED = 10_000
_REFRESH_AFTER = 0.5  # fraction of ``cache_seconds`` after which an entry is renewed ahead


@dataclass(frozen=True, slots=True)
class Principal:
    team_id: str
    key_id: str
    role: Role = Role.OWNER
    user_id: str | None = None  # None: an operator key (CLI)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    team: Team
    key_id: str
    secret: str  # shown once, never stored
    key: ApiKey | None = None


@dataclass(frozen=True, slots=True)
class _Cached:
    principal: Principal
    read_at: float  # monotonic time the ledger read began: what the entry knows is this old
    expires_at: datetime | None  # the key's own expiry


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_team_name(team_name: str) -> str:
    name = team_name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("A team name must have 1 to 120 characters.")
    return name


class KeyService:
    def __init__(
        self,
        tenancy: TenancyLedger,
        clock: Clock,
        cache_seconds: float = 5.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tenancy = tenancy
        self._clock = clock
        self._monotonic = monotonic  # ages cache entries; replaceable in tests
        self._cache_seconds = cache_seconds
        # hash of a secret → what authenticated it. Only successful lookups are cached.
        self._cache: dict[str, _Cached] = {}
        self._lookups: dict[str, asyncio.Task[_Cached]] = {}  # hash → the lookup in flight
        # Bumped by a revocation here: a lookup that began before it must not be cached.
        self._generation = 0
        self._touched: dict[str, float] = {}  # key id → monotonic time of the last write
        self._touches: set[asyncio.Task[None]] = set()

    async def issue(
        self, team_name: str, key_name: str = "default", created_by: str | None = None
    ) -> IssuedKey:
        """A new key of the team named ``team_name``, creating the team if needed."""
        name = check_team_name(team_name)
        team = await self._tenancy.team_by_name(name)
        if team is None:
            team = await self._tenancy.create_team(new_id(TEAM_PREFIX), name, self._clock.now())
        return await self._issue(team, key_name, created_by, None)

    async def _issue(
        self, team: Team, key_name: str, created_by: str | None, expires_at: datetime | None
    ) -> IssuedKey:
        label = key_name.strip()
        if not label or len(label) > 200:
            raise InvalidInput("A key name must have 1 to 200 characters.")
        key_body = random_base62(_KEY_ID_LENGTH)
        secret = SECRET_PREFIX + key_body + random_base62(_SECRET_LENGTH)
        key = ApiKey(
            id=KEY_PREFIX + key_body,
            team_id=team.id,
            name=label,
            key_hash=hash_secret(secret),
            created=self._clock.now(),
            expires_at=expires_at,
            prefix=SECRET_PREFIX + key_body,
            created_by=created_by,
        )
        await self._tenancy.create_api_key(key)
        return IssuedKey(team=team, key_id=key.id, secret=secret, key=key)

    async def needs_first_key(self) -> bool:
        return await self._tenancy.count_teams() == 0

    # -- administration ----------------------------------------------------------------------
    async def create_key(
        self,
        team_id: str,
        name: str,
        *,
        actor: Role,
        created_by: str | None,
        expires_at: datetime | None = None,
    ) -> IssuedKey:
        require_manager(actor)
        if expires_at is not None and expires_at <= self._clock.now():
            raise InvalidInput("expires_at must be in the future.")
        team = await self._tenancy.team(team_id)
        if team is None:
            raise NotFound("Team not found.")
        return await self._issue(team, name, created_by, expires_at)

    async def list_keys(self, team_id: str, *, actor: Role) -> list[ApiKey]:
        require_manager(actor)
        await self.settle()  # the listing shows the last uses this process has seen
        return await self._tenancy.list_api_keys(team_id)

    async def revoke_key(self, team_id: str, key_id: str, *, actor: Role) -> ApiKey:
        require_manager(actor)
        key = await self._tenancy.revoke_api_key(team_id, key_id, self._clock.now())
        if key is None:
            raise NotFound(f"API key {key_id} not found.")
        self._forget(key_id)
        return key

    def forget_user(self, user_id: str) -> None:
        """Drop what this process cached of the keys of ``user_id`` (their role changed, or
        they left the team): the next request reads the membership again."""
        self._drop(lambda principal: principal.user_id == user_id)

    def _forget(self, key_id: str) -> None:
        self._drop(lambda principal: principal.key_id == key_id)

    def _drop(self, matches: Callable[[Principal], bool]) -> None:
        self._generation += 1
        for digest, entry in list(self._cache.items()):
            if matches(entry.principal):
                del self._cache[digest]

    # -- authentication ----------------------------------------------------------------------
    async def authenticate(self, secret: str | None) -> Principal:
        if not secret:
            raise Unauthenticated("Missing API key: send it in the X-API-Key header.")
        digest = hash_secret(secret)
        now = self._monotonic()
        cached = self._cache.get(digest)
        if cached is not None and now - cached.read_at < self._cache_seconds:
            if cached.expires_at is not None and cached.expires_at <= self._clock.now():
                self._cache.pop(digest, None)
                raise Unauthenticated("Invalid API key.")
            if now - cached.read_at >= self._cache_seconds * _REFRESH_AFTER:
                self._start_lookup(secret, digest)  # serve this one cached; renew behind it
            principal = cached.principal
        else:
            principal = (await self._shared_lookup(secret, digest)).principal
        self._touch_later(principal.key_id, now)
        return principal

    async def _shared_lookup(self, secret: str, digest: str) -> _Cached:
        """The lookup of ``digest`` in flight, or a new one; every caller awaits the same read.
        Shielded: a caller that goes away does not cancel the others' answer."""
        try:
            return await asyncio.shield(self._start_lookup(secret, digest))
        except Unauthenticated:
            raise Unauthenticated("Invalid API key.") from None  # one instance per request

    def _start_lookup(self, secret: str, digest: str) -> asyncio.Task[_Cached]:
        task = self._lookups.get(digest)
        if task is None:
            task = asyncio.create_task(self._lookup_and_cache(secret, digest))
            self._lookups[digest] = task
            task.add_done_callback(lambda done: self._lookup_done(digest, done))
        return task

    def _lookup_done(self, digest: str, task: asyncio.Task[_Cached]) -> None:
        if self._lookups.get(digest) is task:
            del self._lookups[digest]
        if not task.cancelled():
            task.exception()  # a refresh nobody awaited: its failure is not worth a warning

    async def _lookup_and_cache(self, secret: str, digest: str) -> _Cached:
        generation, read_at = self._generation, self._monotonic()
        try:
            principal, expires_at = await self._lookup(secret, digest)
        except Unauthenticated:
            self._cache.pop(digest, None)  # revoked, expired or gone: stop serving it now
            raise
        entry = _Cached(principal, read_at, expires_at)
        if generation == self._generation:
            if len(self._cache) >= _MAX_CACHED:
                self._cache.clear()
            self._cache[digest] = entry
        return entry

    def _touch_later(self, key_id: str, now: float) -> None:
        """Record the use in the background, at most once per ``TOUCH_INTERVAL_SECONDS``."""
        last = self._touched.get(key_id)
        if last is not None and now - last < TOUCH_INTERVAL_SECONDS:
            return
        if len(self._touched) > _MAX_CACHED:
            self._touched.clear()
        self._touched[key_id] = now
        task = asyncio.create_task(self._touch(key_id))
        self._touches.add(task)
        task.add_done_callback(self._touches.discard)

    async def _touch(self, key_id: str) -> None:
        try:
            await self._tenancy.touch_api_key(key_id, self._clock.now())
        except ServiceUnavailable:
            pass  # bookkeeping only: the next use after the interval writes it again
        except Exception:
            log.warning("recording the last use of key %s failed", key_id, exc_info=True)

    async def settle(self) -> None:
        """Wait for the last-used writes started so far."""
        if self._touches:
            await asyncio.gather(*self._touches)

    async def close(self) -> None:
        """Finish the last-used writes and stop lookups in flight (before the ledger closes)."""
        await self.settle()
        lookups = list(self._lookups.values())
        for task in lookups:
            task.cancel()
        await asyncio.gather(*lookups, return_exceptions=True)

    async def _lookup(self, secret: str, digest: str) -> tuple[Principal, datetime | None]:
        invalid = Unauthenticated("Invalid API key.")
        body = secret[len(SECRET_PREFIX) :]
        if not secret.startswith(SECRET_PREFIX) or len(body) != _KEY_ID_LENGTH + _SECRET_LENGTH:
            raise invalid
        key = await self._tenancy.api_key(KEY_PREFIX + body[:_KEY_ID_LENGTH])
        # Compare even when the key id is unknown, so timing does not tell ids apart.
        stored = key.key_hash if key is not None else hash_secret("")
        if not hmac.compare_digest(stored, digest) or key is None:
            raise invalid
        now = self._clock.now()
        if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
            raise invalid
        principal = Principal(team_id=key.team_id, key_id=key.id)
        if key.created_by is not None:
            # A user's key carries the user's current role; gone from the team → no access.
            membership = await self._tenancy.membership(key.created_by, key.team_id)
            user = await self._tenancy.user(key.created_by)
            if membership is None or user is None or user.disabled:
                raise invalid
            principal = replace(principal, role=membership.role, user_id=key.created_by)
        return principal, key.expires_at
