"""Browser-session authentication: the ``wos-session`` cookie, team selection through
``datalab_active_team``, and the CSRF check of cookie-authenticated changes.

The cookie names the hosted Datalab API declares are kept, so a web front end written for it
keeps working. API-key requests never need a CSRF token: browsers do not add headers to
cross-site requests on their own.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Request, Response

from pagemill.domain.teams import Role
from pagemill.services.container import Services
from pagemill.services.sessions import SessionPrincipal

SESSION_COOKIE = "wos-session"
ACTIVE_TEAM_COOKIE = "datalab_active_team"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
