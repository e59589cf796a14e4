import logging
import time

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import DatabaseError

from printing import access, protocol, services
from printing.delivery.dispatcher import get_dispatcher
from printing.delivery.orm import db

logger = logging.getLogger("printing.connections")

# WebSocket close codes (RFC 6455).
CLOSE_POLICY_VIOLATION = 1008
CLOSE_MESSAGE_TOO_BIG = 1009

# Addresses that keep failing the handshake; this process's memory (see access.py).
failed_handshakes = access.HandshakeFailures()


class PrinterConsumer(AsyncWebsocketConsumer):
    """A printer client on the seed's protocol: welcome, printer_info, new_order, print_status."""

    # No channel of its own: the process's dispatcher writes to the socket directly, so a
    # channel per socket would only cost a subscription and a waiting task each.
    channel_layer_alias = None
    socket = None
    # The staff member whose ticket let this socket in.
    ticket_user_id = None

    async def connect(self) -> None:
        dispatcher = await get_dispatcher()
        client = self.scope.get("client") or ["", 0]
        ip = access.client_ip(self.scope, settings.PRINT_TRUSTED_PROXIES)
        address = str(ip) if ip else ""
        if failed_handshakes.blocked(address, time.monotonic()):
            # No lookup and no log line: the back-off was logged when it began.
            await self.accept()
            await self.close(code=access.TRY_AGAIN_LATER, reason="too many failed handshakes")
            return
        full = dispatcher.slot_reserve(address)
        if full:
            verdict, printer_id, token_hash = (
                access.refuse(access.TRY_AGAIN_LATER, full),
                None,
                None,
            )
        else:
            try:
                verdict, printer_id, token_hash = await self.admit(ip)
            except BaseException:
                # The database was down (or the client left): the slot is given back, or
                # the address would count one phantom socket more for the process's life.
                dispatcher.slot_release(address)
                raise
            if not verdict.allowed:
                dispatcher.slot_release(address)
        by = "token" if token_hash else ("ticket" if printer_id else "network")
        # Accept, then close with a code and reason a client can show: refusing the
        # handshake would only give it an HTTP 403.
        await self.accept()
        if not verdict.allowed:
            logger.info(
                "client=%s:%s address=%s path=%s event=refuse code=%s reason=%s",
                client[0],
                client[1],
                address,
                self.scope.get("path"),
                verdict.code,
                verdict.reason,
            )
            if not full and failed_handshakes.failed(address, time.monotonic()):
                logger.warning(
                    "address=%s event=handshake_backoff failures=%s seconds=%s",
                    address,
                    failed_handshakes.allowed,
                    failed_handshakes.backoff,
                )
            await self.close(code=verdict.code, reason=verdict.reason)
            return
        await self.send_message(
            protocol.welcome(shop_name=settings.SHOP_NAME, instance=dispatcher.instance)
        )
        self.socket = await dispatcher.attach(
            self,
            client=f"{client[0]}:{client[1]}",
            path=self.scope.get("path", ""),
            address=address,
            printer_id=printer_id,
            token_hash=token_hash,
            user_id=self.ticket_user_id,
            by=by,
        )
        self.bad_messages: list[float] = []

    async def admit(self, ip) -> tuple[access.Verdict, int | None, str | None]:
        """Let a printer in by its token, or a tokenless client from a trusted network."""
        ports = {settings.PRINT_HTTP_PORT, settings.PRINT_WS_PORT}
        if self.scope.get("server"):
            ports.add(self.scope["server"][1])
        own_hosts = access.own_host_names(settings.ALLOWED_HOSTS)
        if not access.origin_allowed(self.scope, settings.PRINT_ALLOWED_ORIGINS, ports, own_hosts):
            return access.refuse(access.FORBIDDEN, "origin not allowed"), None, None
        ticket = access.presented_ticket(self.scope)
        if ticket is not None:
            admitted = await db(services.printer_by_ticket)(ticket=ticket)
            if admitted is None:
                return access.refuse(access.UNAUTHORIZED, "invalid or expired ticket"), None, None
            printer, self.ticket_user_id = admitted
            if not printer.is_active:
                return access.refuse(access.FORBIDDEN, "printer disabled"), None, None
            return access.ALLOW, printer.pk, None
        token = access.presented_token(self.scope)
        if token is not None:
            printer = await db(services.printer_by_token)(token=token)
            if printer is None:
                return access.refuse(access.UNAUTHORIZED, "invalid or revoked token"), None, None
            if not printer.is_active:
                return access.refuse(access.FORBIDDEN, "printer disabled"), None, None
            return access.ALLOW, printer.pk, printer.token_hash
        if access.in_networks(ip, settings.PRINT_TRUSTED_NETWORKS):
            return access.ALLOW, None, None
        return access.refuse(access.UNAUTHORIZED, "token required"), None, None

    async def disconnect(self, code: int) -> None:
        if self.socket is not None:
            dispatcher = await get_dispatcher()
            await dispatcher.detach(self.socket, code)

    async def dispatch(self, message: dict) -> None:
        # Channels runs close_old_connections in a thread for every frame; this consumer
        # does no ORM work on its own (the dispatcher's calls manage their connections), and
        # with thousands of sockets answering pings that hop is most of the CPU at rest.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_pong(self, message: dict) -> None:
        """A WebSocket-level pong (see runprintserver): the client is alive."""
        if self.socket is not None:
            self.socket.heard(time.monotonic())

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.socket is None:
            return
        self.socket.heard(time.monotonic())
        if _too_big(text_data, bytes_data):
            # daphne enforces the same limit on the wire; this covers any other server.
            await self.refuse(CLOSE_MESSAGE_TOO_BIG, "message_too_big")
            return
        try:
            message = protocol.parse_client_message(text_data, bytes_data)
            await self.handle(message)
        except protocol.ProtocolError as exc:
            await self.bad_message(exc)
        except DatabaseError:
            # The socket stays; the client may say it again (an unreported job is offered
            # again anyway once the database is back).
            logger.warning("connection=%s event=database_unavailable", self.socket.connection_id)
            await self.send_message(protocol.server_unavailable())

    async def handle(self, message: protocol.ClientMessage) -> None:
        match message:
            case protocol.Ping():
                dispatcher = await get_dispatcher()
                await dispatcher.reports_settled(self.socket)
                await self.send_message(protocol.pong())
            case protocol.PrinterInfo():
                dispatcher = await get_dispatcher()
                identity = await dispatcher.identify(self.socket, message)
                printer, bound = identity.printer, None
                if printer is not None:
                    bound = {
                        "id": printer.pk,
                        "name": printer.name,
                        "paper_width": printer.paper_width,
                    }
                await self.send_message(
                    protocol.printer_info_ack(
                        reported_name=message.name,
                        printer=bound,
                        token_required=identity.token_required,
                    )
                )
            case protocol.PrintStatus():
                dispatcher = await get_dispatcher()
                dispatcher.status_report(self.socket, message)
            case protocol.Pong():
                pass

    async def bad_message(self, error: protocol.ProtocolError) -> None:
        """Answer with a clear error; a client that keeps sending garbage is closed."""
        now = time.monotonic()
        self.bad_messages = [t for t in self.bad_messages if now - t < 60] + [now]
        logger.info(
            "connection=%s event=bad_message code=%s count=%s",
            self.socket.connection_id,
            error.code,
            len(self.bad_messages),
        )
        await self.send_message(error.as_message())
        if len(self.bad_messages) > settings.PRINT_MAX_BAD_MESSAGES:
            await self.refuse(CLOSE_POLICY_VIOLATION, "too_many_bad_messages")

    async def refuse(self, code: int, reason: str) -> None:
        await self.socket.close(code, reason)

    async def send_message(self, message: dict) -> None:
        await self.send(text_data=protocol.dumps(message))


def _too_big(text: str | None, data: bytes | None) -> bool:
    limit = settings.PRINT_MAX_MESSAGE_BYTES
    if data is not None:
        return len(data) > limit
    # Four bytes per character at most: most frames skip the encoding.
    if text is None or len(text) * 4 <= limit:
        return False
    return len(text.encode("utf-8", "surrogatepass")) > limit


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Any other WebSocket path: refuse the handshake instead of raising in the router."""

    channel_layer_alias = None

    async def connect(self) -> None:
        client = self.scope.get("client") or ["", 0]
        logger.info(
            "client=%s:%s path=%s event=refuse reason=unknown_path",
            client[0],
            client[1],
            self.scope.get("path"),
        )
        await self.close()
