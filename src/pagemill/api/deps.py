"""Request dependencies: who is calling, and the services that serve them.

One dependency per request on purpose: each level of FastAPI's dependency solving costs tens
of microseconds, which matters on the poll path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from pagemill.api.session_auth import (
    CSRF_HEADER,
    KEY_COOKIE,
    SAFE_METHODS,
    SESSION_COOKIE,
    authenticate_browser,
    authenticate_session,
    check_browser_csrf,
)
from pagemill.domain.teams import Role
from pagemill.services.container import Services

API_KEY_HEADER = "X-API-Key"  # documented as the security scheme in ``app.py``


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated request: its team and the services to act with."""

    team_id: str
    services: Services
    role: Role = Role.MEMBER  # the caller's role in the team
    user_id: str | None = None  # None: an operator key (CLI)
    key_id: str | None = None  # None: a browser session

    async def current_role(self) -> Role:
        """The caller's role as the ledger has it now. ``role`` may be up to the key cache's
        age old (a demoted admin would keep admin rights that long, on every replica): what
        manages keys, members and secrets asks the ledger instead."""
        if self.user_id is None:
            return self.role  # an operator key: the team's owner by definition
        return await self.services.teams.role_of(self.user_id, self.team_id)


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_caller(request: Request) -> Caller:
    """``X-API-Key`` when present, else the ``wos-session`` cookie, else the dashboard's
    ``pagemill-key`` cookie; then the rate limit."""
    services: Services = request.app.state.services
    key = request.headers.get(API_KEY_HEADER)
    if key is None and SESSION_COOKIE in request.cookies:
        session, team_id, role = await authenticate_session(request, services)
        await services.rate_limiter.hit("user:" + session.user_id)
        return Caller(team_id, services, role, session.user_id)
    if key is None and KEY_COOKIE in request.cookies:
        browser = await authenticate_browser(request, services)
        if request.method not in SAFE_METHODS:
            check_browser_csrf(services, browser, request.headers.get(CSRF_HEADER))
        await services.rate_limiter.hit(browser.rate_key)
        return Caller(browser.team_id, services, browser.role, browser.user_id, browser.key_id)
    principal = await services.keys.authenticate(key)
    await services.rate_limiter.hit(principal.key_id)
    return Caller(principal.team_id, services, principal.role, principal.user_id, principal.key_id)


ServicesDep = Annotated[Services, Depends(get_services)]
CallerDep = Annotated[Caller, Depends(get_caller)]
