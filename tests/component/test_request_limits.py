"""Request bodies are bounded while they are read: size (JSON bodies, declared run bodies) and
pace (a body trickled too slowly); a client that hangs up mid-upload costs one log line."""

from __future__ import annotations

import asyncio
import json
import logging
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.types import Message

from tests.component.test_executions_api import make_pipeline
from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry

MIB = 1024 * 1024
CHUNK = 64 * 1024


class Trickle:
    """A body produced chunk by chunk, counting how much of it the server pulled."""

    def __init__(self, head: bytes, filler: bytes, total_chunks: int, tail: bytes = b"") -> None:
        self.head, self.filler, self.total, self.tail = head, filler, total_chunks, tail
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.pulled += 1
        yield self.head
        for _ in range(self.total):
            self.pulled += 1
            yield self.filler
        yield self.tail


async def test_a_huge_string_in_step_settings_is_refused_while_reading(
    server: TestServer,
) -> None:
    # The attack: a 100 MB string inside step settings, sent without a declared length.
    body = Trickle(
        b'{"steps": [{"type": "convert", "settings": {"note": "',
        b"x" * CHUNK,
        100 * MIB // CHUNK,
        b'"}}]}',
    )
    tracemalloc.start()
    try:
        response = await server.client.post(
            "/api/v1/pipelines",
            content=body,
            headers={**server.headers(), "Content-Type": "application/json"},
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == 413, response.text
    limit = "The request body is larger than the limit of 1048576 bytes."
    assert response.json() == {"detail": limit}
    assert body.pulled <= MIB // CHUNK + 2  # it stopped reading at the limit, not at 100 MB
    assert peak < 16 * MIB  # before: the whole body, then its parsed copy (+570 MB)
    listed = await server.client.get("/api/v1/pipelines?saved_only=false", headers=server.headers())
    assert listed.json()["total"] == 0


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    server: TestServer,
) -> None:
    body = Trickle(b"{", b" " * CHUNK, 40)
    response = await server.client.post(
        "/api/v1/pipelines",
        content=body,
        headers={
            **server.headers(),
            "Content-Type": "application/json",
            "Content-Length": str(2 * MIB),
        },
    )

    assert response.status_code == 413
    assert "larger than the limit" in response.json()["detail"]
    assert response.headers["connection"] == "close"
    assert body.pulled == 0


async def test_json_under_the_limit_still_works(tmp_path: Path) -> None:
    async with test_server(tmp_path / "d", test_registry(), max_json_body_bytes=4096) as server:
        small = await server.client.post(
            "/api/v1/pipelines",
            json={"steps": [{"type": "convert", "settings": {"note": "x" * 1000}}]},
            headers=server.headers(),
        )
        large = await server.client.post(
            "/api/v1/pipelines",
            json={"steps": [{"type": "convert", "settings": {"note": "x" * 5000}}]},
            headers=server.headers(),
        )
    assert small.status_code == 200, small.text
    assert large.status_code == 413


async def test_a_run_declaring_more_than_the_upload_cap_is_refused_before_reading(
    tmp_path: Path,
) -> None:
    async with test_server(tmp_path / "d", test_registry(), max_upload_bytes=MIB) as server:
        pipeline_id = await make_pipeline(server)
        body = Trickle(b"--b\r\n", b"x" * CHUNK, 200 * MIB // CHUNK)
        response = await server.client.post(
            f"/api/v1/pipelines/{pipeline_id}/run",
            content=body,
            headers={
                **server.headers(),
                "Content-Type": "multipart/form-data; boundary=b",
                "Content-Length": str(200 * MIB),
            },
        )

    assert response.status_code == 413, response.text
    assert "upload limit" in response.json()["detail"]
    assert body.pulled == 0  # before: up to 200 MB read, then 413


async def asgi_call(
    server: TestServer,
    method: str,
    path: str,
    headers: dict[str, str],
    receive_messages: AsyncIterator[Message],
) -> tuple[int, bytes]:
    """Drive the ASGI app with a hand-made ``receive`` (a client that stalls or hangs up)."""
    assert server.app is not None
    path, _, query = path.partition("?")
    sent: list[Message] = []

    async def receive() -> Message:
        return await anext(receive_messages)

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5555),
        "server": ("pagemill.test", 80),
        "state": {},
    }
    await server.app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


def multipart_head() -> bytes:
    return (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n%PDF-1.4 "
    )


async def test_a_body_trickled_too_slowly_is_408(tmp_path: Path) -> None:
    async with test_server(
        tmp_path / "d",
        test_registry(),
        body_read_timeout_seconds=0.3,
        body_min_rate_bytes_per_second=1000,
    ) as server:
        pipeline_id = await make_pipeline(server)

        async def trickle() -> AsyncIterator[Message]:
            yield {"type": "http.request", "body": multipart_head(), "more_body": True}
            while True:  # one byte every 0.2 s: far below 1000 bytes a second
                await asyncio.sleep(0.2)
                yield {"type": "http.request", "body": b"x", "more_body": True}

        status, body = await asgi_call(
            server,
            "POST",
            f"/api/v1/pipelines/{pipeline_id}/run",
            {**server.headers(), "content-type": "multipart/form-data; boundary=b"},
            trickle(),
        )

        assert status == 408
        assert "too slowly" in json.loads(body)["detail"]
        inputs = tmp_path / "d" / "blobs" / "inputs"
        assert not inputs.exists() or not any(p.is_file() for p in inputs.rglob("*"))


@pytest.mark.parametrize("where", ["run", "files"])
async def test_a_client_that_hangs_up_mid_upload_costs_one_quiet_line(
    server: TestServer, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    if where == "run":
        path = f"/api/v1/pipelines/{await make_pipeline(server)}/run"
        method = "POST"
        headers = {**server.headers(), "content-type": "multipart/form-data; boundary=b"}
    else:
        created = await server.client.post(
            "/api/v1/files/upload",
            json={"filename": "a.pdf", "content_type": "application/pdf"},
            headers=server.headers(),
        )
        url = created.json()["upload_url"]
        path = url.removeprefix("http://pagemill.test")
        method, headers = "PUT", {"content-type": "application/pdf"}

    async def hang_up() -> AsyncIterator[Message]:
        yield {"type": "http.request", "body": multipart_head() + b"x" * CHUNK, "more_body": True}
        yield {"type": "http.disconnect"}

    caplog.set_level(logging.DEBUG)
    status, _ = await asgi_call(server, method, path, headers, hang_up())

    assert status == 400
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert problems == []
    assert len([r for r in caplog.records if "disconnected" in r.getMessage()]) == 1
