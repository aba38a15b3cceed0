"""A small client of pagemill's HTTP API (the Datalab Pipelines API and its extensions), for
the commands that talk to a server."""

from __future__ import annotations

import contextlib
import mimetypes
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from pagemill.cli.sse import SseEvent, read_events

PIPELINES = "/api/v1/pipelines"
EXECUTIONS = "/api/v1/pipelines/executions"
API_KEY_HEADER = "X-API-Key"


class ApiError(Exception):
    """The server refused a request (its ``detail``), or could not be reached (status 0)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{detail} (HTTP {status})" if status else detail)
        self.status = status
        self.detail = detail


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):  # a validation error: say where and what
        return "; ".join(
            f"{'.'.join(str(p) for p in item.get('loc', []))}: {item.get('msg')}"
            for item in detail
            if isinstance(item, dict)
        )
    return str(detail) if detail is not None else response.text[:500]


class ApiClient:
    """``async with ApiClient(url, key) as api: await api.get_pipeline(...)``."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout_seconds: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {API_KEY_HEADER: api_key} if api_key else {}
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout_seconds, connect=10.0),
            transport=transport,
        )

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._http.aclose()

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ApiError(0, f"cannot reach {self.base_url}: {error}") from error
        if response.status_code >= 400:
            raise ApiError(response.status_code, _detail(response))
        return response

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return (await self._send(method, path, **kwargs)).json()

    # -- pipelines ---------------------------------------------------------------------------
    async def list_pipelines(
        self, *, saved_only: bool, include_archived: bool, limit: int, offset: int
    ) -> dict[str, Any]:
        params = {
            "saved_only": saved_only,
            "include_archived": include_archived,
            "limit": limit,
            "offset": offset,
        }
        return dict(await self._json("GET", PIPELINES, params=params))

    async def get_pipeline(self, pipeline_id: str) -> dict[str, Any]:
        return dict(await self._json("GET", f"{PIPELINES}/{pipeline_id}"))

    async def create_pipeline(self, steps: list[dict[str, Any]]) -> dict[str, Any]:
        return dict(await self._json("POST", PIPELINES, json={"steps": steps}))

    async def save_pipeline(self, pipeline_id: str, name: str) -> dict[str, Any]:
        return dict(await self._json("PUT", f"{PIPELINES}/{pipeline_id}/save", json={"name": name}))

    async def publish(self, pipeline_id: str, description: str | None) -> dict[str, Any]:
        body = {"description": description} if description is not None else {}
        return dict(await self._json("POST", f"{PIPELINES}/{pipeline_id}/versions", json=body))

    async def versions(self, pipeline_id: str) -> dict[str, Any]:
        return dict(await self._json("GET", f"{PIPELINES}/{pipeline_id}/versions"))

    async def set_archived(self, pipeline_id: str, archived: bool) -> dict[str, Any]:
        action = "archive" if archived else "unarchive"
        return dict(await self._json("POST", f"{PIPELINES}/{pipeline_id}/{action}"))

    # -- executions --------------------------------------------------------------------------
    async def run(
        self, pipeline_id: str, document: Path, form: Mapping[str, str | None]
    ) -> dict[str, Any]:
        """Upload ``document`` and start a run; ``form`` holds the run's optional fields."""
        content_type = mimetypes.guess_type(document.name)[0] or "application/octet-stream"
        data = {key: value for key, value in form.items() if value is not None}
        with document.open("rb") as handle:
            return dict(
                await self._json(
                    "POST",
                    f"{PIPELINES}/{pipeline_id}/run",
                    data=data,
                    files={"file": (document.name, handle, content_type)},
                )
            )

    async def get_execution(self, execution_id: str) -> dict[str, Any]:
        return dict(await self._json("GET", f"{EXECUTIONS}/{execution_id}"))

    async def list_executions(
        self, pipeline_id: str | None, *, status: str | None, limit: int, offset: int
    ) -> dict[str, Any]:
        """One pipeline's executions; without ``pipeline_id``, the team's (a newer server's
        listing)."""
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if pipeline_id is None:
            if status is not None:
                params["status"] = status
            try:
                return dict(await self._json("GET", EXECUTIONS, params=params))
            except ApiError as error:
                if error.status in (404, 405):  # a server without the team's listing
                    raise ApiError(
                        error.status, "this server lists executions per pipeline: pass --pipeline"
                    ) from error
                raise
        return dict(await self._json("GET", f"{PIPELINES}/{pipeline_id}/executions", params=params))

    async def step_result(self, execution_id: str, step_index: int) -> bytes:
        response = await self._send("GET", f"{EXECUTIONS}/{execution_id}/steps/{step_index}/result")
        return response.content

    async def cancel(self, execution_id: str) -> dict[str, Any]:
        return dict(await self._json("POST", f"{EXECUTIONS}/{execution_id}/cancel"))

    @contextlib.asynccontextmanager
    async def events(
        self, execution_id: str, last_event_id: str | None = None
    ) -> AsyncIterator[AsyncIterator[SseEvent]]:
        """The execution's event stream (Server-Sent Events), resumed after
        ``last_event_id``; ``ApiError`` when the server refuses it (404 on a server without
        the stream)."""
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        request = self._http.build_request(
            "GET",
            f"{EXECUTIONS}/{execution_id}/events",
            headers=headers,
            timeout=httpx.Timeout(None, connect=10.0),  # an idle stream sends keep-alives
        )
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as error:
            raise ApiError(0, f"cannot reach {self.base_url}: {error}") from error
        try:
            if response.status_code >= 400:
                await response.aread()
                raise ApiError(response.status_code, _detail(response))
            yield read_events(response.aiter_lines())
        finally:
            await response.aclose()
