"""A ``StructuredExtractor`` over an OpenAI-compatible chat-completions endpoint.

``POST {base_url}/chat/completions`` with ``response_format: {"type": "json_schema", ...}``.
Answers that are not JSON, or do not validate against the schema, are sent back to the model
with the problem, up to ``max_retries`` more times; after that the last JSON object is returned
(the extract step drops what does not validate) or, if there never was one, the step fails.

Errors: 5xx, 429, timeouts and connection failures raise ``ProcessingError(retryable=True)``
(the engine retries the step with backoff); other 4xx and unusable responses raise
``ProcessingError(retryable=False)``.

The object holds only plain settings and opens its HTTP client inside ``extract``, so it
pickles into worker processes. ``transport`` exists for tests (``httpx.MockTransport``).
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import jsonschema
from jsonschema.validators import validator_for

from pagemill.domain.errors import ProcessingError
from pagemill.ports.extractor import StructuredExtractor

FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)
MAX_ERROR_CHARS = 300


class OpenAICompatibleExtractor(StructuredExtractor):
    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str,
        *,
        timeout_seconds: float = 120.0,
        connect_timeout_seconds: float = 10.0,
        max_retries: int = 2,
        temperature: float = 0.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url or not model:
            raise ValueError("an LLM extractor needs a base URL and a model")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.model = model
        self.timeout_seconds = timeout_seconds
        self.connect_timeout_seconds = connect_timeout_seconds
        self.max_retries = max_retries
        self.temperature = temperature
        self.transport = transport
        self.name = f"openai-compatible:{model}"

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatibleExtractor(base_url={self.base_url!r}, model={self.model!r})"

    def extract(self, text: str, schema: dict[str, Any], instructions: str) -> dict[str, Any]:
        messages: list[dict[str, str]] = [
            {"role": "system", "content": instructions},
            {"role": "user", "content": text},
        ]
        validator = validator_for(schema)(schema, format_checker=jsonschema.FormatChecker())
        last_object: dict[str, Any] | None = None
        problem = ""
        with self._client() as client:
            for _ in range(1 + max(0, self.max_retries)):
                content = self._complete(client, messages, schema)
                answer, problem = _parse(content)
                if answer is not None:
                    last_object = answer
                    errors = sorted(validator.iter_errors(answer), key=lambda e: list(e.path))
                    if not errors:
                        return answer
                    where = "/".join(str(p) for p in errors[0].absolute_path) or "the root"
                    problem = f"it does not match the schema at {where}: {errors[0].message}"
                messages = [
                    *messages,
                    {"role": "assistant", "content": content},
                    {
                        "role": "user",
                        "content": f"That answer is not usable: {problem}. Reply with one JSON "
                        "object that matches the schema, and nothing else.",
                    },
                ]
        if last_object is not None:
            return last_object
        raise ProcessingError(
            f"The LLM endpoint did not answer with a JSON object after "
            f"{1 + max(0, self.max_retries)} attempts ({problem})."
        )

    def _client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.api_key}"} if self.api_key else {},
            timeout=httpx.Timeout(self.timeout_seconds, connect=self.connect_timeout_seconds),
            transport=self.transport,
        )

    def _complete(
        self, client: httpx.Client, messages: list[dict[str, str]], schema: dict[str, Any]
    ) -> str:
        payload = {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "extraction", "schema": schema, "strict": False},
            },
        }
        try:
            response = client.post("/chat/completions", json=payload)
        except httpx.TimeoutException as error:
            raise ProcessingError(
                f"The LLM endpoint timed out ({type(error).__name__}).", retryable=True
            ) from error
        except httpx.TransportError as error:
            raise ProcessingError(
                f"The LLM endpoint could not be reached ({type(error).__name__}: {error}).",
                retryable=True,
            ) from error
        if response.status_code >= 500 or response.status_code == 429:
            raise ProcessingError(
                f"The LLM endpoint answered {response.status_code}: {_snippet(response)}",
                retryable=True,
            )
        if response.status_code >= 400:
            raise ProcessingError(
                f"The LLM endpoint refused the request ({response.status_code}): "
                f"{_snippet(response)}"
            )
        try:
            body = response.json()
            content = body["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise ProcessingError(
                f"The LLM endpoint's answer is not a chat completion: {_snippet(response)}"
            ) from error
        if not isinstance(content, str):
            raise ProcessingError("The LLM endpoint's answer has no text content.")
        return content


def configured_extractor(
    base_url: str | None,
    api_key: str | None,
    model: str | None,
    *,
    timeout_seconds: float = 120.0,
) -> OpenAICompatibleExtractor | None:
    """The extractor for ``PAGEMILL_LLM_BASE_URL``/``_API_KEY``/``_MODEL``, or ``None`` unless
    all three are set (then extraction stays offline)."""
    if not (base_url and api_key and model):
        return None
    return OpenAICompatibleExtractor(base_url, api_key, model, timeout_seconds=timeout_seconds)


def _parse(content: str) -> tuple[dict[str, Any] | None, str]:
    fenced = FENCE.match(content)
    try:
        answer = json.loads(fenced.group(1) if fenced else content)
    except json.JSONDecodeError as error:
        return None, f"it is not valid JSON ({error.msg} at position {error.pos})"
    if not isinstance(answer, dict):
        return None, "it is JSON but not an object"
    return answer, ""


def _snippet(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:MAX_ERROR_CHARS] + ("…" if len(text) > MAX_ERROR_CHARS else "")
