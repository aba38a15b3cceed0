"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI, Response

import pagemill
from pagemill.api import wire
from pagemill.api.deps import ServicesDep
from pagemill.api.errors import install_error_handlers
from pagemill.api.routes import executions, pipelines
from pagemill.domain.errors import ServiceUnavailable
from pagemill.services.container import Services

RuntimeFactory = Callable[[], AbstractAsyncContextManager[Services]]


def create_app(open_runtime: RuntimeFactory) -> FastAPI:
    """Build the app; ``open_runtime`` opens the services (and any workers) for its lifetime."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime() as services:
            app.state.services = services
            yield

    app = FastAPI(
        title="pagemill",
        version=pagemill.__version__,
        description="Self-hosted document pipelines, wire-compatible with the Datalab "
        "Pipelines API.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    # Order matters: /pipelines/executions/… must win over /pipelines/{pipeline_id}.
    app.include_router(executions.router)
    app.include_router(pipelines.router)

    @app.get("/healthz", tags=["operations"], summary="The process is up")
    async def healthz() -> Response:
        return wire.json_response({"status": "ok"})

    @app.get("/readyz", tags=["operations"], summary="The ledger answers")
    async def readyz(services: ServicesDep) -> Response:
        try:
            await services.ledger.ping()
        except ServiceUnavailable as exc:
            return wire.json_response({"status": "unavailable", "detail": exc.detail}, 503)
        return wire.json_response({"status": "ready"})

    return app
