"""The files API: signed upload, confirm, list, get, download, delete; runs by reference."""

from __future__ import annotations

import asyncio
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pagemill.domain import signing
from tests.component.test_executions_api import make_pipeline, wait_done
from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry

SECRET = "s3cret-for-tests-" * 3
CONTENT = b"%PDF-1.4 uploaded through a signed URL"


async def request_upload(
    server: TestServer, filename: str = "report.pdf", team: str = "alpha"
) -> dict[str, Any]:
    response = await server.client.post(
        "/api/v1/files/upload",
        json={"filename": filename, "content_type": "application/pdf"},
        headers=server.headers(team),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def upload(
    server: TestServer, content: bytes = CONTENT, team: str = "alpha", filename: str = "report.pdf"
) -> dict[str, Any]:
    """The SDK's sequence: request an upload URL, PUT the bytes (no API key), confirm."""
    created = await request_upload(server, filename, team)
    put = await server.client.put(
        created["upload_url"], content=content, headers={"Content-Type": "application/pdf"}
    )
    assert put.status_code == 200, put.text
    confirm = await server.client.get(
        f"/api/v1/files/{created['file_id']}/confirm", headers=server.headers(team)
    )
    assert confirm.status_code == 200, confirm.text
    return created


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def test_the_sdk_flow_then_run_by_reference(server: TestServer) -> None:
    h = server.headers()
    created = await request_upload(server)
    file_id = created["file_id"]
    assert isinstance(file_id, int)
    assert created["reference"] == f"datalab://file-{file_id}"
    assert created["expires_in"] == 3600
    url = urlsplit(created["upload_url"])
    assert (url.scheme, url.netloc, url.path) == (
        "http",
        "pagemill.test",
        f"/api/v1/files/{file_id}/content",
    )
    assert set(query(created["upload_url"])) == {"expires", "signature"}

    pending = (await server.client.get(f"/api/v1/files/{file_id}", headers=h)).json()
    assert pending["upload_status"] == "pending" and pending["file_size"] is None
    put = await server.client.put(created["upload_url"], content=CONTENT)  # no API key
    assert put.status_code == 200, put.text
    confirm = await server.client.get(f"/api/v1/files/{file_id}/confirm", headers=h)
    assert confirm.status_code == 200
    body = confirm.json()
    assert (body["file_id"], body["reference"], body["success"]) == (
        file_id,
        created["reference"],
        True,
    )
    assert body["message"] and body["created"]

    listed = await server.client.get(
        "/api/v1/files",
        params={"limit": 10, "offset": 0},
        headers={**h, "Cache-Control": "no-cache, no-store, must-revalidate"},
    )
    assert listed.json()["total"] == 1
    assert (listed.json()["limit"], listed.json()["offset"]) == (10, 0)
    item = listed.json()["files"][0]
    assert item == (await server.client.get(f"/api/v1/files/{file_id}", headers=h)).json()
    assert set(item) == {
        "file_id",
        "original_filename",
        "content_type",
        "reference",
        "upload_status",
        "file_size",
        "created",
    }
    assert (item["original_filename"], item["content_type"]) == ("report.pdf", "application/pdf")
    assert (item["upload_status"], item["file_size"]) == ("completed", len(CONTENT))

    download = await server.client.get(
        f"/api/v1/files/{file_id}/download", params={"expires_in": 60}, headers=h
    )
    assert download.status_code == 200
    link = download.json()
    assert (link["expires_in"], link["file_id"], link["original_filename"]) == (
        60,
        file_id,
        "report.pdf",
    )
    content = await server.client.get(link["download_url"])  # no API key
    assert content.status_code == 200 and content.content == CONTENT
    assert content.headers["content-type"] == "application/pdf"
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["content-disposition"].startswith("attachment;")

    pipeline_id = await make_pipeline(server)
    run = await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/run",
        data={"file_url": created["reference"]},
        headers=h,
    )
    assert run.status_code == 200, run.text
    done = await wait_done(server, run.json()["execution_id"])
    assert done["status"] == "completed"
    config = done["input_config"]
    assert (config["file_url"], config["filename"]) == (created["reference"], "report.pdf")
    assert config["file_size"] == len(CONTENT)

    deleted = await server.client.delete(f"/api/v1/files/{file_id}", headers=h)
    assert deleted.status_code == 200
    assert deleted.json()["success"] is True and deleted.json()["message"]
    assert (await server.client.get(f"/api/v1/files/{file_id}", headers=h)).status_code == 404
    assert (await server.client.get(link["download_url"])).status_code == 403
    again = await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/run", data={"file_url": created["reference"]}, headers=h
    )
    assert again.status_code == 404 and created["reference"] in again.json()["detail"]
    # The execution that ran the file kept its own copy.
    result = await server.client.get(done["steps"][0]["result_url"], headers=h)
    assert f"{len(CONTENT)} bytes" in result.json()["markdown"]


