"""Request dependencies: the services and the calling team."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from pagemill.services.container import Services
from pagemill.services.keys import Principal

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False)


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_principal(
    services: ServicesDep, api_key: Annotated[str | None, Depends(_api_key)]
) -> Principal:
    return await services.keys.authenticate(api_key)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
