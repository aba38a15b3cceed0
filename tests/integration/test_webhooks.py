"""Webhooks end to end: a real receiver on loopback that checks every signature.

The server allow-lists 127.0.0.0/8 (webhook URLs must otherwise be public) and uses a short
retry schedule, so retries take milliseconds instead of minutes.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from pagemill.adapters.http import HttpWebhookSender
from pagemill.worker.webhooks import WebhookDeliveryLoop
from tests.component.test_executions_api import make_pipeline, run, wait_done
from tests.support.app import TestServer, test_server
from tests.support.postgres import postgres_database_async
from tests.support.processors import test_registry

HANG_SECONDS = 4.0
TIMEOUT_SECONDS = 2.0  # per attempt, in these tests


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            path = self.path.split("?")[0]
            with receiver.lock:
                count = receiver.counts.get(path, 0) + 1
                receiver.counts[path] = count
                receiver.requests.append(
                    Received(
                        path, {k.lower(): v for k, v in self.headers.items()}, body, time.time()
                    )
                )
            if path == "/flaky" and count <= 2:
                self._answer(500, b"not yet")
            elif path == "/gone":
                self._answer(410, b"")
            elif path == "/hang":
                time.sleep(HANG_SECONDS)
                self._answer(200, b"late")
            elif path == "/trickle":
                # Headers at once, then a byte every 0.2 s: no single read ever times out.
                self.send_response(200)
                self.send_header("Content-Length", "10000")
                self.end_headers()
                try:
                    for _ in range(10000):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(0.2)
                except OSError:
                    return  # the sender hung up: what is tested
            elif path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "/ok")
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._answer(204, b"")

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    holder = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(holder))
    server.daemon_threads = True
    holder.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with test_server(
        tmp_path / "data",
        test_registry(),
        url_allow_networks=["127.0.0.0/8"],  # the receiver is on loopback
        webhook_retry_schedule_seconds=[0.05, 0.05, 0.05],
        webhook_retry_jitter=0,
        webhook_timeout_seconds=TIMEOUT_SECONDS,
        public_url="https://pagemill.example.com",
    ) as running:
        yield running


async def start(server: TestServer, webhook_url: str, **fields: str) -> str:
    pipeline_id = await make_pipeline(server)
    response = await run(server, pipeline_id, {"webhook_url": webhook_url, **fields})
    assert response.status_code == 200, response.text
    return str(response.json()["execution_id"])


async def secret(server: TestServer) -> str:
    response = await server.client.get(
        "/api/v1/teams/current/webhook-secret", headers=server.headers()
    )
    assert response.status_code == 200, response.text
    value = response.json()["secret"]
    assert isinstance(value, str) and value.startswith("whsec_")
    return value


async def deliveries(server: TestServer, execution_id: str, team: str = "alpha") -> Any:
    response = await server.client.get(
        f"/api/v1/pipelines/executions/{execution_id}/webhooks", headers=server.headers(team)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def eventually(check: Callable[[], Any], what: str, seconds: float = 10.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def settled(server: TestServer, execution_id: str, state: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        body = await deliveries(server, execution_id)
        items = body["deliveries"]
        return items[0] if items and items[0]["state"] == state else None

    found: dict[str, Any] = await eventually(check, f"a {state} delivery")
    return found


def assert_signed(request: Received, secret_value: str) -> None:
    # What a receiver does with the Standard Webhooks library (raises when it does not verify).
    Webhook(secret_value).verify(request.body, dict(request.headers), json_parse=False)
    assert request.headers["content-type"] == "application/json"


async def test_a_signed_webhook_is_delivered_on_completion(
    server: TestServer, receiver: Receiver
) -> None:
    execution_id = await start(server, f"{receiver.url}/ok?tag=1")
    done = await wait_done(server, execution_id)

    [request] = await eventually(lambda: receiver.on("/ok"), "the webhook")
    key = await secret(server)

    assert_signed(request, key)
    payload = json.loads(request.body)
    check_url = f"https://pagemill.example.com/api/v1/pipelines/executions/{execution_id}"
    assert payload == {
        "type": "execution.finished",
        "timestamp": done["completed_at"],
        "execution_id": execution_id,
        "pipeline_id": done["pipeline_id"],
        "pipeline_version": 0,
        "status": "completed",
        "cancelled": False,
        "execution_check_url": check_url,
        "request_id": execution_id,
        "request_check_url": check_url,
    }
    assert "webhook_secret" not in payload
    delivery = await settled(server, execution_id, "delivered")
    assert request.headers["webhook-id"] == delivery["delivery_id"]
    assert delivery["event"] == "execution" and delivery["type"] == "execution.finished"
    assert delivery["payload"] == payload
    assert delivery["attempts_made"] == 1 and delivery["next_attempt_at"] is None
    [attempt] = delivery["attempts"]
    assert attempt["status_code"] == 204 and attempt["error"] is None
    assert attempt["duration_ms"] >= 0 and attempt["started_at"]


async def test_500s_are_retried_until_the_receiver_accepts(
    server: TestServer, receiver: Receiver
) -> None:
    execution_id = await start(server, f"{receiver.url}/flaky")

    delivery = await settled(server, execution_id, "delivered")

    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 204]
    assert "HTTP 500: not yet" in delivery["attempts"][0]["error"]
    requests = receiver.on("/flaky")
    assert len(requests) == 3
    assert len({r.headers["webhook-id"] for r in requests}) == 1  # one message, three attempts
    key = await secret(server)
    for request in requests:
        assert_signed(request, key)


async def test_410_stops_the_retries(server: TestServer, receiver: Receiver) -> None:
    execution_id = await start(server, f"{receiver.url}/gone")

    delivery = await settled(server, execution_id, "failed")

    assert await server.services.webhooks.next_due() is None  # no retry is scheduled at all
    assert len(receiver.on("/gone")) == 1
    assert delivery["last_status_code"] == 410 and "410" in delivery["last_error"]
    assert delivery["finished_at"] is not None and delivery["next_attempt_at"] is None


async def test_redirects_are_failures_not_followed(server: TestServer, receiver: Receiver) -> None:
    execution_id = await start(server, f"{receiver.url}/redirect")

    delivery = await settled(server, execution_id, "failed")

    assert [a["status_code"] for a in delivery["attempts"]] == [302] * 4  # 1 + 3 retries
    assert "redirects are not followed" in delivery["last_error"]
    assert "Gave up after 4 attempts" in delivery["last_error"]
    assert receiver.on("/ok") == []


async def test_redeliver_sends_the_same_message_again(
    server: TestServer, receiver: Receiver
) -> None:
    execution_id = await start(server, f"{receiver.url}/ok")
    delivery = await settled(server, execution_id, "delivered")
    path = f"/api/v1/pipelines/executions/{execution_id}/webhooks/{delivery['delivery_id']}"

    response = await server.client.post(f"{path}/redeliver", headers=server.headers())

    assert response.status_code == 202, response.text
    assert response.json()["state"] in ("pending", "sending", "delivered")
    requests = await eventually(lambda: len(receiver.on("/ok")) == 2 and receiver.on("/ok"), "2")
    assert requests[0].headers["webhook-id"] == requests[1].headers["webhook-id"]
    assert requests[0].body == requests[1].body
    again = await eventually(
        lambda: _delivered_twice(server, execution_id), "the second attempt in the log"
    )
    assert [a["attempt"] for a in again["attempts"]] == [1, 2]


async def _delivered_twice(server: TestServer, execution_id: str) -> dict[str, Any] | None:
    [item] = (await deliveries(server, execution_id))["deliveries"]
    return item if item["state"] == "delivered" and item["attempts_made"] == 2 else None


async def test_the_log_and_redelivery_are_team_scoped(
    server: TestServer, receiver: Receiver
) -> None:
    execution_id = await start(server, f"{receiver.url}/ok")
    delivery = await settled(server, execution_id, "delivered")
    base = f"/api/v1/pipelines/executions/{execution_id}/webhooks"
    other = server.headers("beta")

    assert (await server.client.get(base, headers=other)).status_code == 404
    redeliver = f"{base}/{delivery['delivery_id']}/redeliver"
    assert (await server.client.post(redeliver, headers=other)).status_code == 404
    unknown = f"{base}/whd_unknown/redeliver"
    assert (await server.client.post(unknown, headers=server.headers())).status_code == 404
    missing = await server.client.get(
        "/api/v1/pipelines/executions/pex_missing/webhooks", headers=server.headers()
    )
    assert missing.status_code == 404
    no_hook = await start_without_webhook(server)
    assert (await deliveries(server, no_hook))["deliveries"] == []


async def start_without_webhook(server: TestServer) -> str:
    pipeline_id = await make_pipeline(server)
    response = await run(server, pipeline_id)
    execution_id = str(response.json()["execution_id"])
    await wait_done(server, execution_id)
    return execution_id


async def test_a_hanging_receiver_delays_neither_the_execution_nor_other_webhooks(
    server: TestServer, receiver: Receiver
) -> None:
    hanging = await start(server, f"{receiver.url}/hang")
    await eventually(lambda: receiver.on("/hang"), "the hanging request")
    started = time.monotonic()

    other = await start(server, f"{receiver.url}/ok")
    await wait_done(server, other)
    await eventually(lambda: receiver.on("/ok"), "the other webhook")

    assert time.monotonic() - started < TIMEOUT_SECONDS  # the hanging attempt is still open
    assert (await wait_done(server, hanging))["status"] == "completed"
    timed_out = await eventually(
        lambda: _first_attempt(server, hanging), "the timed-out attempt", seconds=5
    )
    assert timed_out["status_code"] is None and "timed out" in timed_out["error"]
    assert TIMEOUT_SECONDS * 900 <= timed_out["duration_ms"] < HANG_SECONDS * 1000


async def _first_attempt(server: TestServer, execution_id: str) -> dict[str, Any] | None:
    [item] = (await deliveries(server, execution_id))["deliveries"]
    attempts: list[dict[str, Any]] = item["attempts"]
    return attempts[0] if attempts else None


async def test_step_events_are_an_opt_in_extension(server: TestServer, receiver: Receiver) -> None:
    pipeline_id = await make_pipeline(
        server, [{"type": "convert", "settings": {}}, {"type": "segment", "settings": {}}]
    )
    response = await run(
        server,
        pipeline_id,
        {"webhook_url": f"{receiver.url}/ok", "webhook_events": "step,execution"},
    )
    assert response.status_code == 200, response.text
    execution_id = response.json()["execution_id"]
    assert response.json()["input_config"]["webhook_events"] == ["execution", "step"]

    requests = await eventually(lambda: len(receiver.on("/ok")) == 3 and receiver.on("/ok"), "3")

    kinds = sorted(json.loads(r.body)["type"] for r in requests)
    assert kinds == ["execution.finished", "execution.step.finished", "execution.step.finished"]
    body = await deliveries(server, execution_id)
    assert [d["event"] for d in body["deliveries"]] == ["step.0", "step.1", "execution"]


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"webhook_url": "ftp://example.com/x"}, "http or https"),
        ({"webhook_url": "https://example.com/x", "webhook_events": "steps"}, "webhook_events"),
    ],
)
async def test_bad_webhook_options_are_refused_at_run(
    server: TestServer, fields: dict[str, str], fragment: str
) -> None:
    pipeline_id = await make_pipeline(server)
    response = await run(server, pipeline_id, fields)
    assert response.status_code == 422, response.text
    assert fragment in response.text


async def test_rotation_signs_with_both_secrets_for_a_while(
    server: TestServer, receiver: Receiver
) -> None:
    old = await secret(server)
    assert await secret(server) == old  # created once
    response = await server.client.post(
        "/api/v1/teams/current/webhook-secret", headers=server.headers()
    )
    assert response.status_code == 200, response.text
    rotated = response.json()
    new = rotated["secret"]
    assert new != old and rotated["previous_secret_expires_at"] and rotated["rotated_at"]
    assert await secret(server) == new

    await start(server, f"{receiver.url}/ok")
    [request] = await eventually(lambda: receiver.on("/ok"), "the webhook")

    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert_signed(request, new)
    assert_signed(request, old)


async def test_a_url_the_guard_refuses_fails_at_once_with_the_reason(tmp_path: Path) -> None:
    async with test_server(tmp_path / "d", test_registry()) as default:  # no allow-list
        execution_id = await start(default, "http://127.0.0.1:9/hook")
        delivery = await settled(default, execution_id, "failed")

    assert delivery["attempts_made"] == 1
    assert delivery["last_error"].startswith("Refused: webhook url points to a private")
    assert "loopback" in delivery["last_error"]


async def test_several_loops_never_send_one_attempt_twice(
    server: TestServer, receiver: Receiver
) -> None:
    extra = [
        WebhookDeliveryLoop(
            server.services.webhooks, server.runtime.clock, identity=f"extra-{i}", concurrency=4
        )
        for i in range(2)
    ]
    for loop in extra:
        await loop.start()
    try:
        ids = [await start(server, f"{receiver.url}/ok") for _ in range(8)]
        requests = await eventually(
            lambda: len(receiver.on("/ok")) >= 8 and receiver.on("/ok"), "8 webhooks"
        )
        for execution_id in ids:
            await settled(server, execution_id, "delivered")
    finally:
        for loop in extra:
            await loop.stop(1.0)

    assert len(receiver.on("/ok")) == len(requests) == 8
    assert len({r.headers["webhook-id"] for r in requests}) == 8


@pytest.mark.postgres
async def test_the_queue_worker_delivers_on_postgresql(tmp_path: Path, receiver: Receiver) -> None:
    """The scale-out shape: a Procrastinate worker runs the steps and the delivery loop."""
    async with (
        postgres_database_async() as url,
        test_server(
            tmp_path / "pg",
            test_registry(),
            database_url=url,
            url_allow_networks=["127.0.0.0/8"],
        ) as pg,
    ):
        assert pg.runtime.queue is not None
        execution_id = await start(pg, f"{receiver.url}/ok")
        delivery = await settled(pg, execution_id, "delivered")
        key = await secret(pg)

    [request] = receiver.on("/ok")
    assert_signed(request, key)
    assert request.headers["webhook-id"] == delivery["delivery_id"]


async def test_a_trickled_answer_ends_at_the_attempts_deadline(receiver: Receiver) -> None:
    sender = HttpWebhookSender(
        connect_timeout_seconds=0.5, timeout_seconds=1.0, allow_networks=["127.0.0.0/8"]
    )
    async with asyncio.timeout(30):  # generous: the attempt itself must end after ~1 s
        result = await sender.send(f"{receiver.url}/trickle", b"{}", {})

    assert result.status_code is None
    assert result.error is not None and "timed out" in result.error
