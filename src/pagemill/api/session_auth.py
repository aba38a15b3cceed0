"""Browser-session authentication: the ``wos-session`` cookie, team selection through
``datalab_active_team``, and the CSRF check of cookie-authenticated changes.

The dashboard also signs in with an API key (an embedded server has no users, only the key it
printed): the key is then kept in the ``pagemill-key`` cookie (``HttpOnly``, ``SameSite=Strict``,
for the browser session only) and acts as the key does, with a CSRF token bound to the key.

The cookie names the hosted Datalab API declares are kept, so a web front end written for it
keeps working. API-key requests never need a CSRF token: browsers do not add headers to
cross-site requests on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import Request, Response

from pagemill.domain.teams import Role
from pagemill.services.container import Services
from pagemill.services.sessions import SessionPrincipal

SESSION_COOKIE = "wos-session"
ACTIVE_TEAM_COOKIE = "datalab_active_team"
CSRF_HEADER = "X-CSRF-Token"
KEY_COOKIE = "pagemill-key"
CSRF_FIELD = "csrf_token"  # the dashboard's forms send the token as this field
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class BrowserCaller:
    """Who a browser request acts as: a session's user, or a key kept in ``KEY_COOKIE``."""

    team_id: str
    role: Role
    user_id: str | None
    key_id: str | None
    csrf_subject: str  # what the CSRF token is bound to
    rate_key: str  # what the rate limit counts


def browser_credentials_present(request: Request) -> bool:
    return SESSION_COOKIE in request.cookies or KEY_COOKIE in request.cookies


async def authenticate_browser(request: Request, services: Services) -> BrowserCaller:
    """The session cookie, else the key cookie; the CSRF token is not checked here."""
    token = request.cookies.get(SESSION_COOKIE)
    if token is not None:
        principal, team_id, role = await services.sessions.resolve(
            token, request.cookies.get(ACTIVE_TEAM_COOKIE) or None
        )
        return BrowserCaller(
            team_id,
            role,
            principal.user_id,
            None,
            principal.session_id,
            "user:" + principal.user_id,
        )
    key = await services.keys.authenticate(request.cookies.get(KEY_COOKIE))
    return BrowserCaller(
        key.team_id, key.role, key.user_id, key.key_id, "key:" + key.key_id, key.key_id
    )


def check_browser_csrf(services: Services, caller: BrowserCaller, token: str | None) -> None:
    services.sessions.check_csrf(caller.csrf_subject, token)


def csrf_token_for(services: Services, caller: BrowserCaller) -> str:
    return services.sessions.csrf_token(caller.csrf_subject)


async def authenticate_session(
    request: Request, services: Services
) -> tuple[SessionPrincipal, str, Role]:
    """The session, the team it acts for and the user's role there; unsafe methods must carry
    the session's CSRF token."""
    principal, team_id, role = await services.sessions.resolve(
        request.cookies[SESSION_COOKIE], request.cookies.get(ACTIVE_TEAM_COOKIE) or None
    )
    if request.method not in SAFE_METHODS:
        services.sessions.check_csrf(principal.session_id, request.headers.get(CSRF_HEADER))
    return principal, team_id, role


def set_session_cookie(
    response: Response, token: str, expires_at: datetime, *, secure: bool
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        expires=expires_at,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")


def set_key_cookie(response: Response, key: str, *, secure: bool) -> None:
    # No expiry: the browser forgets the key when it closes. Strict: never sent cross-site.
    response.set_cookie(KEY_COOKIE, key, path="/", secure=secure, httponly=True, samesite="strict")


def clear_key_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(KEY_COOKIE, path="/", secure=secure, httponly=True, samesite="strict")