async def test_tampered_expired_and_misused_signatures_are_403(tmp_path: Path) -> None:
    async with test_server(tmp_path / "d", test_registry(), url_signing_secret=SECRET) as server:
        created = await request_upload(server)
        file_id = created["file_id"]
        q = query(created["upload_url"])
        base = f"/api/v1/files/{file_id}/content"
        flipped = ("0" if q["signature"][0] != "0" else "1") + q["signature"][1:]
        expired = int(time.time()) - 5
        cases = {
            "forged": {"expires": q["expires"], "signature": flipped},
            "later expiry": {"expires": str(int(q["expires"]) + 60), "signature": q["signature"]},
            "expired": {
                "expires": str(expired),
                "signature": signing.sign(SECRET.encode(), "PUT", file_id, "x", expired),
            },
            "short": {"expires": q["expires"], "signature": "abc"},
        }
        for name, params in cases.items():
            response = await server.client.put(base, params=params, content=CONTENT)
            assert response.status_code == 403, name
            assert "signature" in response.json()["detail"], name
        # The signature is bound to its file and method, and an expired one of the real team
        # is refused too.
        team = (await server.services.keys.authenticate(server.keys["alpha"])).team_id
        other = await request_upload(server)
        for path, method in ((f"/api/v1/files/{other['file_id']}/content", "put"), (base, "get")):
            response = await server.client.request(method, path, params=q, content=b"")
            assert response.status_code == 403, (path, method)
        stale = int(time.time()) - 1
        sig = signing.sign(SECRET.encode(), "PUT", file_id, team, stale)
        response = await server.client.put(
            base, params={"expires": stale, "signature": sig}, content=CONTENT
        )
        assert response.status_code == 403
        missing = await server.client.put(base, params={"expires": q["expires"]}, content=CONTENT)
        assert missing.status_code == 422
        status = await server.client.get(f"/api/v1/files/{file_id}", headers=server.headers())
        assert status.json()["upload_status"] == "pending"  # nothing was written


async def test_put_over_the_cap_is_413_streamed_and_keeps_nothing(tmp_path: Path) -> None:
    async with test_server(tmp_path / "d", test_registry(), max_upload_bytes=1000) as server:
        created = await request_upload(server)

        async def body() -> AsyncIterator[bytes]:  # chunked: no Content-Length to pre-check
            for _ in range(10):
                yield b"x" * 500

        streamed = await server.client.put(created["upload_url"], content=body())
        assert streamed.status_code == 413 and "limit" in streamed.json()["detail"]
        declared = await server.client.put(created["upload_url"], content=b"x" * 5000)
        assert declared.status_code == 413
        file_url = f"/api/v1/files/{created['file_id']}"
        item = (await server.client.get(file_url, headers=server.headers())).json()
        assert (item["upload_status"], item["file_size"]) == ("failed", None)
        confirm = await server.client.get(f"{file_url}/confirm", headers=server.headers())
        assert confirm.status_code == 400 and "upload_url" in confirm.json()["detail"]
        blobs = tmp_path / "d" / "blobs"
        assert not any(p.is_file() for p in blobs.rglob("*"))
        # A retry within the cap succeeds.
        retried = await server.client.put(created["upload_url"], content=b"x" * 1000)
        assert retried.status_code == 200
        confirm = await server.client.get(f"{file_url}/confirm", headers=server.headers())
        assert confirm.status_code == 200


async def test_confirmed_files_take_no_new_content(server: TestServer) -> None:
    created = await upload(server)
    response = await server.client.put(created["upload_url"], content=b"replaced")
    assert response.status_code == 400 and "already confirmed" in response.json()["detail"]


