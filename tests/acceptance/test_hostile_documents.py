"""Documents that cannot be converted, sent to a real server next to good ones: each ends as a
failed step with a clear reason, within bounded time, and the server keeps serving others."""

from __future__ import annotations

import struct
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from docgen.hostilegen import (
    deep_page_tree,
    millions_of_pages_declared,
    pdf_zip_polyglot,
    recursive_page_tree,
    tiff_with_many_frames,
    zip_with_many_members,
)
from docgen.officegen import billion_laughs, make_docx, replace_member, zip_with
from docgen.pdfgen import make_pdf
from tests.acceptance.conftest import ServerProcess

pytestmark = pytest.mark.slow

TERMINAL = {"completed", "completed_with_errors", "failed"}
GOOD_PAGE = [[("h1", "Fine"), ("p", "This document converts without trouble.")]]


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims an absurd size (the pixels are never there)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def hostile_files(root: Path) -> dict[str, tuple[Path, str]]:
    """name → (file, a fragment its error message must contain)."""
    good = make_pdf(root / "good.pdf", GOOD_PAGE)
    pdf = good.read_bytes()
    docx = make_docx(root / "base.docx", [[("title", "Report"), ("p", "Body")]])
    return {
        "encrypted.pdf": (
            make_pdf(root / "encrypted.pdf", GOOD_PAGE, password="s3cret"),
            "encrypted",
        ),
        "truncated.pdf": (_write(root / "truncated.pdf", pdf[: len(pdf) // 3]), ""),
        "corrupt.pdf": (_write(root / "corrupt.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 500), ""),
        "wrong-type.pdf": (_write(root / "wrong-type.pdf", b"{\\rtf1 not a pdf}"), "RTF"),
        "bomb.docx": (
            zip_with(root / "bomb.docx", [("word/document.xml", b"\0" * 300_000_000)]),
            "",
        ),
        "laughs.docx": (
            replace_member(
                docx, root / "laughs.docx", "word/document.xml", billion_laughs().encode()
            ),
            "",
        ),
        "huge.png": (_write(root / "huge.png", _png_claiming(100_000, 100_000)), ""),
        "recursive.pdf": (recursive_page_tree(root / "recursive.pdf"), "damaged"),
        "deep.pdf": (deep_page_tree(root / "deep.pdf"), "damaged"),
        # A million members listed (the 47 MB XLSX of the attack, as its 65 MB directory).
        "members.xlsx": (
            zip_with_many_members(root / "members.xlsx", 1_000_000),
            "too large to be a document",
        ),
    }


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture
def client(server_process: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server_process.base_url,
        headers={"X-API-Key": server_process.api_key},
        timeout=60,
    ) as client:
        yield client


def run(client: httpx.Client, pipeline_id: str, path: Path) -> str:
    with path.open("rb") as handle:
        response = client.post(
            f"/api/v1/pipelines/{pipeline_id}/run", files={"file": (path.name, handle)}
        )
    assert response.status_code == 200, response.text
    return str(response.json()["execution_id"])


def wait(client: httpx.Client, execution_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/api/v1/pipelines/executions/{execution_id}").json()
        if body["status"] in TERMINAL:
            return body
        time.sleep(0.1)
    raise AssertionError(f"{execution_id} did not finish in {timeout} s")


class PeakMemory:
    """Samples the resident memory of a process and its children every 50 ms."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            try:
                tree = [self._process, *self._process.children(recursive=True)]
                total = sum(p.memory_info().rss for p in tree if p.is_running())
            except psutil.Error:
                continue
            self.peak = max(self.peak, total)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# Server plus two worker processes converting: well under this, bombs or not.
MEMORY_BOUND = 1536 * 1024 * 1024


def test_hostile_documents_fail_cleanly_and_others_are_unaffected(
    server_process: ServerProcess, client: httpx.Client, tmp_path: Path
) -> None:
    assert server_process.process is not None
    with PeakMemory(server_process.process.pid) as memory:
        _hostile_documents_fail_cleanly(client, tmp_path)
    assert 0 < memory.peak < MEMORY_BOUND, f"peak {memory.peak / 2**20:.0f} MiB"


def _hostile_documents_fail_cleanly(client: httpx.Client, tmp_path: Path) -> None:
    pipeline_id = client.post("/api/v1/pipelines", json={"steps": [{"type": "convert"}]}).json()[
        "pipeline_id"
    ]
    files = hostile_files(tmp_path)
    good = make_pdf(tmp_path / "good-again.pdf", GOOD_PAGE)
    started = time.monotonic()
    bad_runs = {name: run(client, pipeline_id, path) for name, (path, _) in files.items()}
    good_run = run(client, pipeline_id, good)

    for name, execution_id in bad_runs.items():
        body = wait(client, execution_id)
        step = body["steps"][0]
        assert body["status"] == "failed", (name, body)
        assert step["error_message"], name
        assert files[name][1] in step["error_message"], (name, step["error_message"])
        assert step["attempt"] == 1, f"{name}: a document error is not retried"
    assert wait(client, good_run)["status"] == "completed"
    assert time.monotonic() - started < 120

    # The server and its worker processes keep serving.
    assert client.get("/readyz").status_code == 200
    again = run(client, pipeline_id, make_pdf(tmp_path / "after.pdf", GOOD_PAGE))
    assert wait(client, again)["status"] == "completed"
    empty = client.post(f"/api/v1/pipelines/{pipeline_id}/run", files={"file": ("empty.pdf", b"")})
    assert empty.status_code == 422
    assert "empty" in empty.json()["detail"][0]["msg"]
    # Millions of TIFF frames: refused at submit, counted only up to the limit.
    with tiff_with_many_frames(tmp_path / "chain.tif", 2_000_000).open("rb") as chain:
        frames = client.post(f"/api/v1/pipelines/{pipeline_id}/run", files={"file": chain})
    assert frames.status_code == 400
    assert "at least 7,001 pages" in frames.json()["detail"]


def test_odd_but_harmless_documents_convert_safely(client: httpx.Client, tmp_path: Path) -> None:
    """A page tree that lies about its size, a PDF/ZIP polyglot and a filename with path
    separators and control characters: each converts what is really there, nothing more."""
    pipeline_id = client.post("/api/v1/pipelines", json={"steps": [{"type": "convert"}]}).json()[
        "pipeline_id"
    ]
    good = make_pdf(tmp_path / "good.pdf", GOOD_PAGE).read_bytes()
    zipped = zip_with(tmp_path / "inner.zip", [("word/document.xml", b"<w:document/>")])
    documents = {
        "million.pdf": millions_of_pages_declared(tmp_path / "million.pdf"),
        "polyglot.pdf": pdf_zip_polyglot(tmp_path / "polyglot.pdf", good, zipped.read_bytes()),
    }
    for name, path in documents.items():
        body = wait(client, run(client, pipeline_id, path))
        assert body["status"] == "completed", (name, body)
        assert body["input_config"]["page_count"] == 1, name

    hostile_name = "../../etc/\x1b[31mpasswd\x00.pdf"
    response = client.post(
        f"/api/v1/pipelines/{pipeline_id}/run",
        files={"file": (hostile_name, good, "application/pdf")},
    )
    assert response.status_code == 200, response.text
    filename = response.json()["input_config"]["filename"]
    assert "/" not in filename and "\\" not in filename
    assert all(ch.isprintable() for ch in filename)
    assert wait(client, response.json()["execution_id"])["status"] == "completed"


def test_hostile_documents_through_the_single_shot_endpoints(
    client: httpx.Client, tmp_path: Path
) -> None:
    """The same files sent to /convert, /ocr and /extract: each request ends failed with the
    reason, polled as the SDK polls, and the server keeps answering."""
    files = hostile_files(tmp_path)
    schema = '{"type": "object", "properties": {"total": {"type": "number"}}}'
    submitted: dict[tuple[str, str], str] = {}
    for name, (path, _) in files.items():
        for endpoint, data in (("convert", {}), ("ocr", {}), ("extract", {"page_schema": schema})):
            with path.open("rb") as handle:
                response = client.post(
                    f"/api/v1/{endpoint}", files={"file": (path.name, handle)}, data=data
                )
            assert response.status_code == 200, (endpoint, name, response.text)
            submitted[(endpoint, name)] = response.json()["request_check_url"]
    deadline = time.monotonic() + 180
    for (endpoint, name), url in submitted.items():
        while True:
            body = client.get(url).json()
            if body["status"] != "processing":
                break
            assert time.monotonic() < deadline, (endpoint, name)
            time.sleep(0.1)
        assert body["status"] == "failed" and body["success"] is False, (endpoint, name, body)
        assert body["error"], (endpoint, name)
        if endpoint != "ocr":  # OCR refuses what is not a PDF or an image in its own words
            assert files[name][1] in body["error"], (endpoint, name, body["error"])
    assert client.get("/readyz").status_code == 200
