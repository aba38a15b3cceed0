"""Schemathesis against pagemill's own OpenAPI document, in process.

Every operation gets a bounded, derandomized set of generated requests (examples, coverage
and fuzzing phases; positive and negative data) sent to the ASGI app of
``tests.support.app.test_server`` with a real API key. Each answer must not be a 5xx, its
status and media type must be declared for the operation, and its body must conform to the
schema declared for that status — so every error the API can answer is documented with its
real ``{"detail": …}`` body.

The server runs for the whole module on one event loop in a thread (an anyio blocking portal):
the ledger, the blob store and the embedded workers stay on the loop they were opened on, and
the synchronous hypothesis tests reach it through ``portal.call``. Schemathesis serializes
each case as it would for ``requests``; the prepared request is replayed byte for byte through
the server's ``httpx`` client.

Most generated path ids are swapped for ids that exist (a draft, a published and an archived
pipeline, a finished execution, a custom processor), chosen by a checksum of the generated
value, so that generated bodies reach the handlers behind the 404s.

Two hypothesis tests then aim at what schemathesis rarely draws: free-form JSON (step settings,
custom processor definitions) holding values the server cannot store or echo.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pagemill.api import create_app
from pagemill.services.container import Services
from tests.support.app import TestServer, test_server
from tests.support.processors import test_registry

MAX_EXAMPLES = 25
BASE_URL = "http://pagemill.test"
ADMIN_TOKEN = "fuzz-admin-token"
# No 5xx; the body matches the schema declared for its status; and the status and media type
# are declared at all (an undeclared status would skip the schema check).
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


def _no_runtime() -> AbstractAsyncContextManager[Services]:
    raise AssertionError("the document is generated without starting the app")


def _load_schema() -> Any:
    # The document is static: an app that is never started describes the same API.
    loaded = schemathesis.openapi.from_dict(create_app(_no_runtime).openapi())
    # The API key is sent by the test (a real one); random keys would only ever see 401.
    loaded.config.generation.update(
        max_examples=MAX_EXAMPLES, deterministic=True, with_security_parameters=False
    )
    return loaded


schema = _load_schema()


@dataclass
class Live:
    """The running server, reached from synchronous code through the portal."""

    portal: BlockingPortal
    server: TestServer
    ids: dict[str, list[Any]] = field(default_factory=dict)  # path parameter → existing values

    @property
    def headers(self) -> dict[str, str]:
        return {**self.server.headers(), "X-Admin-Token": ADMIN_TOKEN}

    def request(
        self, method: str, url: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        async def send() -> httpx.Response:
            return await self.server.client.request(
                method, url, headers={**self.headers, **(headers or {})}, **kwargs
            )

        return self.portal.call(send)

    def send(self, case: schemathesis.Case[Any]) -> httpx.Response:
        """Send ``case`` as ``requests`` would have: same method, URL, headers and bytes."""
        kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=self.headers)
        prepared = requests.Request(**kwargs).prepare()
        body = prepared.body
        assert body is None or isinstance(body, str | bytes), type(body)
        headers = {
            name: value if isinstance(value, str) else value.decode("latin-1")
            for name, value in prepared.headers.items()
        }
        request = self.server.client.build_request(
            str(prepared.method),
            str(prepared.url),
            headers=headers,
            content=body.encode() if isinstance(body, str) else body,
        )

        async def send() -> httpx.Response:
            return await self.server.client.send(request)

        return self.portal.call(send)


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _seed(live: Live) -> None:
    convert = {"steps": [{"type": "convert", "settings": {}}]}
    draft = _ok(live.request("POST", "/api/v1/pipelines", json=convert))["pipeline_id"]
    published = _ok(live.request("POST", "/api/v1/pipelines", json=convert))["pipeline_id"]
    _ok(live.request("PUT", f"/api/v1/pipelines/{published}/save", json={"name": "fuzz"}))
    _ok(live.request("POST", f"/api/v1/pipelines/{published}/versions"))
    archived = _ok(live.request("POST", "/api/v1/pipelines", json=convert))["pipeline_id"]
    _ok(live.request("POST", f"/api/v1/pipelines/{archived}/archive"))
    run = live.request(
        "POST",
        f"/api/v1/pipelines/{published}/run",
        files={"file": ("doc.txt", b"hello", "text/plain")},
    )
    execution = _ok(run)["execution_id"]
    deadline = time.monotonic() + 30
    while (done := _ok(live.request("GET", f"/api/v1/pipelines/executions/{execution}")))[
        "status"
    ] in ("pending", "running"):
        assert time.monotonic() < deadline, "the seed execution did not finish"
        time.sleep(0.05)
    lookup_key = done["steps"][0]["lookup_key"]
    processor = _ok(
        live.request(
            "POST",
            "/api/v1/custom_processors",
            json={
                "name": "fuzz",
                "definition": {"rules": [{"action": "drop", "match": {"type": "page_header"}}]},
            },
        )
    )["processor_id"]
    upload = _ok(
        live.request(
            "POST",
            "/api/v1/files/upload",
            json={"filename": "doc.txt", "content_type": "text/plain"},
        )
    )
    _ok(live.request("PUT", upload["upload_url"], content=b"hello"))
    file_id = upload["file_id"]
    _ok(live.request("GET", f"/api/v1/files/{file_id}/confirm"))
    collection = _ok(live.request("POST", "/api/v1/collections", json={"name": "fuzz"}))["id"]
    _ok(
        live.request(
            "POST", f"/api/v1/collections/{collection}/files", json={"file_ids": [file_id]}
        )
    )
    batch_run = _ok(
        live.request(
            "POST",
            "/api/v1/eval_batch_runs",
            json={"collection_id": collection, "pipeline_id": published},
        )
    )["id"]
    live.ids = {
        "collection_id": [collection],
        "run_id": [batch_run],
        "pipeline_id": [draft, published, archived],
        "execution_id": [execution],
        "step_index": [0],
        "processor_id": [processor],
        "version": [1],
        "request_id": [lookup_key],
        "lookup_key": [lookup_key],
    }


def test_error_statuses_are_declared_with_their_detail_body() -> None:
    """docs/api.md's families declare the statuses of the error table, each with its body."""
    document = create_app(_no_runtime).openapi()
    models = document["components"]["schemas"]
    assert models["ErrorResponse"]["required"] == ["detail"]
    assert models["HTTPValidationError"]["properties"]["detail"]["type"] == "array"
    families = ("/api/v1/pipelines", "/api/v1/custom_processors", "/api/v1/custom_pipelines")
    for path, operations in document["paths"].items():
        if not path.startswith(families):
            continue
        for method, operation in operations.items():
            declared = operation["responses"]
            expected = {"401", "404", "422", "503"} | (
                {"400"} if method in ("post", "put") else set()
            )
            if path.endswith("/run"):
                expected |= {"413"}
            assert expected <= set(declared), (method, path, sorted(declared))
            for status in expected:
                body = declared[status]["content"]["application/json"]["schema"]
                model = "HTTPValidationError" if status == "422" else "ErrorResponse"
                assert body == {"$ref": f"#/components/schemas/{model}"}, (method, path, status)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz") / "data"
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(
            test_server(
                data_dir,
                test_registry(),
                admin_token=ADMIN_TOKEN,
                download_timeout_seconds=2.0,
                max_upload_bytes=64 * 1024,
            )
        ) as server,
    ):
        running = Live(portal, server)
        _seed(running)
        yield running


