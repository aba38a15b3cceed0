"""Teams and API keys: issue a key once, store only its hash, authenticate in constant time.

A key acts for its team. Keys the operator creates (CLI, first start) act as the team's owner;
a key a user created acts with that user's current role in the team and stops working when the
user leaves the team or is disabled. ``last_used_at`` is written at most once a minute per key
and process, never on every request.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime

from pagemill.domain.clock import Clock
from pagemill.domain.errors import InvalidInput, NotFound, ServiceUnavailable, Unauthenticated
from pagemill.domain.ids import KEY_PREFIX, TEAM_PREFIX, new_id, random_base62
from pagemill.domain.models import ApiKey, Team
from pagemill.domain.teams import Role
from pagemill.ports.ledger import Ledger
from pagemill.services.authz import require_manager

log = logging.getLogger("pagemill.keys")

SECRET_PREFIX = "pm_"  # noqa: S105 - a marker that makes leaked keys easy to scan for
_KEY_ID_LENGTH = 12
_SECRET_LENGTH = 32  # 62**32 ≈ 2**190 bits of entropy: a plain SHA-256 is a sound hash here.
DEFAULT_TEAM = "default"
TOUCH_INTERVAL_SECONDS = 60.0  # ``last_used_at`` is written at most this often per key
_MAX_CACHED = 10_000


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


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_team_name(team_name: str) -> str:
    name = team_name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("A team name must have 1 to 120 characters.")
    return name


class KeyService:
    def __init__(self, ledger: Ledger, clock: Clock, cache_seconds: float = 5.0) -> None:
        self._ledger = ledger
        self._clock = clock
        self._cache_seconds = cache_seconds
        # hash of a secret → (principal, monotonic deadline, expiry). Only successful lookups
        # are cached, so a revoked key stops working within ``cache_seconds``.
        self._cache: dict[str, tuple[Principal, float, datetime | None]] = {}
        self._touched: dict[str, float] = {}  # key id → monotonic time of the last write

    async def issue(
        self, team_name: str, key_name: str = "default", created_by: str | None = None
    ) -> IssuedKey:
        """A new key of the team named ``team_name``, creating the team if needed."""
        name = check_team_name(team_name)
        team = await self._ledger.team_by_name(name)
        if team is None:
            team = await self._ledger.create_team(new_id(TEAM_PREFIX), name, self._clock.now())
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
        await self._ledger.create_api_key(key)
        return IssuedKey(team=team, key_id=key.id, secret=secret, key=key)

    async def needs_first_key(self) -> bool:
        return await self._ledger.count_teams() == 0

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
        team = await self._ledger.team(team_id)
        if team is None:
            raise NotFound("Team not found.")
        return await self._issue(team, name, created_by, expires_at)

    async def list_keys(self, team_id: str, *, actor: Role) -> list[ApiKey]:
        require_manager(actor)
        return await self._ledger.list_api_keys(team_id)

    async def revoke_key(self, team_id: str, key_id: str, *, actor: Role) -> ApiKey:
        require_manager(actor)
        key = await self._ledger.revoke_api_key(team_id, key_id, self._clock.now())
        if key is None:
            raise NotFound(f"API key {key_id} not found.")
        self._forget(key_id)
        return key

    def _forget(self, key_id: str) -> None:
        for digest, (principal, _, _) in list(self._cache.items()):
            if principal.key_id == key_id:
                del self._cache[digest]

    # -- authentication ----------------------------------------------------------------------
    async def authenticate(self, secret: str | None) -> Principal:
        if not secret:
            raise Unauthenticated("Missing API key: send it in the X-API-Key header.")
        digest = hash_secret(secret)
        cached = self._cache.get(digest)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            principal, _, expires_at = cached
            if expires_at is not None and expires_at <= self._clock.now():
                del self._cache[digest]
                raise Unauthenticated("Invalid API key.")
        else:
            principal, expires_at = await self._lookup(secret, digest)
            if len(self._cache) > _MAX_CACHED:
                self._cache.clear()
            self._cache[digest] = (principal, now + self._cache_seconds, expires_at)
        last = self._touched.get(principal.key_id)
        if last is None or now - last >= TOUCH_INTERVAL_SECONDS:
            await self._touch(principal.key_id, now)
        return principal

    async def _touch(self, key_id: str, now: float) -> None:
        if len(self._touched) > _MAX_CACHED:
            self._touched.clear()
        self._touched[key_id] = now
        # Bookkeeping only: a ledger hiccup must not fail the request it rides on.
        with contextlib.suppress(ServiceUnavailable):
            await self._ledger.touch_api_key(key_id, self._clock.now())

    async def _lookup(self, secret: str, digest: str) -> tuple[Principal, datetime | None]:
        invalid = Unauthenticated("Invalid API key.")
        body = secret[len(SECRET_PREFIX) :]
        if not secret.startswith(SECRET_PREFIX) or len(body) != _KEY_ID_LENGTH + _SECRET_LENGTH:
            raise invalid
        key = await self._ledger.api_key(KEY_PREFIX + body[:_KEY_ID_LENGTH])
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
            membership = await self._ledger.membership(key.created_by, key.team_id)
            user = await self._ledger.user(key.created_by)
            if membership is None or user is None or user.disabled:
                raise invalid
            principal = replace(principal, role=membership.role, user_id=key.created_by)
        return principal, key.expires_at
