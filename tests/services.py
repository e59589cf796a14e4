"""Real Redis and PostgreSQL for the tests: reachability checks that skip on a laptop without
them and fail under CI=true, a private redis-server that a test may kill and restart, and a
TCP proxy that cuts a server off from PostgreSQL and lets it back."""

import contextlib
import os
import shutil
import socket
import threading
import uuid
from typing import Self

import pytest

from tests.support.ports import free_port
from tests.support.server import RunningServer

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


def unavailable(reason: str, *, module: bool = False) -> None:
    """Skip on a developer's machine that lacks a service or package; fail where CI promises
    it (CI=true: make test installs or starts it)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: it must be there)")
    pytest.skip(reason, allow_module_level=module)


def require_redis() -> str:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        client.ping()
        client.close()
    except Exception as exc:
        unavailable(f"Redis at {REDIS_URL} is not reachable ({exc})")
    return REDIS_URL


def require_postgres() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        unavailable("needs PostgreSQL: run with DATABASE_URL=postgres://... (make test does)")


def channel_prefix() -> str:
    """A channel-layer prefix of its own, so tests sharing a Redis never hear each other."""
    return f"test{uuid.uuid4().hex[:10]}"


class RedisServer(RunningServer):
    """A redis-server of the test's own, on a free port, to kill and start again at will."""

    def __init__(self, tmp_path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server is not installed")
        self.port = free_port()
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(tmp_path)]
        super().__init__(command, ports=(self.port,), log_path=tmp_path / "redis.log")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, timeout: float = 10) -> Self:
        return super().start(timeout=timeout)


class TcpProxy:
    """Forwards 127.0.0.1:port to a target; cut() drops every connection and refuses new
    ones until restore(), like a database host dropping off the network."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            _shut(listener)
            listener.close()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                _shut(sock)
                sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        _shut(source)
        _shut(sink)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