async def test_runs_refuse_other_teams_pending_and_malformed_references(
    server: TestServer,
) -> None:
    theirs = await upload(server, team="beta")
    pending = await request_upload(server)
    pipeline_id = await make_pipeline(server)
    url = f"/api/v1/pipelines/{pipeline_id}/run"

    other = await server.client.post(
        url, data={"file_url": theirs["reference"]}, headers=server.headers()
    )
    assert other.status_code == 404 and "not found" in other.json()["detail"]
    waiting = await server.client.post(
        url, data={"file_url": pending["reference"]}, headers=server.headers()
    )
    assert waiting.status_code == 422
    assert "pending" in waiting.json()["detail"][0]["msg"]
    for bad in ("datalab://file-abc", "datalab://files/1", "DATALAB://file-1x"):
        response = await server.client.post(url, data={"file_url": bad}, headers=server.headers())
        assert response.status_code == 422, bad
        assert "datalab://file-<id>" in response.json()["detail"][0]["msg"]
    listed = await server.client.get(
        f"/api/v1/pipelines/{pipeline_id}/executions", headers=server.headers()
    )
    assert listed.json()["total"] == 0


async def test_files_are_team_scoped(server: TestServer) -> None:
    created = await upload(server)
    file_url = f"/api/v1/files/{created['file_id']}"
    beta = server.headers("beta")
    for method, path in (
        ("GET", file_url),
        ("GET", f"{file_url}/confirm"),
        ("GET", f"{file_url}/download"),
        ("DELETE", file_url),
    ):
        response = await server.client.request(method, path, headers=beta)
        assert response.status_code == 404, (method, path)
        assert response.json() == {"detail": f"File {created['file_id']} not found"}
    assert (await server.client.get("/api/v1/files", headers=beta)).json()["total"] == 0
    assert (await server.client.get(file_url, headers=server.headers())).status_code == 200
    assert (await server.client.get(file_url)).status_code == 401


async def test_a_file_id_in_any_other_form_is_not_found(server: TestServer) -> None:
    # The SDK's docstrings allow a hashid form; an id that names no file is 404, not 422.
    for file_id in ("npl94jxy", "0", "99999999999999999999", "-1", "\uff11\uff12"):
        for method, suffix in (
            ("GET", ""),
            ("GET", "/confirm"),
            ("GET", "/download"),
            ("DELETE", ""),
        ):
            response = await server.client.request(
                method, f"/api/v1/files/{file_id}{suffix}", headers=server.headers()
            )
            assert response.status_code == 404, (method, file_id, response.text)
            assert response.json() == {"detail": f"File {file_id} not found"}


async def test_filenames_are_display_names_only(server: TestServer, tmp_path: Path) -> None:
    created = await upload(server, filename="../../etc/pass\x07wd\x00.pdf")
    item = (
        await server.client.get(f"/api/v1/files/{created['file_id']}", headers=server.headers())
    ).json()
    assert item["original_filename"] == "passwd.pdf"
    blobs = tmp_path / "data" / "blobs"
    names = [p.name for p in blobs.rglob("*")]
    assert not any("pass" in name for name in names)
    assert not (tmp_path / "etc").exists()
    windows = await upload(server, filename="C:\\Users\\x\\..\\évian.PDF")
    item = (
        await server.client.get(f"/api/v1/files/{windows['file_id']}", headers=server.headers())
    ).json()
    assert item["original_filename"] == "évian.PDF"


async def test_bad_upload_requests_are_422(server: TestServer) -> None:
    for body in (
        {"filename": "a.pdf"},
        {"filename": "a.pdf", "content_type": "pdf"},
        {"filename": "a.pdf", "content_type": "text/html\r\nX-Evil: 1"},
        {"filename": "", "content_type": "application/pdf"},
    ):
        response = await server.client.post(
            "/api/v1/files/upload", json=body, headers=server.headers()
        )
        assert response.status_code == 422, body
    download = await server.client.get(
        "/api/v1/files/1/download", params={"expires_in": 59}, headers=server.headers()
    )
    assert download.status_code == 422


async def test_download_of_a_pending_file_is_400(server: TestServer) -> None:
    created = await request_upload(server)
    response = await server.client.get(
        f"/api/v1/files/{created['file_id']}/download", headers=server.headers()
    )
    assert response.status_code == 400 and "pending" in response.json()["detail"]


async def test_the_signing_secret_is_generated_once_in_the_data_dir(
    server: TestServer, tmp_path: Path
) -> None:
    secret = tmp_path / "data" / "url_signing_secret"
    assert secret.is_file()
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(secret.read_text().strip()) == 64


async def test_list_pagination_newest_first(server: TestServer) -> None:
    ids = [(await request_upload(server, f"f{i}.pdf"))["file_id"] for i in range(3)]
    page = await server.client.get(
        "/api/v1/files", params={"limit": 2, "offset": 1}, headers=server.headers()
    )
    body = page.json()
    assert body["total"] == 3 and (body["limit"], body["offset"]) == (2, 1)
    assert [f["file_id"] for f in body["files"]] == [ids[1], ids[0]]


