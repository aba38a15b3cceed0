"""The OpenAI-compatible extractor against a fake endpoint (``httpx.MockTransport``): no network."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pagemill.adapters.llm import OpenAICompatibleExtractor, configured_extractor
from pagemill.domain.errors import ProcessingError

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"invoice_number": {"type": "string"}, "total": {"type": "number"}},
    "required": ["invoice_number"],
}
BASE_URL = "http://llm.test/v1"


def completion(content: str) -> dict[str, Any]:
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}


class FakeEndpoint:
    """Answers each request with the next of ``replies`` and records what it was sent."""

    def __init__(self, *replies: httpx.Response | Exception) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.requests]


def answer(content: str) -> httpx.Response:
    return httpx.Response(200, json=completion(content))


def extractor(endpoint: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> Any:
    return OpenAICompatibleExtractor(
        BASE_URL, "sk-test", "tiny-model", transport=httpx.MockTransport(endpoint), **kwargs
    )


def run(endpoint: FakeEndpoint, **kwargs: Any) -> dict[str, Any]:
    result: dict[str, Any] = extractor(endpoint, **kwargs).extract(
        "[/page/0/Paragraph/0] Invoice 7", SCHEMA, "Extract."
    )
    return result


def test_posts_a_json_schema_chat_completion() -> None:
    endpoint = FakeEndpoint(answer('{"invoice_number": "7", "total": 12.5}'))
    assert run(endpoint) == {"invoice_number": "7", "total": 12.5}
    request = endpoint.requests[0]
    assert request.method == "POST"
    assert str(request.url) == f"{BASE_URL}/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    body = endpoint.bodies()[0]
    assert body["model"] == "tiny-model"
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == SCHEMA
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][0]["content"] == "Extract."
    assert "Invoice 7" in body["messages"][1]["content"]


def test_fenced_json_is_accepted() -> None:
    assert run(FakeEndpoint(answer('```json\n{"invoice_number": "A"}\n```'))) == {
        "invoice_number": "A"
    }


def test_invalid_json_is_retried_with_the_problem() -> None:
    endpoint = FakeEndpoint(answer("Sure! Here it is:"), answer('{"invoice_number": "B"}'))
    assert run(endpoint) == {"invoice_number": "B"}
    retry = endpoint.bodies()[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": "Sure! Here it is:"}
    assert "not valid JSON" in retry[-1]["content"]


def test_an_answer_that_does_not_validate_is_retried() -> None:
    endpoint = FakeEndpoint(answer('{"total": "many"}'), answer('{"invoice_number": "C"}'))
    assert run(endpoint) == {"invoice_number": "C"}
    assert "does not match the schema" in endpoint.bodies()[1]["messages"][-1]["content"]


def test_after_the_retries_the_last_object_is_returned() -> None:
    endpoint = FakeEndpoint(*(answer('{"total": "x"}') for _ in range(2)))
    assert run(endpoint, max_retries=1) == {"total": "x"}  # the processor drops what is invalid
    assert len(endpoint.requests) == 2


def test_never_json_is_a_permanent_failure() -> None:
    endpoint = FakeEndpoint(*(answer("no") for _ in range(3)))
    with pytest.raises(ProcessingError, match="after 3 attempts") as caught:
        run(endpoint)
    assert caught.value.retryable is False


@pytest.mark.parametrize(
    ("reply", "retryable"),
    [
        (httpx.Response(500, text="upstream broke"), True),
        (httpx.Response(503, text="overloaded"), True),
        (httpx.Response(429, text="slow down"), True),
        (httpx.Response(401, text="bad key"), False),
        (httpx.Response(400, text="unknown model"), False),
        (httpx.Response(200, text="<html>not json</html>"), False),
        (httpx.Response(200, json={"choices": []}), False),
        (httpx.ReadTimeout("read timed out"), True),
        (httpx.ConnectError("connection refused"), True),
    ],
)
def test_failures_say_whether_a_retry_can_help(
    reply: httpx.Response | Exception, retryable: bool
) -> None:
    with pytest.raises(ProcessingError) as caught:
        run(FakeEndpoint(reply))
    assert caught.value.retryable is retryable


def test_it_pickles_and_never_shows_the_key() -> None:
    llm = OpenAICompatibleExtractor(BASE_URL + "/", "sk-secret", "tiny-model", timeout_seconds=5)
    copy = pickle.loads(pickle.dumps(llm))  # noqa: S301 - our own bytes
    assert copy.base_url == BASE_URL
    assert copy.name == "openai-compatible:tiny-model"
    assert "sk-secret" not in repr(copy)


def test_it_needs_a_base_url_and_a_model() -> None:
    with pytest.raises(ValueError, match="base URL"):
        OpenAICompatibleExtractor("", "key", "model")


def test_configured_only_when_url_key_and_model_are_all_set() -> None:
    assert configured_extractor(None, "key", "model") is None
    assert configured_extractor(BASE_URL, "", "model") is None
    assert configured_extractor(BASE_URL, "key", None) is None
    llm = configured_extractor(BASE_URL, "key", "model", timeout_seconds=7)
    assert llm is not None
    assert (llm.model, llm.timeout_seconds) == ("model", 7)
