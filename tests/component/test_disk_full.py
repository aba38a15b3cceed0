"""A full disk under the blob store: uploads are a clear 503, not a generic 500 or a dropped
connection, and nothing is kept."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.component.test_executions_api import make_pipeline, run
from tests.support.app import test_server
from tests.support.processors import test_registry


async def test_uploads_to_a_full_disk_are_503_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "d"
    async with test_server(data, test_registry()) as server:
        pipeline_id = await make_pipeline(server)
        created = await server.client.post(
            "/api/v1/files/upload",
            json={"filename": "a.pdf", "content_type": "application/pdf"},
            headers=server.headers(),
        )
        blobs = str(data / "blobs")
        real_open = os.open

        def open_on_full_disk(path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
            # The kernel's ENOSPC, as on a full disk: every blob file is /dev/full.
            if str(path).startswith(blobs):
                return real_open("/dev/full", os.O_WRONLY)
            return real_open(path, flags, mode, **kw)

        monkeypatch.setattr(os, "open", open_on_full_disk)
        ran = await run(server, pipeline_id, content=b"%PDF-1.4 " + b"x" * 3_000_000)
        put = await server.client.put(created.json()["upload_url"], content=b"%PDF-1.4 small")
        monkeypatch.undo()

    for response in (ran, put):
        assert response.status_code == 503, response.text
        assert response.json()["detail"].startswith("The server's storage is full")
        assert response.headers["retry-after"]
    assert not any(p.is_file() for p in (data / "blobs").rglob("*"))
