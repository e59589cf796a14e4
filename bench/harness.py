"""What the benchmarks share: a fresh database, a real server process (ours or the bare
websockets floor), many printer sockets in this process, and percentiles.

Benchmarks print numbers; they are not tests. `make bench` runs them all and writes the
table in docs/performance.md; `make test` runs each once at a tiny size so they do not rot.
"""

import argparse
import asyncio
import io
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import websockets

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

POSTGRES_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
API_KEY = "bench-" + secrets.token_hex(8)
STAFF_PASSWORD = "bench-" + secrets.token_hex(8)
# The server refuses a short or published key; every process of one run shares this one.
SECRET_KEY = secrets.token_urlsafe(50)


def arguments(doc: str, *, backend: bool = True) -> argparse.ArgumentParser:
    """A benchmark's command line: its docstring as --help, --backend and --json."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    if backend:
        parser.add_argument("--backend", default="sqlite", choices=["sqlite", "redis-pg"])
    parser.add_argument("--json", action="store_true", help="one JSON line (for make bench)")
    return parser


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    """p50, p99 and max in milliseconds."""
    ms = [v * 1000 for v in values]
    return {
        "p50": percentile(ms, 50),
        "p99": percentile(ms, 99),
        "max": max(ms, default=float("nan")),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# The database and Django in this process


@dataclass
class Backend:
    """`sqlite` (the embedded default) or `redis-pg` (PostgreSQL and Redis)."""

    name: str
    database_url: str = ""
    redis_url: str = ""
    prefix: str = field(default_factory=lambda: "bench" + secrets.token_hex(4))
    _cleanup: list = field(default_factory=list)

    @classmethod
    def create(cls, name: str) -> "Backend":
        backend = cls(name)
        if name == "sqlite":
            folder = tempfile.mkdtemp(prefix="bench-")
            backend.database_url = f"sqlite:///{folder}/bench.sqlite3"
        elif name == "redis-pg":
            import psycopg

            database = "bench_" + secrets.token_hex(4)
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {database}")
            backend.database_url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"
            backend.redis_url = REDIS_URL
            backend._cleanup.append(database)
        else:
            raise SystemExit(f"unknown backend {name!r}: sqlite or redis-pg")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env={**os.environ, **backend.env()},
            check=True,
        )
        os.environ.update(backend.env())
        # The benchmarks set up data with the ORM from inside their event loop; it is setup,
        # not the thing measured. Never passed to the server (see ServerProcess).
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.core.management import call_command

        # The order board's confirm button needs a cashier's permissions.
        call_command("staffgroups", stdout=io.StringIO())
        staff = get_user_model().objects.create_user(
            "bench", password=STAFF_PASSWORD, is_staff=True
        )
        staff.groups.add(Group.objects.get(name="cashier"))
        return backend

    def env(self) -> dict[str, str]:
        env = {
            "DATABASE_URL": self.database_url,
            "DJANGO_SECRET_KEY": SECRET_KEY,
            "DJANGO_SETTINGS_MODULE": "shop.settings",
            "LOG_LEVEL": "WARNING",
            "PRINT_CHANNEL_PREFIX": self.prefix,
        }
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env

    def close(self) -> None:
        from django.db import connections

        connections.close_all()
        for database in self._cleanup:
            import psycopg

            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def make_printers(count: int, **fields) -> list[tuple[str, str]]:
    """`count` printers with tokens: [(name, token)]."""
    from printing.access import token_hash, token_new
    from printing.models import PrinterConfig

    printers = [(f"P{i:05d}", token_new()) for i in range(count)]
    PrinterConfig.objects.bulk_create(
        [
            PrinterConfig(
                name=name, token_hash=token_hash(token), auto_print_orders=False, **fields
            )
            for name, token in printers
        ],
        batch_size=500,
    )
    return printers


# Server processes


class ServerProcess:
    def __init__(self, command: list[str], env: dict[str, str], ports: tuple[int, ...]) -> None:
        log = tempfile.NamedTemporaryFile  # open for as long as the server runs
        self.log = log("w+", prefix="bench-server-", suffix=".log", delete=False)
        inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
        self.process = subprocess.Popen(
            command, cwd=ROOT, env={**inherited, **env}, stdout=self.log, stderr=subprocess.STDOUT
        )
        for port in ports:
            wait_for_port(port, self.process)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_print_server(backend: Backend, **env: str) -> tuple[ServerProcess, str, str]:
    """runprintserver on free ports; returns (process, http base URL, ws URL)."""
    http_port, ws_port = free_port(), free_port()
    server = ServerProcess(
        [
            sys.executable,
            "manage.py",
            "runprintserver",
            "--host",
            "127.0.0.1",
            "--http-port",
            str(http_port),
            "--ws-port",
            str(ws_port),
        ],
        {
            **backend.env(),
            "PRINT_API_KEYS": API_KEY,
            "PRINT_MAX_CONNECTIONS": "100000",
            "PRINT_MAX_CONNECTIONS_PER_ADDRESS": "100000",
            "LOG_LEVEL": "WARNING",
            **env,
        },
        (http_port, ws_port),
    )
    return server, f"http://127.0.0.1:{http_port}", f"ws://127.0.0.1:{ws_port}/"


class StaffSession:
    """A logged-in back-office session over HTTP (the order board's confirm button)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.opener.open(f"{base}/admin/login/", timeout=10).read()
        self.post(
            "/admin/login/", {"username": "bench", "password": STAFF_PASSWORD, "next": "/admin/"}
        )

    def post(self, path: str, fields: dict | None = None) -> bytes:
        token = next(c.value for c in self.jar if c.name == "csrftoken")
        request = urllib.request.Request(
            f"{self.base}{path}",
            data=urlencode({**(fields or {}), "csrfmiddlewaretoken": token}).encode(),
            headers={"X-CSRFToken": token},
        )
        with self.opener.open(request, timeout=30) as response:
            return response.read()


def api_job(base: str, printer: str, content: str) -> int:
    """A job for one printer through the direct job service (POST /api/jobs)."""
    request = urllib.request.Request(
        f"{base}/api/jobs",
        data=json.dumps({"printer": printer, "content": content}).encode(),
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["job_id"]


# Printer sockets in this process


class Sockets:
    """Many printer sockets: each answers pings, records when each job arrives, and (with
    `ack`) reports it completed, deduping on job_id as a real client must."""

    def __init__(self, url: str, count: int, *, tokens: list[str] | None = None, ack: bool = False):
        self.url, self.count, self.tokens, self.ack = url, count, tokens, ack
        self.arrivals: dict[int, list[float]] = {}
        self.seen: list[set[int]] = [set() for _ in range(count)]
        self.duplicates = 0
        self.tasks: list[asyncio.Task] = []
        self.ready = 0
        self._ready_event = asyncio.Event()

    async def open(self, parallel: int = 200) -> None:
        gate = asyncio.Semaphore(parallel)
        for index in range(self.count):
            self.tasks.append(asyncio.create_task(self._socket(index, gate)))
        await asyncio.wait_for(self._ready_event.wait(), timeout=300)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _socket(self, index: int, gate: asyncio.Semaphore) -> None:
        url = self.url
        if self.tokens:
            url = f"{url}?token={self.tokens[index]}"
        async with gate:
            ws = await websockets.connect(url, open_timeout=60, ping_interval=None, max_queue=None)
            await ws.recv()  # welcome
        self.ready += 1
        if self.ready == self.count:
            self._ready_event.set()
        seen = self.seen[index]
        async with ws:
            async for frame in ws:
                now = time.time()
                message = json.loads(frame)
                kind = message.get("type")
                if kind in ("new_order", "print_command"):
                    job = message.get("order") or message.get("data")
                    job_id = job["job_id"]
                    if job_id in seen:
                        self.duplicates += 1
                    else:
                        seen.add(job_id)
                        self.arrivals.setdefault(job_id, []).append(now)
                    if self.ack:
                        await ws.send(
                            json.dumps(
                                {"type": "print_status", "job_id": job_id, "status": "completed"}
                            )
                        )
                elif kind == "ping":
                    await ws.send('{"type":"pong"}')

    async def wait_for(self, job_ids, per_job: int, within: float = 60) -> None:
        deadline = time.monotonic() + within
        while any(len(self.arrivals.get(j, ())) < per_job for j in job_ids):
            if time.monotonic() > deadline:
                missing = [j for j in job_ids if len(self.arrivals.get(j, ())) < per_job]
                raise TimeoutError(f"{len(missing)} jobs not delivered to all sockets")
            await asyncio.sleep(0.01)


def report(name: str, **figures) -> dict:
    """One result line on stdout (and as JSON with --json, for make bench)."""
    result = {"bench": name, **figures}
    if "--json" in sys.argv:
        print(json.dumps(result))
    else:
        print(
            name,
            " ".join(
                f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()
            ),
        )
    sys.stdout.flush()
    return result