def _use_existing_ids(case: schemathesis.Case[Any], live: Live) -> None:
    """Replace most generated path ids with existing ones, chosen from the generated value
    (a checksum, so the choice is as deterministic as the generation)."""
    path = case.path_parameters
    if not isinstance(path, dict):
        return
    for name, value in path.items():
        existing = live.ids.get(name)
        if existing:
            choice = zlib.crc32(repr(value).encode()) % (len(existing) + 1)
            if choice < len(existing):
                path[name] = existing[choice]


@schema.parametrize()  # type: ignore[untyped-decorator]
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)
def test_every_operation_answers_within_its_documented_schema(
    case: schemathesis.Case[Any], live: Live
) -> None:
    _use_existing_ids(case, live)
    response = live.send(case)
    case.validate_response(response, checks=CHECKS)


# -- free-form JSON: step settings and custom processor definitions ------------------------------
# Schemathesis draws little of what JSON can carry but the server cannot store or echo: integers
# beyond 64 bits, NaN and infinities, lone surrogates ("\\ud800" escapes), NUL, deep nesting.

_ODD_TEXT = st.text(
    st.one_of(st.characters(), st.sampled_from(["\x00", "\ud800", "\udfff", "\u2028"])),
    max_size=12,
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**63 - 1, -(2**63), 2**63, 2**64]),
    st.floats(),
    _ODD_TEXT,
)


