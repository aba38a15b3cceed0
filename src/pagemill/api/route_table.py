"""Routers declared as route tables: one row per endpoint, one builder for every router.

A table reads top to bottom as the API serves it. Where the hosted API keeps deprecated twins
of some endpoints under an older prefix, the rows say which (``twin=True``), and the same table
builds both routers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter

Responses = dict[int | str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    endpoint: Callable[..., Any]
    summary: str
    response_model: Any = None
    responses: Responses | None = None
    twin: bool = False  # also served, deprecated, under the router's older prefix


def build_router(
    prefix: str,
    tag: str,
    routes: Sequence[Route],
    *,
    responses: Responses,
    deprecated: bool = False,
) -> APIRouter:
    """The router of ``routes`` under ``prefix``; with ``deprecated``, of their twins only."""
    router = APIRouter(
        prefix=prefix, tags=[tag], deprecated=deprecated or None, responses=responses
    )
    for route in routes:
        if deprecated and not route.twin:
            continue
        router.add_api_route(
            route.path,
            route.endpoint,
            methods=[route.method],
            response_model=route.response_model,
            responses=route.responses,
            summary=f"{route.summary} (deprecated)" if deprecated else route.summary,
        )
    return router
