"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from pagemill.api import ui
from pagemill.api.deps import API_KEY_HEADER
from pagemill.api.errors import install_error_handlers
from pagemill.api.request_limits import RequestLimits, RequestLimitsMiddleware
from pagemill.api.routes import (
    auth,
    batch_runs,
    collections,
    custom_processors,
    eval_rubrics,
    events,
    executions,
    extraction_schemas,
    files,
    insights,
    invitations,
    operations,
    pipelines,
    requests,
    retention,
    teams,
    webhooks,
    workflows,
)
from pagemill.services.container import Services
from pagemill.version import __version__

RuntimeFactory = Callable[[], AbstractAsyncContextManager[Services]]


def create_app(open_runtime: RuntimeFactory, limits: RequestLimits | None = None) -> FastAPI:
    """Build the app; ``open_runtime`` opens the services (and any workers) for its lifetime;
    ``limits`` bound request bodies (size and pace; defaults: ``RequestLimits()``)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime() as services:
            app.state.services = services
            yield

    app = FastAPI(
        title="pagemill",
        version=__version__,
        description="Self-hosted document pipelines, wire-compatible with the Datalab "
        "Pipelines API.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(RequestLimitsMiddleware, limits=limits or RequestLimits())
    # Order matters: /pipelines/executions/… must win over /pipelines/{pipeline_id}.
    app.include_router(executions.router)
    app.include_router(events.router)
    app.include_router(insights.router)
    app.include_router(webhooks.router)
    app.include_router(retention.router)
    app.include_router(pipelines.router)
    app.include_router(custom_processors.router)
    app.include_router(custom_processors.deprecated_router)
    app.include_router(extraction_schemas.router)
    app.include_router(eval_rubrics.router)
    app.include_router(workflows.router)
    app.include_router(workflows.output_router)
    app.include_router(files.router)
    app.include_router(files.content_router)
    app.include_router(requests.router)
    app.include_router(collections.router)
    app.include_router(batch_runs.router)

    app.include_router(operations.router)
    app.include_router(webhooks.teams_router)
    app.include_router(invitations.team_router)
    app.include_router(teams.router)
    app.include_router(invitations.user_router)
    app.include_router(auth.router)
    ui.install(app)

    _document_api_key(app)
    return app


# Paths that do not take an API key: the operator's admin API and the session endpoints.
_NO_API_KEY = ("/api/v1/admin/", "/api/v1/auth/")


def _document_api_key(app: FastAPI) -> None:
    """Declare the ``X-API-Key`` scheme in the OpenAPI document.

    Authentication is one plain dependency (see ``deps.py``), not FastAPI's ``APIKeyHeader``,
    so the scheme is added to the generated document here instead.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {})
            components.setdefault("securitySchemes", {})["APIKeyHeader"] = {
                "type": "apiKey",
                "in": "header",
                "name": API_KEY_HEADER,
            }
            for path, operations in schema.get("paths", {}).items():
                if path.startswith("/api/") and not path.startswith(_NO_API_KEY):
                    for operation in operations.values():
                        # An operation that declares its own (signed file URLs: none) keeps it.
                        operation.setdefault("security", [{"APIKeyHeader": []}])
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