def _nested(depth: int) -> Any:
    value: Any = 0
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


ODD_JSON = st.one_of(
    st.recursive(
        _SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(_ODD_TEXT, inner, max_size=4)
        ),
        max_leaves=12,
    ),
    st.integers(min_value=60, max_value=70).map(_nested),
)

FUZZ_SETTINGS = settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _post_json(live: Live, path: str, body: Any) -> httpx.Response:
    # json.dumps writes what it is given: NaN, 2**70, "\\ud800" escapes (ensure_ascii).
    return live.request(
        "POST", path, content=json.dumps(body), headers={"Content-Type": "application/json"}
    )


def _assert_validation_error(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail
    assert all({"loc", "msg", "type"} <= set(item) for item in detail)


@FUZZ_SETTINGS
@given(settings_value=ODD_JSON, extra=ODD_JSON)
def test_step_settings_are_stored_and_echoed_exactly_or_refused(
    live: Live, settings_value: Any, extra: Any
) -> None:
    step = {"type": "convert", "settings": {"value": settings_value}, "extension": extra}
    response = _post_json(live, "/api/v1/pipelines", {"steps": [step]})
    event(f"status {response.status_code}")
    if response.status_code == 422:
        _assert_validation_error(response)
        return
    assert response.status_code == 200, response.text
    sent = json.loads(json.dumps(step))
    assert response.json()["steps"] == [sent]
    pipeline_id = response.json()["pipeline_id"]
    stored = live.request("GET", f"/api/v1/pipelines/{pipeline_id}")
    assert stored.status_code == 200 and stored.json()["steps"] == [sent]


@FUZZ_SETTINGS
@given(
    pattern=_ODD_TEXT,
    replacement=_ODD_TEXT,
    labels=st.one_of(
        st.dictionaries(_ODD_TEXT, st.lists(_ODD_TEXT, min_size=1, max_size=3), max_size=3),
        ODD_JSON,
    ),
    name=_ODD_TEXT,
)
def test_custom_processor_definitions_are_accepted_or_refused_cleanly(
    live: Live, pattern: str, replacement: str, labels: Any, name: str
) -> None:
    definition = {
        "rules": [{"action": "rename", "match": {"pattern": pattern}, "to": replacement}],
        "classify_pages": labels,
    }
    response = _post_json(
        live, "/api/v1/custom_processors", {"name": name or "x", "definition": definition}
    )
    event(f"status {response.status_code}")
    if response.status_code == 422:
        _assert_validation_error(response)
        return
    assert response.status_code == 200, response.text
    processor_id = response.json()["processor_id"]
    version = live.request("GET", f"/api/v1/custom_processors/{processor_id}/versions/1")
    assert version.status_code == 200, version.text
    assert version.json()["definition"] == json.loads(json.dumps(definition))
