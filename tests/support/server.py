"""Servers as real subprocesses: `manage.py runprintserver`, or any command that listens."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Self

from tests.support import ROOT
from tests.support.ports import free_port, wait_for_port


class RunningServer:
    """A command run from the project's root, its output appended to `log_path`; started
    again after stop() or kill(), it comes back on the same ports."""

    def __init__(
        self, command: list[str], *, ports: tuple[int, ...], log_path: Path, **env: str
    ) -> None:
        self.command = command
        self.ports = ports
        self.log_path = log_path
        # The benchmarks allow Django's sync ORM calls in their own event loop for setup;
        # a server must keep Django's guard.
        inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
        self.env = {**inherited, "PYTHONUNBUFFERED": "1", **env}
        self.process: subprocess.Popen | None = None

    def start(self, *, timeout: float = 30) -> Self:
        """Returns once every port accepts connections."""
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        for port in self.ports:
            wait_for_port(port, process=self.process, timeout=timeout)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def kill(self) -> None:
        """kill -9: no shutdown handler runs."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self, *, timeout: float = 20) -> None:
        """SIGTERM, and kill -9 if it has not exited after `timeout` seconds."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


class PrintServer(RunningServer):
    """`manage.py runprintserver` on loopback ports (free ones unless given), logging to
    `server-<ws port>.log` in `log_dir`; `env` is the server's settings."""

    def __init__(
        self,
        log_dir: Path,
        *,
        http_port: int | None = None,
        ws_port: int | None = None,
        tls: tuple[Path, Path] | None = None,
        **env: str,
    ) -> None:
        self.http_port = http_port or free_port()
        self.ws_port = ws_port or free_port()
        command = [
            sys.executable,
            "manage.py",
            "runprintserver",
            "--host",
            "127.0.0.1",
            "--http-port",
            str(self.http_port),
            "--ws-port",
            str(self.ws_port),
        ]
        if tls:
            command += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
        super().__init__(
            command,
            ports=(self.ws_port, self.http_port),
            log_path=log_dir / f"server-{self.ws_port}.log",
            **env,
        )

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"
