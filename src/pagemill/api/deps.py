"""Request dependencies: who is calling, and the services that serve them.

One dependency per request on purpose: each level of FastAPI's dependency solving costs tens
of microseconds, which matters on the poll path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from pagemill.services.container import Services

API_KEY_HEADER = "X-API-Key"  # documented as the security scheme in ``app.py``


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated request: its team and the services to act with."""

    team_id: str
    services: Services


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_caller(request: Request) -> Caller:
    services: Services = request.app.state.services
    principal = await services.keys.authenticate(request.headers.get(API_KEY_HEADER))
    return Caller(team_id=principal.team_id, services=services)


ServicesDep = Annotated[Services, Depends(get_services)]
CallerDep = Annotated[Caller, Depends(get_caller)]
