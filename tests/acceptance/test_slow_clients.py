"""Slow clients against a real ``pagemill serve``: a connection that says nothing, headers or a
body trickled a byte at a time, oversized headers — each is answered and closed, so they
cannot hold connections and descriptors forever."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.acceptance.conftest import ServerProcess, clean_env
from tests.support.processes import free_port

pytestmark = pytest.mark.slow

# Generous: the server is configured with 1 s limits; a closed connection is what is asserted.
PATIENCE_SECONDS = 30.0


@pytest.fixture
def strict_server(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(
        args=["serve", "--data-dir", str(tmp_path / "data"), "--workers", "0"],
        env=clean_env(
            PAGEMILL_HEADER_READ_TIMEOUT_SECONDS="1",
            PAGEMILL_KEEP_ALIVE_TIMEOUT_SECONDS="1",
            PAGEMILL_BODY_READ_TIMEOUT_SECONDS="1",
            PAGEMILL_BODY_MIN_RATE_BYTES_PER_SECOND="100",
            PAGEMILL_MAX_HEADER_BYTES="4096",
        ),
        log=tmp_path / "serve.log",
        port=free_port(),
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def connect(server: ServerProcess) -> socket.socket:
    assert server.port is not None
    return socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE_SECONDS)


def answer_then_close(sock: socket.socket, trickle: bytes = b"") -> bytes:
    """Everything the server sends until it closes the connection; ``trickle`` is sent a byte
    at a time meanwhile (a slowloris client). Fails if the server keeps the connection."""
    received = b""
    deadline = time.monotonic() + PATIENCE_SECONDS
    sock.settimeout(0.25)
    sent = 0
    while time.monotonic() < deadline:
        if sent < len(trickle):
            try:
                sock.sendall(trickle[sent : sent + 1])
                sent += 1
            except OSError:
                pass  # closed by the server while we were still sending
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the server kept the connection open; received {received!r}")


def test_a_connection_that_sends_nothing_is_closed(strict_server: ServerProcess) -> None:
    with connect(strict_server) as sock:
        answer = answer_then_close(sock)
    assert answer.startswith(b"HTTP/1.1 408")


def test_headers_trickled_a_byte_at_a_time_are_cut_off(strict_server: ServerProcess) -> None:
    with connect(strict_server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        answer = answer_then_close(sock, trickle=b"X-Slow: " + b"a" * 1000 + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 408")


def test_an_idle_keep_alive_connection_is_closed(strict_server: ServerProcess) -> None:
    with connect(strict_server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = answer_then_close(sock)
    assert answer.startswith(b"HTTP/1.1 200")


def test_oversized_headers_are_431(strict_server: ServerProcess) -> None:
    with connect(strict_server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n")
        answer = answer_then_close(sock)
    assert answer.startswith(b"HTTP/1.1 431")


def test_a_body_trickled_too_slowly_is_408(strict_server: ServerProcess) -> None:
    with connect(strict_server) as sock:
        sock.sendall(
            b"POST /api/v1/pipelines HTTP/1.1\r\nHost: x\r\n"
            + f"X-API-Key: {strict_server.api_key}\r\n".encode()
            + b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
        )
        answer = answer_then_close(sock, trickle=b" " * 999)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"too slowly" in answer


def test_many_slow_clients_leave_no_descriptor_behind(strict_server: ServerProcess) -> None:
    assert strict_server.process is not None
    server = psutil.Process(strict_server.process.pid)
    baseline = server.num_fds()
    sockets = [connect(strict_server) for _ in range(50)]
    try:
        for sock in sockets:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the rest
        for sock in sockets:
            assert answer_then_close(sock).startswith(b"HTTP/1.1 408")
    finally:
        for sock in sockets:
            sock.close()
    deadline = time.monotonic() + PATIENCE_SECONDS
    while server.num_fds() > baseline + 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.num_fds() <= baseline + 5
    # And the server still serves.
    assert httpx.get(f"{strict_server.base_url}/healthz", timeout=10).status_code == 200
