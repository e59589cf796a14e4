import asyncio
from functools import partial

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


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

    def handle(self, *args, host: str, http_port: int, ws_port: int, **options):
        # daphne.server installs Twisted's asyncio reactor; it has to come before anything
        # else imports the reactor.
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server

        from shop.asgi import application

        for port in (http_port, ws_port):
            if not 0 < port < 65536:
                raise CommandError(f"port {port} is not between 1 and 65535")
        self.check_migrations()
        ports = [http_port] if http_port == ws_port else [http_port, ws_port]
        endpoints = [
            endpoint
            for port in ports
            for endpoint in build_endpoint_description_strings(host=host, port=port)
        ]
        server = Server(
            application=application,
            endpoints=endpoints,
            signal_handlers=True,
            # Printer sockets live for days; the heartbeat, not a wall-clock limit, ends them.
            websocket_timeout=-1,
            ping_interval=settings.PRINT_PING_INTERVAL,
            ping_timeout=settings.PRINT_PING_TIMEOUT,
            application_close_timeout=10,
            ready_callable=partial(self._ready, host, http_port, ws_port),
            server_name="shop-print",
        )
        server.run()

    def _ready(self, host: str, http_port: int, ws_port: int) -> None:
        from twisted.internet import defer, reactor

        from printing.delivery import get_dispatcher, stop_dispatcher

        loop = asyncio.get_event_loop()
        # Channels runs no ASGI lifespan: start the dispatcher (bells, sweeps, heartbeats) as
        # soon as the loop runs rather than on the first printer connection.
        loop.call_soon(lambda: loop.create_task(get_dispatcher()))
        reactor.addSystemEventTrigger(
            "before",
            "shutdown",
            lambda: defer.Deferred.fromFuture(loop.create_task(stop_dispatcher())),
        )
        shown = "localhost" if host in ("0.0.0.0", "::") else host
        layer = "Redis" if settings.REDIS_URL else "in-memory (one process)"
        self.stdout.write(
            f"{settings.SHOP_NAME} print server listening on {host}\n"
            f"  admin:          http://{shown}:{http_port}/admin/\n"
            f"  printer socket: ws://{shown}:{ws_port}/  (and /ws/print/ on both ports)\n"
            f"  database:       {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}"
            f"   channel layer: {layer}\n"
            "Press Ctrl-C to stop.",
        )
        self.stdout.flush()
