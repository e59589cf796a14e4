"""The dispatcher's handle on one printer consumer: its book-keeping and how to reach it."""

import logging
import time
from typing import TYPE_CHECKING

from printing.delivery.decisions import SocketState

if TYPE_CHECKING:
    from channels.generic.websocket import AsyncWebsocketConsumer

    from printing.protocol import ProtocolError

logger = logging.getLogger("printing.delivery")


class PrinterSocket(SocketState):
    def __init__(
        self,
        consumer: "AsyncWebsocketConsumer",
        connection_id: int,
        client: str,
        *,
        address: str = "",
        printer_id: int | None = None,
        token_hash: str | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(
            connection_id,
            address=address,
            fixed_printer=printer_id is not None,
            token_hash=token_hash,
            user_id=user_id,
            last_heard=time.monotonic(),
        )
        self.consumer = consumer
        self.client = client

    async def send(self, frame: str) -> None:
        if self.open:
            await self.consumer.send(text_data=frame)

    async def refused(self, error: "ProtocolError") -> None:
        """A report the server refused: answered, and counted with the socket's malformed
        frames against PRINT_MAX_BAD_MESSAGES, by the consumer that counts them."""
        if self.open:
            await self.consumer.bad_message(error)

    async def close(self, code: int, reason: str) -> None:
        if self.open:
            logger.info(
                "connection=%s client=%s event=refuse code=%s reason=%s",
                self.connection_id,
                self.client,
                code,
                reason,
            )
            await self.consumer.close(code=code, reason=reason)
