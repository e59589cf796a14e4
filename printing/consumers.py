import logging

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from printing import protocol
from printing.delivery import db, get_dispatcher, job_status_report

logger = logging.getLogger("printing.connections")


class PrinterConsumer(AsyncWebsocketConsumer):
    """A printer client on the seed's protocol: welcome, printer_info, new_order, print_status."""

    socket = None

    async def connect(self) -> None:
        dispatcher = await get_dispatcher()
        await self.accept()
        await self.send_message(protocol.welcome(shop_name=settings.SHOP_NAME))
        client = self.scope.get("client") or ["", 0]
        self.socket = await dispatcher.attach(
            self, client=f"{client[0]}:{client[1]}", path=self.scope.get("path", "")
        )

    async def disconnect(self, code: int) -> None:
        if self.socket is not None:
            dispatcher = await get_dispatcher()
            await dispatcher.detach(self.socket, code)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        self.socket.heard()
        try:
            message = protocol.parse_client_message(text_data, bytes_data)
            await self.handle(message)
        except protocol.ProtocolError as exc:
            logger.info(
                "connection=%s event=bad_message code=%s", self.socket.connection_id, exc.code
            )
            await self.send_message(exc.as_message())

    async def handle(self, message: protocol.ClientMessage) -> None:
        match message:
            case protocol.Ping():
                await self.send_message(protocol.pong())
            case protocol.PrinterInfo():
                dispatcher = await get_dispatcher()
                printer = await dispatcher.identify(self.socket, message)
                await self.send_message(_printer_info_ack(message, printer))
            case protocol.PrintStatus():
                await db(job_status_report)(
                    job_id=message.job_id,
                    status=message.status,
                    message=message.message,
                    connection_id=self.socket.connection_id,
                    printer_id=self.socket.printer_id,
                )
            case protocol.Pong():
                pass

    async def send_message(self, message: dict) -> None:
        await self.send(text_data=protocol.dumps(message))


def _printer_info_ack(info: protocol.PrinterInfo, printer) -> dict:
    if printer is None:
        return protocol.printer_info_ack(
            printer=None,
            message=(
                f"打印机信息已收到；没有名为“{info.name}”的已启用打印机，只会收到不指定打印机的任务"
                f" / no active printer is named {info.name!r}: this socket receives only jobs "
                "addressed to no printer"
            ),
        )
    return protocol.printer_info_ack(
        printer={"id": printer.pk, "name": printer.name, "paper_width": printer.paper_width},
        message=f"打印机信息已收到，已绑定到“{printer.name}” / bound to printer {printer.name!r}",
    )


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Any other WebSocket path: refuse the handshake instead of raising in the router."""

    async def connect(self) -> None:
        await self.close()
