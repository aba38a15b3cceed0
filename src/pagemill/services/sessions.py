"""Browser sessions: log in with email and password, act for a team through a signed cookie.

The cookie value is ``<user id>.<expiry, unix seconds>.<session id>.<signature>`` where the
signature is HMAC-SHA256 with the server's session secret over the first three parts. A valid
signature is not enough: the session id must still be a row of the ledger's ``sessions``
table, which logout and a password change delete (server-side revocation). Checks are cached
for ``cache_seconds`` per process, like API keys.

Cookie-authenticated requests that change something must carry a CSRF token: an HMAC of the
session id under the same secret, so it is bound to the session and needs no storage.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pagemill.domain.clock import Clock
from pagemill.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from pagemill.domain.ids import random_base62
from pagemill.domain.models import Team
from pagemill.domain.teams import Role, Session, User, check_password, normalize_email
from pagemill.ports.ledger.secrets import server_secret_purpose
from pagemill.ports.ledger.tenancy import TenancyLedger
from pagemill.services.passwords import (
    hash_password_async,
    needs_rehash,
    verify_password_async,
)
from pagemill.services.ratelimit import LoginThrottle
from pagemill.services.secret_box import SecretBox

SECRET_NAME = "session"  # noqa: S105 - the name of the stored secret, not a secret
_SESSION_ID_LENGTH = 24
_PURGE_INTERVAL_SECONDS = 3600.0
_MAX_CACHED = 10_000


@dataclass(frozen=True, slots=True)
class SessionPrincipal:
    user_id: str
    session_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: str  # the cookie value
    csrf_token: str
    user: User
    session_id: str
    expires_at: datetime


async def load_session_secret(
    tenancy: TenancyLedger, configured: str | None, clock: Clock, box: SecretBox | None = None
) -> bytes:
    """``PAGEMILL_SESSION_SECRET`` when set; else the secret generated on the first start and
    stored in the ledger (``server_secrets``, sealed by ``box``), shared by every replica."""
    if configured:
        return configured.encode()
    box = box or SecretBox(None)
    purpose = server_secret_purpose(SECRET_NAME)
    candidate = box.seal(purpose, secrets.token_urlsafe(48))
    stored = await tenancy.server_secret(SECRET_NAME, candidate, clock.now())
    return box.open(purpose, stored).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class SessionService:
    def __init__(
        self,
        tenancy: TenancyLedger,
        clock: Clock,
        secret: bytes,
        *,
        ttl_seconds: float = 86400.0,
        cache_seconds: float = 5.0,
        secure_cookie: bool = True,
        throttle: LoginThrottle | None = None,
    ) -> None:
        """``throttle`` bounds password guessing (per account and client address)."""
        if len(secret) < 16:
            raise ValueError("The session secret must have at least 16 characters.")
        self._tenancy = tenancy
        self._clock = clock
        self._secret = secret
        self._ttl = timedelta(seconds=ttl_seconds)
        self._cache_seconds = cache_seconds
        self._throttle = throttle
        self.secure_cookie = secure_cookie  # mark the cookie Secure (off: plain-http dev only)
        # (token, active-team selector) → (principal, team id, role, monotonic deadline)
        self._cache: dict[tuple[str, str | None], tuple[SessionPrincipal, str, Role, float]] = {}
        self._last_purge = float("-inf")

    # -- tokens ------------------------------------------------------------------------------
    def _mac(self, purpose: bytes, payload: str) -> str:
        return _b64(hmac.new(self._secret, purpose + payload.encode(), hashlib.sha256).digest())

    def csrf_token(self, session_id: str) -> str:
        return self._mac(b"csrf:", session_id)

    def check_csrf(self, session_id: str, token: str | None) -> None:
        expected = self.csrf_token(session_id)
        if not token or not hmac.compare_digest(expected.encode(), token.encode()):
            raise Forbidden(
                "Missing or invalid X-CSRF-Token header: cookie-authenticated requests that "
                "change something must send the csrf_token returned by login."
            )

    def _parse(self, token: str) -> tuple[str, int, str]:
        """(user id, expiry, session id) of a token with a valid signature, expired or not."""
        invalid = Unauthenticated("Invalid session: log in again.")
        parts = token.split(".")
        if len(parts) != 4 or len(token) > 512:
            raise invalid
        user_id, expiry, session_id, signature = parts
        expected = self._mac(b"session:", f"{user_id}.{expiry}.{session_id}")
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise invalid
        try:
            return user_id, int(expiry), session_id
        except ValueError:
            raise invalid from None

    # -- login and logout --------------------------------------------------------------------
    async def login(self, email: str, password: str, client: str | None = None) -> LoginResult:
        """A new session for the user with this email and password; ``client`` (the address
        the request came from) counts failures per place as well as per account."""
        if self._throttle is not None:
            await self._throttle.check(email, client)
        try:
            address: str | None = normalize_email(email)
        except InvalidInput:
            address = None
        user = await self._tenancy.user_by_email(address) if address else None
        # Always verify a hash, so the time taken does not tell unknown users apart.
        matches = await verify_password_async(password, user.password_hash if user else "")
        if user is None or not matches or user.disabled:
            if self._throttle is not None:
                await self._throttle.failed(email, client)
            raise Unauthenticated("Invalid email or password.")
        if self._throttle is not None:
            await self._throttle.succeeded(email)
        if needs_rehash(user.password_hash):  # scrypt from an earlier version, or a lower cost
            new_hash = await hash_password_async(password)
            await self._tenancy.rehash_password(user.id, user.password_hash, new_hash)
        now = self._clock.now()
        await self._purge(now)
        expires_at = (now + self._ttl).replace(microsecond=0)
        session = Session(random_base62(_SESSION_ID_LENGTH), user.id, now, expires_at)
        await self._tenancy.create_session(session)
        payload = f"{user.id}.{int(expires_at.timestamp())}.{session.id}"
        token = f"{payload}.{self._mac(b'session:', payload)}"
        return LoginResult(token, self.csrf_token(session.id), user, session.id, expires_at)

    async def _purge(self, now: datetime) -> None:
        if time.monotonic() - self._last_purge >= _PURGE_INTERVAL_SECONDS:
            self._last_purge = time.monotonic()
            await self._tenancy.delete_expired_sessions(now)

    async def logout(self, token: str | None) -> None:
        """End the session the token names, if any (an invalid token is simply ignored)."""
        if not token:
            return
        try:
            _, _, session_id = self._parse(token)
        except Unauthenticated:
            return
        await self._tenancy.delete_session(session_id)
        self._drop(lambda p: p.session_id == session_id)

    async def change_password(self, principal: SessionPrincipal, current: str, new: str) -> None:
        """Set a new password and end every session of the user, this one included."""
        user = await self._tenancy.user(principal.user_id)
        stored = user.password_hash if user is not None else ""
        if user is None or not await verify_password_async(current, stored):
            raise Forbidden("The current password is wrong.")
        await self._tenancy.set_password(user.id, await hash_password_async(check_password(new)))
        self._drop(lambda p: p.user_id == principal.user_id)

    def forget_user(self, user_id: str) -> None:
        """Drop the cached team and role of the sessions of ``user_id`` (a role changed, they
        left or joined a team)."""
        self._drop(lambda p: p.user_id == user_id)

    def _drop(self, matches: Callable[[SessionPrincipal], bool]) -> None:
        for key, entry in list(self._cache.items()):
            if matches(entry[0]):
                del self._cache[key]

    # -- authentication ----------------------------------------------------------------------
    async def authenticate(self, token: str) -> SessionPrincipal:
        """The session behind a cookie value; ``Unauthenticated`` when it is invalid, expired
        or ended."""
        user_id, expiry, session_id = self._parse(token)
        now = self._clock.now()
        expired = Unauthenticated("Session expired or ended: log in again.")
        if expiry <= now.timestamp():
            raise expired
        session = await self._tenancy.session(session_id)
        if session is None or session.user_id != user_id or session.expires_at <= now:
            raise expired
        user = await self._tenancy.user(user_id)
        if user is None or user.disabled:
            raise expired
        return SessionPrincipal(user_id, session_id, datetime.fromtimestamp(expiry, UTC))

    async def resolve(self, token: str, selector: str | None) -> tuple[SessionPrincipal, str, Role]:
        """The session and the team it acts for (``datalab_active_team``: a team id or name;
        without it, the user's only team)."""
        cache_key = (token, selector)
        cached = self._cache.get(cache_key)
        if cached is not None and cached[3] > time.monotonic():
            principal, team_id, role, _ = cached
            if principal.expires_at > self._clock.now():
                return principal, team_id, role
        principal = await self.authenticate(token)
        team, role = self.pick_team(await self._tenancy.user_teams(principal.user_id), selector)
        if len(self._cache) > _MAX_CACHED:
            self._cache.clear()
        deadline = time.monotonic() + self._cache_seconds
        self._cache[cache_key] = (principal, team.id, role, deadline)
        return principal, team.id, role

    @staticmethod
    def pick_team(teams: list[tuple[Team, Role]], selector: str | None) -> tuple[Team, Role]:
        """The team named by ``selector`` (id or name) among the user's teams, or the only one."""
        if selector:
            for team, role in teams:
                if selector in (team.id, team.name):
                    return team, role
            raise NotFound(
                f"Team {selector!r} (the datalab_active_team cookie) does not exist or you "
                "are not a member of it."
            )
        if len(teams) == 1:
            return teams[0]
        if not teams:
            raise NotFound("You are not a member of any team.")
        raise Conflict(
            "You belong to several teams: name one in the datalab_active_team cookie "
            "(team id or name)."
        )
