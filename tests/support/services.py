"""Which service tiers the suite runs, and saying so when one is skipped.

A variable left unset (``PAGEMILL_TEST_POSTGRES_URL``, ``PAGEMILL_TEST_REDIS_URL``) is filled in
when the service answers on its default local address, so ``make test`` on a machine with
PostgreSQL and Redis running uses them. Set a variable to the empty string to turn its tier off.
Whatever was skipped for a missing service is listed at the end of the run, tier by tier, with
the line that enables it.
"""

from __future__ import annotations

import contextlib
import socket
from collections import Counter
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import psycopg

from tests.support.postgres import ENV_VAR as POSTGRES_ENV
from tests.support.redis import ENV_VAR as REDIS_ENV

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
PROBE_TIMEOUT_SECONDS = 0.5


@dataclass(frozen=True)
class Tier:
    name: str  # the prefix of the skip reason, as ``require_service`` writes it
    enable: str  # the one line that runs it


TIERS = (
    Tier(
        "PostgreSQL",
        f"{POSTGRES_ENV}=postgresql://USER@HOST:5432/DB make test  (USER may create databases)",
    ),
    Tier("Redis", f"{REDIS_ENV}=redis://HOST:6379/0 make test"),
    Tier(
        "PostgreSQL restart",
        "PAGEMILL_TEST_ALLOW_SERVICE_RESTARTS=1 make test  (stops and starts the local server)",
    ),
    Tier("pg_ctlcluster", "apt-get install postgresql  (the server and its cluster tools)"),
    Tier("Chromium", "apt-get install --no-install-recommends chromium  (the dashboard test)"),
    Tier("Playwright", "make test  (its .venv has the dev extra's Playwright)"),
)


def _tcp_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection(
            (parts.hostname, parts.port), timeout=PROBE_TIMEOUT_SECONDS
        ).close()
    except OSError:
        return False
    return True


def _postgres_answers(url: str) -> bool:
    if not _tcp_answers(url):
        return False
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def _redis_answers(url: str) -> bool:
    parts = urlsplit(url)
    with contextlib.suppress(OSError):
        address = (parts.hostname, parts.port)
        with socket.create_connection(address, timeout=PROBE_TIMEOUT_SECONDS) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    return False


def discover_local_services(environ: MutableMapping[str, str]) -> list[str]:
    """Point unset service variables at the default local addresses that answer; returns
    one line per service found this way."""
    found = []
    for name, url, answers in (
        (POSTGRES_ENV, DEFAULT_POSTGRES_URL, _postgres_answers),
        (REDIS_ENV, DEFAULT_REDIS_URL, _redis_answers),
    ):
        if name not in environ and answers(url):
            environ[name] = url
            found.append(f"{name}={url} (answered on the default local address)")
    return found


def skipped_tiers(reasons: Iterable[str]) -> list[tuple[Tier, int, str]]:
    """The service tiers among skip reasons: each tier, how many tests it skipped, and the
    first reason given."""
    counts: Counter[str] = Counter()
    first: dict[str, str] = {}
    for reason in reasons:
        text = reason.removeprefix("Skipped: ")
        tier = next((t for t in TIERS if text.startswith(f"{t.name}: ")), None)
        if tier is not None:
            counts[tier.name] += 1
            first.setdefault(tier.name, text.removeprefix(f"{tier.name}: "))
    return [(t, counts[t.name], first[t.name]) for t in TIERS if counts[t.name]]
