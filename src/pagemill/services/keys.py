"""Teams and API keys: issue a key once, store only its hash, authenticate in constant time."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from pagemill.domain.clock import Clock
from pagemill.domain.errors import InvalidInput, Unauthenticated
from pagemill.domain.ids import KEY_PREFIX, TEAM_PREFIX, new_id, random_base62
from pagemill.domain.models import ApiKey, Team
from pagemill.ports.ledger import Ledger

SECRET_PREFIX = "pm_"  # noqa: S105 - a marker that makes leaked keys easy to scan for
_KEY_ID_LENGTH = 12
_SECRET_LENGTH = 32  # 62**32 ≈ 2**190 bits of entropy: a plain SHA-256 is a sound hash here.
DEFAULT_TEAM = "default"


@dataclass(frozen=True, slots=True)
class Principal:
    team_id: str
    key_id: str


@dataclass(frozen=True, slots=True)
class IssuedKey:
    team: Team
    key_id: str
    secret: str  # shown once, never stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyService:
    def __init__(self, ledger: Ledger, clock: Clock, cache_seconds: float = 5.0) -> None:
        self._ledger = ledger
        self._clock = clock
        self._cache_seconds = cache_seconds
        # hash of a secret → (principal, monotonic deadline). Only successful lookups are
        # cached, so a revoked key stops working within ``cache_seconds``.
        self._cache: dict[str, tuple[Principal, float]] = {}

    async def issue(self, team_name: str, key_name: str = "default") -> IssuedKey:
        name = team_name.strip()
        if not name or len(name) > 120:
            raise InvalidInput("A team name must have 1 to 120 characters.")
        now = self._clock.now()
        team = await self._ledger.team_by_name(name)
        if team is None:
            team = await self._ledger.create_team(new_id(TEAM_PREFIX), name, now)
        key_body = random_base62(_KEY_ID_LENGTH)
        secret = SECRET_PREFIX + key_body + random_base62(_SECRET_LENGTH)
        key_id = KEY_PREFIX + key_body
        await self._ledger.create_api_key(
            ApiKey(
                id=key_id, team_id=team.id, name=key_name, key_hash=hash_secret(secret), created=now
            )
        )
        return IssuedKey(team=team, key_id=key_id, secret=secret)

    async def needs_first_key(self) -> bool:
        return await self._ledger.count_teams() == 0

    async def authenticate(self, secret: str | None) -> Principal:
        if not secret:
            raise Unauthenticated("Missing API key: send it in the X-API-Key header.")
        digest = hash_secret(secret)
        cached = self._cache.get(digest)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        principal = await self._lookup(secret, digest)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (principal, time.monotonic() + self._cache_seconds)
        return principal

    async def _lookup(self, secret: str, digest: str) -> Principal:
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
        return Principal(team_id=key.team_id, key_id=key.id)
