"""A real HTTP webhook receiver on a loopback port, in threads of this process: it records
every request it reads (headers, body, when) and answers as its `answer` says: a status
code, a redirect, or hanging until released."""

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.ports import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)
    # What the receiver answered (None: it never answered).
    status: int | None = None

    @property
    def id(self) -> str:
        return self.headers.get("X-Webhook-Id", "")

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b"ok"
    # Hold the request open, answering nothing, until release() (or the receiver stops).
    hang: bool = False


def ok(_request: Received) -> Answer:
    return Answer()


class Receiver:
    def __init__(self, answer: Callable[[Received], Answer] = ok, *, path: str = "/hook") -> None:
        self.answer = answer
        self.port = free_port()
        self.path = path
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.server.daemon_threads = True
        # Hanging handlers must not hold up stop().
        self.server.block_on_close = False
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def start(self) -> "Receiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def release(self) -> None:
        self.released.set()

    def __enter__(self) -> "Receiver":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def received(self) -> list[Received]:
        with self.lock:
            return list(self.requests)

    def delivered(self) -> list[Received]:
        """The requests answered with a 2xx."""
        return [r for r in self.received() if r.status is not None and 200 <= r.status < 300]

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = Received(self.path, dict(self.headers.items()), self.rfile.read(length))
                with receiver.lock:
                    receiver.requests.append(request)
                answer = receiver.answer(request)
                if answer.hang:
                    receiver.released.wait()
                    self.close_connection = True
                    return
                # Set before answering: the sender may record the outcome before this
                # thread runs again.
                request.status = answer.status
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers:
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    request.status = None

            def log_message(self, format, *args):
                pass

        return Handler
