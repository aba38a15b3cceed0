"""Runs from a ``file_url``: streamed from a real HTTP server on loopback, capped and timed."""

from __future__ import annotations

import threading
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.component.test_executions_api import make_pipeline, wait_done
from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry

BODY = b"%PDF-1.4 from the web " * 10
MIB = 1024 * 1024
BOMB_INFLATED = 190 * MIB


def _gzip_bomb() -> bytes:
    """190 MB of zeros as a ~190 KB gzip stream (made chunk by chunk, never whole)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MIB)
    parts = [packer.compress(zeros) for _ in range(BOMB_INFLATED // MIB)]
    return b"".join(parts) + packer.flush()


BOMB = _gzip_bomb()
ENCODINGS_ASKED: list[str | None] = []


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/docs/report.pdf":
            self._send(BODY, length=True)
        elif self.path == "/big-declared":
            self.send_response(200)
            self.send_header("Content-Length", str(10_000_000))
            self.end_headers()
        elif self.path == "/big-chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(50):
                chunk = b"x" * 1000
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/to-metadata":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/slow":
            time.sleep(2)
            self._send(BODY, length=True)
        elif self.path == "/trickle":
            # A byte every 0.2 s: no single read ever waits long enough to time out.
            self.send_response(200)
            self.send_header("Content-Length", "500")
            self.end_headers()
            try:
                for _ in range(500):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                return  # the client gave up: what is tested
        elif self.path == "/gzip-bomb":
            ENCODINGS_ASKED.append(self.headers.get("Accept-Encoding"))
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Encoding", "gzip")  # whatever the client asked for
            self.send_header("Content-Length", str(len(BOMB)))
            self.end_headers()
            self.wfile.write(BOMB)
        else:
            self.send_error(404)

    def _send(self, body: bytes, *, length: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
async def capped(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with test_server(
        tmp_path / "d",
        test_registry(),
        max_upload_bytes=20_000,
        download_timeout_seconds=0.5,
        download_deadline_seconds=1.5,
        url_allow_networks=["127.0.0.0/8"],  # the origin below is on loopback
    ) as server:
        yield server


@pytest.fixture
async def default(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with test_server(tmp_path / "d", test_registry()) as server:
        yield server


async def start(server: TestServer, url: str) -> tuple[int, dict[str, object]]:
    pipeline_id = await make_pipeline(server)
    response = await server.client.post(
        f"/api/v1/pipelines/{pipeline_id}/run", data={"file_url": url}, headers=server.headers()
    )
    return response.status_code, response.json()


async def test_a_file_url_is_downloaded_and_run(capped: TestServer, origin: str) -> None:
    status, body = await start(capped, f"{origin}/docs/report.pdf")
    assert status == 200, body
    done = await wait_done(capped, str(body["execution_id"]))
    assert done["status"] == "completed"
    config = done["input_config"]
    assert config["file_url"] == f"{origin}/docs/report.pdf"
    assert config["filename"] == "report.pdf"
    assert config["file_size"] == len(BODY)
    assert config["content_type"] == "application/pdf"


@pytest.mark.parametrize(
    ("path", "status", "fragment"),
    [
        ("/missing.pdf", 400, "answered 404"),
        ("/big-declared", 413, "larger than the limit"),
        ("/big-chunked", 413, "larger than the limit"),
        ("/slow", 400, "timed out"),
        ("/trickle", 400, "took longer than 1.5 s"),
    ],
)
async def test_bad_downloads_are_clear_client_errors(
    capped: TestServer, origin: str, path: str, status: int, fragment: str
) -> None:
    got_status, body = await start(capped, f"{origin}{path}")
    assert got_status == status
    assert fragment in str(body["detail"])
    inputs = capped.settings.blob_root() / "inputs"
    assert not inputs.exists() or not any(p.is_file() for p in inputs.rglob("*"))


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "2130706433", "[::ffff:127.0.0.1]", "169.254.169.254"]
)
async def test_the_default_server_refuses_local_addresses(
    default: TestServer, origin: str, host: str
) -> None:
    port = origin.rsplit(":", 1)[1]
    status, body = await start(default, f"http://{host}:{port}/docs/report.pdf")
    assert status == 422, body
    message = str(body["detail"])
    assert "file_url points to a private or local address" in message
    assert "only public http(s) URLs are fetched" in message
    inputs = default.settings.blob_root() / "inputs"
    assert not inputs.exists() or not any(p.is_file() for p in inputs.rglob("*"))


async def test_a_redirect_to_a_local_address_is_refused(capped: TestServer, origin: str) -> None:
    status, body = await start(capped, f"{origin}/to-metadata")
    assert status == 422, body
    assert "A redirect from file_url points to a private or local address" in str(body["detail"])


async def test_a_compressed_answer_is_refused_before_it_is_inflated(
    capped: TestServer, origin: str
) -> None:
    capped.services.executions.max_upload_bytes = 200 * MIB  # the bomb fits under the cap
    tracemalloc.start()
    try:
        status, body = await start(capped, f"{origin}/gzip-bomb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert status == 400, body
    assert "Content-Encoding: gzip" in str(body["detail"])
    assert ENCODINGS_ASKED[-1] == "identity"
    assert peak < 16 * MIB  # before: 190 MB stored, +254 MB RSS
    inputs = capped.settings.blob_root() / "inputs"
    assert not inputs.exists() or not any(p.is_file() for p in inputs.rglob("*"))
