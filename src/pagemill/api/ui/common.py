"""What every dashboard page shares: the templates, who is signed in, CSRF, and errors shown
as pages instead of JSON."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from pagemill.api.errors import status_for
from pagemill.api.session_auth import (
    ACTIVE_TEAM_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    BrowserCaller,
    authenticate_browser,
    browser_credentials_present,
    check_browser_csrf,
    csrf_token_for,
)
from pagemill.domain.errors import Conflict, NotFound, PagemillError, Unauthenticated
from pagemill.services.container import Services
from pagemill.version import __version__

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
PREFIX = "/ui"

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
# Pages render user data (file names, values read from documents) only through autoescaping
# and scripts come from /ui/static only: nothing inline runs.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


@dataclass(frozen=True, slots=True)
class Viewer:
    """A signed-in browser: who it acts as, for which team, and its CSRF token."""

    services: Services
    caller: BrowserCaller
    csrf_token: str
    email: str | None = None  # a signed-in user's
    teams: tuple[tuple[str, str], ...] = ()  # (id, name): a user's teams, or the key's team

    @property
    def team_id(self) -> str:
        return self.caller.team_id

    @property
    def label(self) -> str:
        if self.caller.key_id is not None:
            return f"API key {self.caller.key_id}"
        return self.email or f"user {self.caller.user_id}"

    @property
    def team_name(self) -> str:
        return next((name for id_, name in self.teams if id_ == self.team_id), self.team_id)


class SignInRequired(Exception):
    """No (valid) credentials: the page answers with a redirect to the sign-in page."""


class TeamChoiceNeeded(Exception):
    """The session's team is undecided: the page answers by choosing ``team_id`` and
    asking again."""

    def __init__(self, team_id: str) -> None:
        super().__init__(team_id)
        self.team_id = team_id


async def viewer(request: Request) -> Viewer:
    services: Services = request.app.state.services
    if not browser_credentials_present(request):
        raise SignInRequired
    try:
        caller = await authenticate_browser(request, services)
    except Unauthenticated as exc:
        raise SignInRequired from exc
    except (Conflict, NotFound) as exc:
        # A user in several teams without a choice (they joined another since signing in),
        # or whose chosen team they have left: act for their first team.
        token = request.cookies.get(SESSION_COOKIE)
        if token is None:
            raise
        principal = await services.sessions.authenticate(token)
        teams = await services.teams.user_teams(principal.user_id)
        if not teams:
            raise
        raise TeamChoiceNeeded(teams[0][0].id) from exc
    await services.rate_limiter.hit(caller.rate_key)
    csrf = csrf_token_for(services, caller)
    if caller.key_id is not None or caller.user_id is None:
        team = await services.teams.team(caller.team_id)
        return Viewer(services, caller, csrf, teams=((team.id, team.name),))
    user, teams = await asyncio.gather(
        services.teams.user(caller.user_id), services.teams.user_teams(caller.user_id)
    )
    return Viewer(services, caller, csrf, user.email, tuple((t.id, t.name) for t, _ in teams))


async def form_of(request: Request, who: Viewer) -> Mapping[str, Any]:
    """The submitted form, once its CSRF token is checked (``Forbidden`` otherwise)."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    check_browser_csrf(
        who.services,
        who.caller,
        token if isinstance(token, str) else request.headers.get(CSRF_HEADER),
    )
    return form


def page(
    template: str, request: Request, who: Viewer | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    html = templates.get_template(template).render(
        request=request,
        who=who,
        csrf_token=who.csrf_token if who else "",
        csrf_field=CSRF_FIELD,
        version=__version__,
        **context,
    )
    return HTMLResponse(html, status_code, headers=security_headers())


def security_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def set_team_cookie(response: Response, team_id: str, *, secure: bool) -> None:
    response.set_cookie(
        ACTIVE_TEAM_COOKIE, team_id, path="/", secure=secure, httponly=True, samesite="lax"
    )


def _secure(request: Request) -> bool:
    services: Services = request.app.state.services
    return services.sessions.secure_cookie


def _same_page(request: Request) -> str:
    query = request.url.query
    return request.url.path + ("?" + query if query else "")


def sign_in_redirect(request: Request) -> RedirectResponse:
    target = _same_page(request) if request.method == "GET" else PREFIX
    return redirect(f"{PREFIX}/login?next={quote(target, safe='')}")


class UiRoute(APIRoute):
    """A dashboard route: no credentials → the sign-in page; a domain error → an error page
    with the status the API would answer."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return sign_in_redirect(request)
            except TeamChoiceNeeded as choice:
                again = redirect(_same_page(request) if request.method == "GET" else PREFIX)
                set_team_cookie(again, choice.team_id, secure=_secure(request))
                return again
            except PagemillError as exc:
                status = status_for(exc)
                if status == 401:
                    return sign_in_redirect(request)
                return page("error.html", request, None, status, status=status, detail=exc.detail)

        return handle
