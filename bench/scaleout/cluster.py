"""A throw-away scale-out cluster on loopback: a fresh PostgreSQL database, a Redis database,
one API node and N worker nodes (``node.py``), a shared blob directory. Everything is removed
on exit, after an error or on Ctrl-C: processes stopped, database dropped, Redis keys deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg
import redis
from psycopg import sql

from harness import HOST, STARTUP_TIMEOUT_SECONDS, Server, _stop, _wait_ready, free_port
from pagemill.bootstrap import issue_key
from pagemill.settings import Settings

NODE_SCRIPT = Path(__file__).resolve().parent / "node.py"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"
WORKER_READY_TEXT = "pagemill worker serving"
LIVE_KEY = "pm:exec:{%s}"  # RedisLiveStore's default prefix and layout (plus ":events")


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(_libpq(url))
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database ``pagemill_bench_<random>`` next to ``admin_url``'s; dropped after."""
    if urlsplit(admin_url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the benchmark uses a loopback PostgreSQL only")
    name = f"pagemill_bench_{secrets.token_hex(5)}"
    admin = _libpq(admin_url)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_database(admin_url, name)
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@dataclass
class RedisSpace:
    """A Redis database that was empty when the run began; only this run's keys are deleted."""

    url: str  # redis://host:port/<db>
    db: int
    execution_ids: set[str] = field(default_factory=set)

    def cleanup(self) -> int:
        """Delete the live entries (hash and stream) of every execution this run created."""
        client = redis.Redis.from_url(self.url, socket_timeout=10)
        deleted = 0
        try:
            ids = sorted(self.execution_ids)
            for start in range(0, len(ids), 500):
                keys = []
                for execution_id in ids[start : start + 500]:
                    key = LIVE_KEY % execution_id
                    keys += [key, f"{key}:events"]
                deleted += int(client.delete(*keys))
        finally:
            client.close()
        return deleted


@contextlib.contextmanager
def redis_space(base_url: str) -> Iterator[RedisSpace]:
    """Pick an empty Redis database (1-15) so the live store's fixed ``pm:`` prefix cannot
    meet anyone else's keys; delete this run's keys afterwards."""
    parts = urlsplit(base_url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the benchmark uses a loopback Redis only")
    root = urlunsplit(parts._replace(path=""))
    chosen = None
    for db in secrets.SystemRandom().sample(range(1, 16), 15):
        client = redis.Redis.from_url(f"{root}/{db}", socket_timeout=5)
        try:
            if client.dbsize() == 0:
                chosen = db
                break
        finally:
            client.close()
    if chosen is None:
        raise RuntimeError("no empty Redis database (1-15) to run in")
    space = RedisSpace(f"{root}/{chosen}", chosen)
    try:
        yield space
    finally:
        space.cleanup()


@dataclass
class Node:
    role: str  # "api" or "worker"
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Cluster:
    database_url: str
    live_url: str
    root: Path
    env: dict[str, str]
    api_key: str
    nodes: list[Node] = field(default_factory=list)
    api: Server | None = None

    @property
    def workers(self) -> list[Node]:
        return [n for n in self.nodes if n.role == "worker" and n.process.poll() is None]

    def pagemill_pids(self) -> dict[str, int]:
        return {n.name: n.pid for n in self.nodes if n.process.poll() is None}

    extra_node_args: list[str] = field(default_factory=list)  # e.g. ["--count-sql"]

    def _spawn(self, role: str, name: str, args: list[str]) -> Node:
        data_dir = self.root / name
        log_path = self.root / f"{name}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    str(NODE_SCRIPT),
                    role,
                    *args,
                    *self.extra_node_args,
                    "--data-dir",
                    str(data_dir),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        node = Node(role, name, process, log_path)
        self.nodes.append(node)
        return node

    async def start_api(self) -> Server:
        port = free_port()
        node = self._spawn("api", "api", ["--port", str(port)])
        self.api = Server(
            node.process, f"http://{HOST}:{port}", self.api_key, self.root, node.log_path
        )
        await _wait_ready(self.api)
        return self.api

    async def start_worker(self, concurrency: int) -> Node:
        count = sum(1 for n in self.nodes if n.role == "worker")
        node = self._spawn("worker", f"worker{count + 1}", ["--concurrency", str(concurrency)])
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if node.process.poll() is not None:
                raise RuntimeError(f"{node.name} exited at start-up:\n{node.log_tail()}")
            if WORKER_READY_TEXT in node.log_path.read_text(errors="replace"):
                return node
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{node.name} was not ready in {STARTUP_TIMEOUT_SECONDS} s")

    async def stop_node(self, node: Node) -> None:
        await asyncio.to_thread(_stop, node.process)

    async def stop_all(self) -> None:
        # Workers first (they release their steps), then the API.
        for node in sorted(self.nodes, key=lambda n: n.role == "api"):
            await self.stop_node(node)

    def crashed(self) -> list[Node]:
        return [n for n in self.nodes if n.process.returncode not in (None, 0, -15)]


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAGEMILL_")}
    # The load generators hammer one key on purpose: the per-key rate limit is off here.
    env["PAGEMILL_RATE_LIMIT_PER_MINUTE"] = "0"
    env.update(extra)
    return env


def ledger_execution_ids(database_url: str) -> set[str]:
    with psycopg.connect(_libpq(database_url), autocommit=True, connect_timeout=5) as conn:
        return {str(r[0]) for r in conn.execute("SELECT execution_id FROM executions")}


@contextlib.asynccontextmanager
async def running_cluster(
    postgres_url: str,
    live_url: str,
    execution_ids: set[str] | None = None,
    *,
    processors: str = "bench",
    env: dict[str, str] | None = None,
) -> AsyncIterator[Cluster]:
    """A migrated fresh database, an API key, and no nodes yet; everything removed afterwards.

    Every node gets ``--processors processors`` and the extra ``PAGEMILL_*`` settings in
    ``env``. Before the database is dropped, the id of every execution it holds is added to
    ``execution_ids`` (so the caller can delete their live entries, even those whose submission
    was interrupted before the answer came back)."""
    with (
        postgres_database(postgres_url) as database_url,
        tempfile.TemporaryDirectory(prefix="pagemill-scaleout-") as tmp,
    ):
        root = Path(tmp)
        # Issuing the key migrates the ledger and applies Procrastinate's schema.
        settings = Settings(data_dir=root / "admin", database_url=database_url)
        issued = await issue_key(settings, "bench")
        node_env = _clean_env(
            **(env or {}),
            PAGEMILL_DATABASE_URL=database_url,
            PAGEMILL_LIVE_URL=live_url,
            PAGEMILL_BLOB_DIR=str(root / "shared-blobs"),  # the directory every node shares
            PAGEMILL_QUEUE="procrastinate",
            # The load hammers one key on purpose: a per-key rate limit would measure itself.
            PAGEMILL_RATE_LIMIT_PER_MINUTE="0",
        )
        cluster = Cluster(database_url, live_url, root, node_env, issued.secret)
        cluster.extra_node_args += ["--processors", processors]
        try:
            yield cluster
        finally:
            await cluster.stop_all()
            if execution_ids is not None:
                with contextlib.suppress(psycopg.Error):
                    execution_ids |= await asyncio.to_thread(ledger_execution_ids, database_url)


def postgres_backend_pids(database_url: str) -> set[int]:
    """PIDs of the server processes connected to the benchmark database (read on loopback)."""
    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(_libpq(database_url), autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return {int(r[0]) for r in rows}


def postgres_counters(database_url: str) -> dict[str, int]:
    """Transaction counters of the benchmark database (``pg_stat_database``, cumulative)."""
    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(_libpq(database_url), autocommit=True, connect_timeout=5) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = %s", (name,)
        ).fetchone()
    return {"commits": int(row[0]), "rollbacks": int(row[1])} if row else {}


def queue_rows(database_url: str) -> dict[str, int]:
    """Rows left in Procrastinate's job table, by status (finished jobs are deleted)."""
    with psycopg.connect(_libpq(database_url), autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status"
        ).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def service_pids(name: str) -> set[int]:
    """PIDs of local processes called ``name`` (``postgres``, ``redis-server``), for CPU reads."""
    found = set()
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] == name:
            found.add(proc.pid)
    return found
