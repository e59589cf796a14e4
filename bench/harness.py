"""What the benchmarks share: a fresh database, our server with the benchmarks' settings,
many printer sockets in this process, and percentiles. Processes, ports and HTTP calls come
from tests.support, as in the tests.

Benchmarks print numbers; they are not tests. `make bench` runs them all and writes the
table in docs/performance.md; `make test` runs each once at a tiny size so they do not rot.
Run one from the project's root: `python -m bench.latency --help`.
"""

import argparse
import asyncio
import hashlib
import io
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import websockets

from tests.support import ROOT
from tests.support.server import PrintServer
from tests.support.web import StaffSession

POSTGRES_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
API_KEY = "bench-" + secrets.token_hex(8)
STAFF_USER = "bench"
STAFF_PASSWORD = "bench-" + secrets.token_hex(8)
# The server refuses a short or published key; every process of one run shares this one.
SECRET_KEY = secrets.token_urlsafe(50)

# What every benchmark's orders hold: one drink.
MENU = [
    {
        "name": "珍珠奶茶",
        "size": "大杯",
        "temperature": "正常冰",
        "sugar": "正常糖",
        "quantity": 1,
        "unit_price": "25.00",
    }
]


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


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# The database and Django in this process


def _migrate(env: dict) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )


def _schema_digest() -> str:
    """Names the schema the migrations and requirements make, for a migrated template."""
    digest = hashlib.sha256((ROOT / "requirements.txt").read_bytes())
    for migration in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(str(migration.relative_to(ROOT)).encode() + migration.read_bytes())
    return digest.hexdigest()[:16]


def _sqlite_migrated(path: Path, env: dict) -> None:
    """A migrated SQLite database at `path`, copied from one migrated earlier with the same
    migrations and requirements: migrating takes about 4 s here, and make test starts a
    dozen benchmarks."""
    template = Path(tempfile.gettempdir()) / f"print-bench-{_schema_digest()}.sqlite3"
    if not template.exists():
        _migrate(env)
        partial = template.with_suffix(f".{os.getpid()}.partial")
        _sqlite_copy(path, partial)
        os.replace(partial, template)  # whole or absent, with benchmarks running side by side
    else:
        _sqlite_copy(template, path)


def _sqlite_copy(source: Path, target: Path) -> None:
    # The backup API copies a consistent database, whatever its write-ahead log holds.
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _postgres_migrated(database: str, env_for) -> None:
    """Create `database` migrated: a copy of a template database migrated earlier with the
    same migrations and requirements (migrating takes about 8 s on PostgreSQL here, a copy
    under one). The template is built under a temporary name and renamed, so a benchmark
    running beside this one sees it whole or not at all; older templates are dropped."""
    import psycopg

    template = f"bench_template_{_schema_digest()}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
        if exists.fetchone() is None:
            partial = f"bench_partial_{secrets.token_hex(4)}"
            conn.execute(f"CREATE DATABASE {partial}")
            try:
                _migrate(env_for(partial))
                conn.execute(f"ALTER DATABASE {partial} RENAME TO {template}")
            except psycopg.errors.DuplicateDatabase:
                pass  # another benchmark made it first
            finally:
                conn.execute(f"DROP DATABASE IF EXISTS {partial} WITH (FORCE)")
            stale = conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_template\\_%%'"
                " AND datname <> %s",
                [template],
            ).fetchall()
            for (name,) in stale:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {database} TEMPLATE {template}")


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
            _sqlite_migrated(Path(folder) / "bench.sqlite3", backend.env())
        elif name == "redis-pg":
            database = "bench_" + secrets.token_hex(4)
            backend.redis_url = REDIS_URL
            backend._cleanup.append(database)
            _postgres_migrated(database, backend.env_for_database)
            backend.database_url = backend.postgres_url(database)
        else:
            raise SystemExit(f"unknown backend {name!r}: sqlite or redis-pg")
        os.environ.update(backend.env())
        # The benchmarks set up data with the ORM from inside their event loop; it is setup,
        # not the thing measured. Never passed to a server (see RunningServer).
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.core.management import call_command

        # The order board's confirm button needs a cashier's permissions.
        call_command("staffgroups", stdout=io.StringIO())
        staff = get_user_model().objects.create_user(
            STAFF_USER, password=STAFF_PASSWORD, is_staff=True
        )
        staff.groups.add(Group.objects.get(name="cashier"))
        return backend

    @staticmethod
    def postgres_url(database: str) -> str:
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"

    def env_for_database(self, database: str) -> dict[str, str]:
        return {**self.env(), "DATABASE_URL": self.postgres_url(database)}

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

    def __enter__(self) -> "Backend":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

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


# Our server


def log_dir() -> Path:
    """A folder of its own for a server's log, kept after the run."""
    return Path(tempfile.mkdtemp(prefix="bench-server-"))


def start_print_server(backend: Backend, **env: str) -> PrintServer:
    """runprintserver on free ports, with no connection limits and quiet logs."""
    settings = {
        **backend.env(),
        "PRINT_API_KEYS": API_KEY,
        "PRINT_MAX_CONNECTIONS": "100000",
        "PRINT_MAX_CONNECTIONS_PER_ADDRESS": "100000",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    return PrintServer(log_dir(), **settings).start(timeout=60)


def staff_session(base: str) -> StaffSession:
    """The benchmark's staff member, logged in (the order board's confirm button)."""
    return StaffSession(base, STAFF_USER, STAFF_PASSWORD, timeout=30)


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
