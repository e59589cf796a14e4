"""Async helpers for tests that talk to a real server over real sockets."""

import asyncio
import json
import time

import websockets
from channels.db import database_sync_to_async as sync_to_async
from django.db import DatabaseError

from orders.services import order_confirm, order_create
from printing import protocol
from printing.models import PrinterConfig, PrintJob
from tests.conftest import MILK_TEA


async def eventually(check, *, within: float = 10.0, interval: float = 0.05):
    """Wait for `check()` (sync, run in a thread) to return something truthy."""
    deadline = time.monotonic() + within
    while True:
        result = await sync_to_async(check)()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(interval)


@sync_to_async
def confirmed_order():
    order = order_create(items=[MILK_TEA], customer_phone="13800138000")
    return order_confirm(order_id=order.pk)


@sync_to_async
def create_printer(name: str, **fields) -> PrinterConfig:
    return PrinterConfig.objects.create(name=name, **fields)


def job_status(order) -> str:
    return PrintJob.objects.get(order=order).status


async def printer_client(url: str, name: str):
    """Connects like the seed's Python example: welcome, then printer_info."""
    ws = await websockets.connect(url, open_timeout=10)
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "welcome"
    await ws.send(json.dumps(protocol.printer_info(name=name, model="TM-T88V", status="ready")))
    return ws


async def next_message(ws, kind: str, within: float = 10.0) -> dict:
    deadline = time.monotonic() + within
    while True:
        remaining = deadline - time.monotonic()
        message = json.loads(await asyncio.wait_for(ws.recv(), max(remaining, 0.01)))
        if message["type"] == kind:
            return message


def from_address(application, address: str = "127.0.0.1"):
    """The ASGI application as a client at `address` reaches it (the test communicator
    leaves the client out of the scope)."""

    async def app(scope, receive, send):
        scope = {**scope, "client": [address, 50000], "server": ["127.0.0.1", 8765]}
        return await application(scope, receive, send)

    return app


def failing_job_inserts(execute, sql, params, many, context):
    """An execute wrapper (connection.execute_wrapper) under which writing print jobs fails,
    as a full disk would make it."""
    if sql.startswith("INSERT") and PrintJob._meta.db_table in sql:
        raise DatabaseError("disk full")
    return execute(sql, params, many, context)
