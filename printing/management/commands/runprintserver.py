import asyncio
import logging
import signal
import time
from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from printing.delivery.dispatcher import get_dispatcher, stop_dispatcher
from printing.delivery.presence import server_processes_reap_host
from shop.keys import secret_key_refusal

logger = logging.getLogger("printing.server")


class Command(BaseCommand):
    help = (
        "Run the print server in one process: HTTP (admin, back office) on --http-port and the "
        "printer WebSocket on --ws-port (ws://HOST:WS_PORT/, and /ws/print/ on both ports)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--host", default=settings.PRINT_HOST, help="address to listen on (default %(default)s)"
        )
        parser.add_argument(
            "--http-port",
            type=int,
            default=settings.PRINT_HTTP_PORT,
            help="HTTP port (default %(default)s)",
        )
        parser.add_argument(
            "--ws-port",
            type=int,
            default=settings.PRINT_WS_PORT,
            help="printer WebSocket port (default %(default)s)",
        )
        parser.add_argument(
            "--tls-cert",
            default=settings.PRINT_TLS_CERT or None,
            help="PEM certificate (chain): serve https:// and wss:// on both ports",
        )
        parser.add_argument(
            "--tls-key", default=settings.PRINT_TLS_KEY or None, help="PEM private key"
        )

    def handle(self, *args, host: str, http_port: int, ws_port: int, **options):
        if (refusal := secret_key_refusal(settings.SECRET_KEY)) is not None:
            raise CommandError(refusal)
        # daphne.server installs Twisted's asyncio reactor; it has to come before anything
        # else imports the reactor.
        Server = _shop_server()
        for port in (http_port, ws_port):
            if not 0 < port < 65536:
                raise CommandError(f"port {port} is not between 1 and 65535")
        tls = _tls_files(options["tls_cert"], options["tls_key"])
        if tls:
            _https_only()
        # After the settings above: the middleware reads them when the application is built.
        from shop.asgi import application

        self.check_migrations()
        # Before listening: no socket of a crashed predecessor may look online.
        server_processes_reap_host()
        # The printer consumer recognises pages of this server by these ports (Origin check).
        settings.PRINT_HTTP_PORT, settings.PRINT_WS_PORT = http_port, ws_port
        ports = [http_port] if http_port == ws_port else [http_port, ws_port]
        endpoints = [_endpoint(host, port, tls) for port in ports]
        self._scheme = "https" if tls else "http"
        self._server = server = Server(
            application=application,
            endpoints=endpoints,
            # Our own handlers (see _ready): Twisted's are not woken reliably when the signal
            # lands on a worker thread, and daphne's shutdown trigger can raise.
            signal_handlers=False,
            # Printer sockets live for days; the heartbeat, not a wall-clock limit, ends them.
            websocket_timeout=-1,
            # Later than our JSON ping: a client that answered that one has reset daphne's
            # clock (any message does), so only clients that do not speak JSON ping get this.
            ping_interval=settings.PRINT_PING_INTERVAL + min(10, settings.PRINT_PING_INTERVAL),
            ping_timeout=settings.PRINT_PING_TIMEOUT,
            application_close_timeout=10,
            # Larger frames are closed with 1009 before they reach the application.
            websocket_max_message_size=settings.PRINT_MAX_MESSAGE_BYTES,
            websocket_max_frame_size=settings.PRINT_MAX_MESSAGE_BYTES,
            ready_callable=partial(self._ready, host, http_port, ws_port),
            server_name="shop-print",
        )
        server.run()

    def _ready(self, host: str, http_port: int, ws_port: int) -> None:
        # autobahn drops the TCP connection on an oversized frame by default; a close frame
        # with 1009 tells the client why.
        self._server.ws_factory.setProtocolOptions(failByDrop=False)
        self._server.ws_factory.protocol = _shop_websocket_protocol()
        loop = asyncio.get_event_loop()
        # Channels runs no ASGI lifespan: start the dispatcher (bells, sweeps, heartbeats) as
        # soon as the loop runs rather than on the first printer connection.
        loop.call_soon(lambda: loop.create_task(get_dispatcher()))
        self._stopping = False
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, partial(self._on_signal, loop, number))
        shown = "localhost" if host in ("0.0.0.0", "::") else host
        layer = "Redis" if settings.REDIS_URL else "in-memory (one process)"
        http, ws = ("https", "wss") if self._scheme == "https" else ("http", "ws")
        self.stdout.write(
            f"{settings.SHOP_NAME} print server listening on {host}\n"
            f"  admin:          {http}://{shown}:{http_port}/admin/\n"
            f"  printer socket: {ws}://{shown}:{ws_port}/  (and /ws/print/ on both ports)\n"
            f"  database:       {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"
            f"   channel layer: {layer}\n"
            "Press Ctrl-C to stop.",
        )
        self.stdout.flush()

    def _on_signal(self, loop: asyncio.AbstractEventLoop, number: int) -> None:
        from twisted.internet import reactor

        if self._stopping:
            # A second Ctrl-C: stop now.
            reactor.stop()
            return
        self._stopping = True
        logger.info("event=shutdown signal=%s", signal.Signals(number).name)
        loop.create_task(self._shutdown())

    async def _shutdown(self) -> None:
        from twisted.internet import reactor

        try:
            # Marks this process stopped and puts the jobs its sockets held back in the queue,
            # so another process (or the next start) offers them at once.
            async with asyncio.timeout(10):
                await stop_dispatcher()
                await self._close_applications()
        except Exception:
            logger.exception("clean shutdown failed; other processes will reap this one")
        finally:
            reactor.stop()

    async def _close_applications(self) -> None:
        # daphne's own shutdown trigger stops at the first connection whose application has
        # already finished (KeyError), leaving the rest suspended; Python 3.11 can crash
        # collecting those at exit. Cancel every one and wait for it here instead.
        running = [
            details["application_instance"]
            for details in list(self._server.connections.values())
            if details.get("application_instance") is not None
            and not details["application_instance"].done()
        ]
        for instance in running:
            instance.cancel()
        await asyncio.gather(*running, return_exceptions=True)


