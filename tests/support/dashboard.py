"""Driving the dashboard's HTML routes from a test client: sign in, read the CSRF token."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

# Where the browser test left its screenshots, listed at the end of the run.
SCREENSHOT_DIRS: list[Path] = []

_LOGIN_TOKEN = re.compile(r'name="login_token" value="([^"]+)"')
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


async def login_token(client: httpx.AsyncClient) -> str:
    page = await client.get("/ui/login")
    assert page.status_code == 200, page.text
    found = _LOGIN_TOKEN.search(page.text)
    assert found, "the sign-in form has no login_token"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, **credentials: str) -> httpx.Response:
    """Post the sign-in form (``api_key=…`` or ``email=…, password=…``)."""
    token = await login_token(client)
    return await client.post("/ui/login", data={"login_token": token, **credentials})


async def csrf_token(client: httpx.AsyncClient, path: str = "/ui/pipelines") -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    found = _CSRF.search(page.text)
    assert found and found.group(1), "the page carries no CSRF token"
    return found.group(1)
