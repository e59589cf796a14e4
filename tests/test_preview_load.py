"""Previews are drawn off the event loop: ten at once leave the printer sockets answering."""

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from printing import protocol
from printing.models import PrintJob
from tests.helpers import confirmed_order, create_printer, next_message, printer_client
from tests.support.web import StaffSession

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "preview-load-" + "x" * 20


@database_sync_to_async
def boss() -> None:
    get_user_model().objects.create_superuser("boss", password=PASSWORD)


@database_sync_to_async
def job_of(order) -> int:
    return PrintJob.objects.get(order=order).pk


async def test_ten_previews_at_once_leave_the_printer_sockets_answering(print_server):
    await create_printer("收银台打印机")
    await boss()
    server = print_server()
    job_id = await job_of(await confirmed_order())
    ws = await printer_client(server.ws_url, "收银台打印机")
    await next_message(ws, "new_order")
    session = await asyncio.to_thread(StaffSession, server.http_url, "boss", PASSWORD)

    def preview(_: int) -> tuple[int, bytes]:
        url = f"{server.http_url}/admin/print/jobs/{job_id}/preview.png"
        with session.opener.open(url, timeout=60) as response:
            return response.status, response.read()

    def ten_at_once() -> list[tuple[int, bytes]]:
        with ThreadPoolExecutor(10) as pool:
            return list(pool.map(preview, range(10)))

    drawing = asyncio.create_task(asyncio.to_thread(ten_at_once))
    answered_while_drawing = 0
    while not drawing.done():
        sent = time.monotonic()
        await ws.send(json.dumps(protocol.ping()))
        await next_message(ws, "pong", within=10)
        answered_while_drawing += not drawing.done()
        # Paced, not a busy loop: the question is whether the socket answers at all.
        await asyncio.sleep(max(0.0, 0.02 - (time.monotonic() - sent)))
    results = await drawing
    assert [status for status, _ in results] == [200] * 10
    assert all(body.startswith(b"\x89PNG") for _, body in results)
    # The socket kept answering while the pictures were being drawn.
    assert answered_while_drawing >= 1
    await ws.close()
