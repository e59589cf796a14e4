"""One webhook request over HTTP(S), blocking (run it in a worker thread); no Django.

Redirects are not followed: a receiver that moved must be reconfigured, and following a
Location would send a signed body wherever a compromised receiver points. The whole attempt
(connect, send, status line, a short excerpt of the body) shares one deadline; `abort()`
from another thread ends it at once.
"""

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

# Of a refusal's body, what last_error keeps.
EXCERPT_BYTES = 300


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status: int | None
    error: str


class Attempt:
    """One POST; `run()` never raises, it says what happened."""

    def __init__(self, url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> None:
        self.url = url
        self.body = body
        self.headers = headers
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None
        self._aborted = threading.Event()
        self._lock = threading.Lock()

    def run(self) -> Outcome:
        deadline = time.monotonic() + self.timeout
        try:
            return self._post(deadline)
        except TimeoutError:
            return Outcome(False, None, f"timed out after {self.timeout:g} s")
        except ssl.SSLError as exc:
            return Outcome(False, None, f"TLS error: {exc}")
        except (OSError, http.client.HTTPException) as exc:
            if self._aborted.is_set():
                return Outcome(False, None, f"timed out after {self.timeout:g} s")
            return Outcome(False, None, f"connection failed: {type(exc).__name__}: {exc}")
        finally:
            self._close()

    def abort(self) -> None:
        """End the attempt from another thread (its deadline passed)."""
        self._aborted.set()
        self._close()

    def _post(self, deadline: float) -> Outcome:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return Outcome(False, None, f"not an http(s) URL: {self.url}")
        kind = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = kind(parts.hostname, parts.port, timeout=self.timeout)
        with self._lock:
            if self._aborted.is_set():
                raise TimeoutError
            self._connection = connection
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
        connection.connect()
        _remaining(connection, deadline)
        connection.request("POST", path, body=self.body, headers=self.headers)
        _remaining(connection, deadline)
        response = connection.getresponse()
        status = response.status
        if 200 <= status < 300:
            return Outcome(True, status, "")
        if 300 <= status < 400:
            location = response.getheader("Location") or "-"
            return Outcome(False, status, f"redirect not followed: {status} {location}")
        _remaining(connection, deadline)
        excerpt = response.read(EXCERPT_BYTES).decode("utf-8", "replace").strip()
        reason = f"HTTP {status} {response.reason}".strip()
        return Outcome(False, status, f"{reason}: {excerpt}" if excerpt else reason)

    def _close(self) -> None:
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is None:
            return
        sock = connection.sock
        if sock is not None:
            # shutdown, not only close: it wakes a recv blocked in the worker thread.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        connection.close()


def _remaining(connection: http.client.HTTPConnection, deadline: float) -> None:
    """Each step may take only what is left of the attempt's time."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    if connection.sock is not None:
        connection.sock.settimeout(left)
