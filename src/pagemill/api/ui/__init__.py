"""The web dashboard under ``/ui``: server-rendered pages (Jinja2) and a little JavaScript
served from the package, talking to the services as the API routes do."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from pagemill.api.ui import auth, executions, pipelines
from pagemill.api.ui.common import PREFIX, STATIC_DIR


def install(app: FastAPI) -> None:
    app.include_router(auth.root_router)
    app.include_router(auth.router)
    app.include_router(pipelines.router)
    app.include_router(executions.router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC_DIR), name="ui-static")