async def test_an_upload_in_flight_when_the_file_is_confirmed_cannot_replace_it(
    server: TestServer, tmp_path: Path
) -> None:
    # The attack: PUT to a file's upload_url while confirm completes.
    created = await request_upload(server)
    first = await server.client.put(created["upload_url"], content=CONTENT)
    assert first.status_code == 200
    body_started, release = asyncio.Event(), asyncio.Event()

    async def late_body() -> AsyncIterator[bytes]:
        yield b"%PDF-1.4 replaced "
        body_started.set()
        await release.wait()  # confirm completes while these bytes are still arriving
        yield b"x" * 100_000

    late_put = asyncio.create_task(server.client.put(created["upload_url"], content=late_body()))
    await body_started.wait()
    confirm = await server.client.get(
        f"/api/v1/files/{created['file_id']}/confirm", headers=server.headers()
    )
    release.set()
    refused = await late_put

    assert confirm.status_code == 200
    assert refused.status_code == 400 and "already confirmed" in refused.json()["detail"]
    download = await server.client.get(
        f"/api/v1/files/{created['file_id']}/download", headers=server.headers()
    )
    served = await server.client.get(download.json()["download_url"])
    assert served.content == CONTENT  # before: the late upload's bytes
    stored = await server.client.get(
        f"/api/v1/files/{created['file_id']}", headers=server.headers()
    )
    assert stored.json()["file_size"] == len(CONTENT)
    files = tmp_path / "data" / "blobs" / "files"
    assert len([p for p in files.rglob("*") if p.is_file()]) == 1  # the late bytes are gone


async def test_signed_urls_use_the_public_url_not_the_host_header(tmp_path: Path) -> None:
    public = "https://files.pagemill.example/base"
    async with test_server(tmp_path / "d", test_registry(), public_url=public + "/") as server:
        forged = {**server.headers(), "Host": "attacker.example"}
        created = await server.client.post(
            "/api/v1/files/upload",
            json={"filename": "a.pdf", "content_type": "application/pdf"},
            headers=forged,
        )
        upload_url = created.json()["upload_url"]
        path_and_query = upload_url.removeprefix(public)
        put = await server.client.put(path_and_query.removeprefix("/base"), content=CONTENT)
        await server.client.get(
            f"/api/v1/files/{created.json()['file_id']}/confirm", headers=server.headers()
        )
        download = await server.client.get(
            f"/api/v1/files/{created.json()['file_id']}/download", headers=forged
        )

    assert upload_url.startswith(f"{public}/api/v1/files/")
    assert "attacker" not in upload_url
    assert put.status_code == 200, put.text
    assert download.json()["download_url"].startswith(f"{public}/api/v1/files/")


async def test_without_a_public_url_the_host_header_is_used(server: TestServer) -> None:
    created = await server.client.post(
        "/api/v1/files/upload",
        json={"filename": "a.pdf", "content_type": "application/pdf"},
        headers={**server.headers(), "Host": "proxy.example"},
    )
    assert created.json()["upload_url"].startswith("http://proxy.example/api/v1/files/")


async def test_ids_on_the_wire_do_not_count_other_teams_uploads(server: TestServer) -> None:
    # The attack: upload, let another team upload three files, upload again, read the gap.
    first = await request_upload(server, team="alpha")
    for _ in range(3):
        await request_upload(server, team="beta")
    second = await request_upload(server, team="alpha")
    pipelines = [
        (
            await server.client.post(
                "/api/v1/pipelines",
                json={"steps": [{"type": "convert"}]},
                headers=server.headers(team),
            )
        ).json()["id"]
        for team in ("alpha", "beta", "alpha")
    ]

    ids = [first["file_id"], second["file_id"], *pipelines]
    assert second["file_id"] - first["file_id"] != 4  # before: 4, three of beta's uploads
    assert pipelines[2] - pipelines[0] != 2
    # Random 53-bit numbers: unguessable, and exact in JavaScript clients.
    assert all(isinstance(i, int) and 2**32 <= i <= 2**53 - 1 for i in ids)
    assert first["reference"] == f"datalab://file-{first['file_id']}"
    got = await server.client.get(f"/api/v1/files/{second['file_id']}", headers=server.headers())
    assert got.status_code == 200