def _tls_files(cert: str | None, key: str | None) -> tuple[Path, Path] | None:
    if not cert and not key:
        return None
    if not (cert and key):
        raise CommandError("--tls-cert and --tls-key go together")
    files = (Path(cert).resolve(), Path(key).resolve())
    for path in files:
        if not path.is_file():
            raise CommandError(f"TLS file not found: {path}")
    return files


def _https_only() -> None:
    """--tls-cert on the command line does what PRINT_TLS_CERT does in shop/settings.py:
    cookies never travel in clear and browsers are told to stay on https."""
    settings.PRINT_HTTPS = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = settings.PRINT_HSTS_SECONDS


def _endpoint(host: str, port: int, tls: tuple[Path, Path] | None) -> str:
    """A Twisted endpoint description; colons in addresses and paths are escaped."""
    from twisted.internet.endpoints import quoteStringArgument

    interface = host.strip("[]").replace(":", r"\:")
    if tls is None:
        return f"tcp:port={port}:interface={interface}"
    cert, key = (quoteStringArgument(str(path)) for path in tls)
    return f"ssl:port={port}:interface={interface}:privateKey={key}:certKey={cert}"


# Close codes RFC 6455 lets a server send that autobahn's public sendClose() refuses
# (it allows applications only 1000 and 3000-4999).
SERVER_CLOSE_CODES = {1001, 1008, 1009, 1011, 1013}


def _shop_websocket_protocol():
    from daphne.ws_protocol import WebSocketProtocol

    class ShopWebSocketProtocol(WebSocketProtocol):
        """daphne's protocol, plus: close frames carry the application's code and reason
        (daphne drops the reason), and WebSocket pongs reach the consumer as
        `websocket.pong`, so a browser that never sends a message still counts as heard."""

        def handle_reply(self, message):
            if message.get("type") == "websocket.close" and self.state == self.STATE_OPEN:
                code = message.get("code") or 1000
                reason = (message.get("reason") or "").encode()[:120]
                if code in SERVER_CLOSE_CODES or code == 1000 or 3000 <= code <= 4999:
                    self.sendCloseFrame(code=code, reasonUtf8=reason or None)
                    return
            super().handle_reply(message)

        def onPong(self, payload):
            queue = getattr(self, "application_queue", None)
            if queue is not None and not self.muted:
                queue.put_nowait({"type": "websocket.pong"})

    return ShopWebSocketProtocol


def _shop_server():
    from daphne.server import Server

    class ShopServer(Server):
        """daphne's server, with an application checker that only looks at connections that
        closed or whose application finished. daphne's own walks every connection every
        second: with thousands of idle printer sockets that walk was a third of the CPU
        used at rest."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.to_check: set = set()

        def protocol_disconnected(self, protocol):
            super().protocol_disconnected(protocol)
            self.to_check.add(protocol)

        def create_application(self, protocol, scope):
            queue = super().create_application(protocol, scope)
            instance = self.connections.get(protocol, {}).get("application_instance")
            if instance is not None:
                instance.add_done_callback(lambda _: self.to_check.add(protocol))
            return queue

        def application_checker(self):
            from twisted.internet import reactor

            checking, self.to_check = self.to_check, set()
            for protocol in checking:
                details = self.connections.get(protocol)
                if details is not None and not self._check(protocol, details):
                    self.to_check.add(protocol)
            reactor.callLater(1, self.application_checker)

        def timeout_checker(self):
            """daphne's walk over every connection, every 5 s instead of every 2 s: the
            timeouts it enforces (a ping after 40 s of silence, a handshake after 20 s) need
            nothing finer, and at 5,000 idle sockets the walk was a tenth of the CPU at rest."""
            from twisted.internet import reactor

            for protocol in list(self.connections):
                protocol.check_timeouts()
            reactor.callLater(5, self.timeout_checker)

        def _check(self, protocol, details) -> bool:
            """daphne's checks for one connection; False while it waits for its application
            to close."""
            disconnected = details.get("disconnected")
            instance = details.get("application_instance")
            if instance is not None and not instance.done():
                if disconnected and time.time() - disconnected > self.application_close_timeout:
                    logger.warning("application of %r took too long to close; cancelled", protocol)
                    instance.cancel()
                return not disconnected
            if instance is not None:
                if not instance.cancelled() and (exception := instance.exception()) is not None:
                    if isinstance(exception, KeyboardInterrupt):
                        self.stop()
                    else:
                        logger.error(
                            "Exception inside application: %s", exception, exc_info=exception
                        )
                        if not disconnected:
                            protocol.handle_exception(exception)
                del details["application_instance"]
            if disconnected:
                del self.connections[protocol]
            return True

    return ShopServer
