"""Browser sessions: log in, see the session, change the password, log out.

Login sets the ``wos-session`` cookie (``HttpOnly; SameSite=Lax``, ``Secure`` unless
``PAGEMILL_SESSION_COOKIE_SECURE=false``) and returns the session's CSRF token, which every
cookie-authenticated POST/PUT/PATCH/DELETE must send back in ``X-CSRF-Token``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from pagemill.api import wire
from pagemill.api.deps import ServicesDep
from pagemill.api.errors import error_responses
from pagemill.api.session_auth import (
    ACTIVE_TEAM_COOKIE,
    CSRF_HEADER,
    SESSION_COOKIE,
    clear_session_cookie,
    set_session_cookie,
)
from pagemill.domain.errors import PagemillError, Unauthenticated
from pagemill.domain.teams import MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH
from pagemill.services.container import Services
from pagemill.services.sessions import SessionPrincipal

router = APIRouter(prefix="/api/v1/auth", tags=["sessions"])


class LoginRequest(BaseModel):
    email: str = Field(min_length=1, max_length=MAX_EMAIL_LENGTH)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    new_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class SessionUser(BaseModel):
    id: str
    email: str
    name: str


class SessionTeam(BaseModel):
    id: str
    name: str
    role: str


class SessionInfo(BaseModel):
    user: SessionUser
    teams: list[SessionTeam]
    active_team: str | None = Field(description="The team cookie requests act for, if decided")
    csrf_token: str = Field(description=f"Send it in {CSRF_HEADER} on unsafe requests")
    expires_at: str | None


async def _session_info(
    services: Services, principal: SessionPrincipal, selector: str | None
) -> dict[str, Any]:
    user = await services.teams.user(principal.user_id)
    teams = await services.teams.user_teams(principal.user_id)
    try:
        active: str | None = services.sessions.pick_team(teams, selector)[0].id
    except PagemillError:
        active = None  # several teams and no cookie, or a team the user is not in
    return {
        "user": {"id": user.id, "email": user.email, "name": user.name},
        "teams": [{"id": t.id, "name": t.name, "role": r.value} for t, r in teams],
        "active_team": active,
        "csrf_token": services.sessions.csrf_token(principal.session_id),
        "expires_at": wire.timestamp(principal.expires_at),
    }


async def _current(request: Request, services: Services) -> SessionPrincipal:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthenticated(f"Not logged in: no {SESSION_COOKIE} cookie.")
    return await services.sessions.authenticate(token)


@router.post(
    "/login",
    response_model=SessionInfo,
    summary="Log in with email and password (sets the wos-session cookie)",
    responses=error_responses(401, 429, 503),
)
async def login(body: LoginRequest, request: Request, services: ServicesDep) -> Response:
    """Repeated failures lock the account, and the client address, out for a while: 429 with
    Retry-After, doubling with each further failure."""
    client = request.client.host if request.client else None
    result = await services.sessions.login(body.email, body.password, client)
    principal = SessionPrincipal(result.user.id, result.session_id, result.expires_at)
    info = await _session_info(services, principal, request.cookies.get(ACTIVE_TEAM_COOKIE))
    response = wire.json_response(info)
    set_session_cookie(
        response, result.token, result.expires_at, secure=services.sessions.secure_cookie
    )
    return response


@router.get(
    "/session",
    response_model=SessionInfo,
    summary="The current session: user, teams, CSRF token",
    responses=error_responses(401, 503),
)
async def current_session(request: Request, services: ServicesDep) -> Response:
    principal = await _current(request, services)
    return wire.json_response(
        await _session_info(services, principal, request.cookies.get(ACTIVE_TEAM_COOKIE))
    )


@router.post(
    "/logout",
    status_code=204,
    summary="End the session (server-side) and clear the cookie",
    responses=error_responses(403, 503),
)
async def logout(request: Request, services: ServicesDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            principal = await services.sessions.authenticate(token)
        except Unauthenticated:
            pass  # already invalid: nothing to end, just clear the cookie
        else:
            services.sessions.check_csrf(principal.session_id, request.headers.get(CSRF_HEADER))
            await services.sessions.logout(token)
    response = Response(status_code=204)
    clear_session_cookie(response, secure=services.sessions.secure_cookie)
    return response


@router.post(
    "/password",
    status_code=204,
    summary="Change the password; ends every session of the user",
    responses=error_responses(401, 403, 503),
)
async def change_password(
    body: PasswordChange, request: Request, services: ServicesDep
) -> Response:
    principal = await _current(request, services)
    services.sessions.check_csrf(principal.session_id, request.headers.get(CSRF_HEADER))
    await services.sessions.change_password(principal, body.current_password, body.new_password)
    response = Response(status_code=204)
    clear_session_cookie(response, secure=services.sessions.secure_cookie)
    return response
