"""Signing in and out of the dashboard: with an email and password (a browser session, as
``/api/v1/auth/login``) or with an API key (what an embedded server prints on its first start).

The sign-in form carries a one-time token that must match a cookie set with the form, so
another site cannot sign a browser in to an account of its choosing (login CSRF).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from pagemill.api.session_auth import (
    ACTIVE_TEAM_COOKIE,
    SESSION_COOKIE,
    clear_key_cookie,
    clear_session_cookie,
    set_key_cookie,
    set_session_cookie,
)
from pagemill.api.ui.common import (
    PREFIX,
    UiRoute,
    form_of,
    page,
    redirect,
    set_team_cookie,
    viewer,
)
from pagemill.domain.errors import Forbidden, Unauthenticated
from pagemill.domain.teams import MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH
from pagemill.services.container import Services

router = APIRouter(prefix=PREFIX, route_class=UiRoute, include_in_schema=False)

LOGIN_COOKIE = "pagemill-login"
MAX_KEY_LENGTH = 200


def _safe_next(target: str | None) -> str:
    """Only a dashboard path: never another site (``//host``) after signing in."""
    if target and target.startswith(PREFIX + "/") and not any(ch in target for ch in "\\\r\n"):
        return target
    return f"{PREFIX}/pipelines"


def _login_page(request: Request, next_url: str, error: str | None, status: int) -> Response:
    token = secrets.token_urlsafe(24)
    response = page(
        "login.html", request, None, status, next_url=next_url, error=error, login_token=token
    )
    services: Services = request.app.state.services
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        path=f"{PREFIX}/login",
        secure=services.sessions.secure_cookie,
        httponly=True,
        samesite="strict",
    )
    return response


@router.get("")
async def home() -> Response:
    return redirect(f"{PREFIX}/pipelines")


root_router = APIRouter(include_in_schema=False)


@root_router.get("/")
async def root() -> Response:
    """The server's address opens the dashboard (API clients use ``/api/v1``)."""
    return redirect(PREFIX)


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, _safe_next(next), None, 200)


@router.post("/login")
async def login(
    request: Request,
    login_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
    api_key: Annotated[str, Form(max_length=MAX_KEY_LENGTH)] = "",
    email: Annotated[str, Form(max_length=MAX_EMAIL_LENGTH)] = "",
    password: Annotated[str, Form(max_length=MAX_PASSWORD_LENGTH)] = "",
) -> Response:
    services: Services = request.app.state.services
    target = _safe_next(next)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), login_token.encode()):
        return _login_page(request, target, "The sign-in form expired: try again.", 403)
    secure = services.sessions.secure_cookie
    response = redirect(target)
    response.delete_cookie(LOGIN_COOKIE, path=f"{PREFIX}/login")
    try:
        if api_key.strip():
            await services.keys.authenticate(api_key.strip())
            clear_session_cookie(response, secure=secure)
            set_key_cookie(response, api_key.strip(), secure=secure)
            return response
        if not email or not password:
            return _login_page(request, target, "Enter an API key, or an email and password.", 422)
        client = request.client.host if request.client else None
        result = await services.sessions.login(email, password, client)
    except Unauthenticated as exc:
        return _login_page(request, target, exc.detail, 401)
    clear_key_cookie(response, secure=secure)
    set_session_cookie(response, result.token, result.expires_at, secure=secure)
    teams = await services.teams.user_teams(result.user.id)
    chosen = request.cookies.get(ACTIVE_TEAM_COOKIE)
    if len(teams) > 1 and chosen not in {t.id for t, _ in teams}:
        set_team_cookie(response, teams[0][0].id, secure=secure)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    who = await viewer(request)
    await form_of(request, who)
    services = who.services
    await services.sessions.logout(request.cookies.get(SESSION_COOKIE))
    response = redirect(f"{PREFIX}/login")
    clear_session_cookie(response, secure=services.sessions.secure_cookie)
    clear_key_cookie(response, secure=services.sessions.secure_cookie)
    return response


@router.post("/team")
async def switch_team(request: Request) -> Response:
    """Act for another of the signed-in user's teams."""
    who = await viewer(request)
    form = await form_of(request, who)
    if who.caller.user_id is None:
        raise Forbidden("An API key acts for its own team only.")
    wanted = str(form.get("team_id", ""))
    teams = await who.services.teams.user_teams(who.caller.user_id)
    if wanted not in {t.id for t, _ in teams}:
        raise Forbidden("You are not a member of that team.")
    response = redirect(f"{PREFIX}/pipelines")
    set_team_cookie(response, wanted, secure=who.services.sessions.secure_cookie)
    return response
