"""Faults with real processes on loopback: kill -9, lost clients, a backlog of 1,000 orders,
failing printers, abusive frames. Every wait is bounded."""

import asyncio
import json
import random

import pytest
import websockets
from channels.db import database_sync_to_async
from django.db import transaction

from orders.services import order_confirm, order_create
from printing import protocol
from printing.models import PrintJob, PrintJobEvent
from tests.conftest import MILK_TEA
from tests.helpers import (
    confirmed_order,
    create_printer,
    eventually,
    job_status,
    next_message,
    printer_client,
)
from tests.honest_client import HonestPrinter

pytestmark = pytest.mark.django_db(transaction=True)


def all_completed() -> bool:
    return not PrintJob.objects.exclude(status="completed").exists()


def jobs_of(printer_name: str) -> set[int]:
    return set(PrintJob.objects.filter(printer__name=printer_name).values_list("pk", flat=True))


async def test_kill_9_with_jobs_in_flight_prints_every_order_once_per_printer(print_server):
    await create_printer("厨房打印机")
    await create_printer("收银台打印机")
    server = print_server()
    # The kitchen client says "completed" a while after printing: a kill in that window
    # leaves jobs printed but unreported.
    kitchen = HonestPrinter(server.ws_url, "厨房打印机", report_delay=0.3).start()
    cashier = HonestPrinter(server.ws_url, "收银台打印机").start()
    await asyncio.wait_for(asyncio.gather(kitchen.connected.wait(), cashier.connected.wait()), 10)

    orders = [await confirmed_order() for _ in range(10)]
    await eventually(lambda: len(kitchen.printed) >= 3)
    server.kill()
    # Confirmed while the server is down: the database keeps them.
    orders += [await confirmed_order() for _ in range(10)]
    server.start()
    orders += [await confirmed_order() for _ in range(10)]

    await eventually(all_completed, within=30)
    for client in (kitchen, cashier):
        expected = await database_sync_to_async(jobs_of)(client.name)
        assert len(expected) == len(orders)
        assert sorted(client.printed) == sorted(expected)
        assert len(client.printed) == len(set(client.printed))
    # The kill did catch jobs in flight: some were offered again after being printed, and
    # the client answered without printing them twice.
    reoffered = [job for job, attempt in kitchen.offers if attempt > 1 and job in kitchen.printed]
    assert reoffered
    assert kitchen.connections >= 2
    await kitchen.stop()
    await cashier.stop()


async def test_a_client_lost_before_reporting_gets_the_job_again_on_reconnect(print_server):
    await create_printer("厨房打印机")
    server = print_server()
    ws = await printer_client(server.ws_url, "厨房打印机")
    order = await confirmed_order()
    first = await next_message(ws, "new_order")
    await eventually(lambda: job_status(order) == "sent")
    await ws.close()
    await eventually(lambda: job_status(order) == "pending")

    ws = await printer_client(server.ws_url, "厨房打印机")
    again = await next_message(ws, "new_order")
    assert again["order"]["job_id"] == first["order"]["job_id"]
    assert again["order"]["attempt"] == 2
    await ws.close()


@database_sync_to_async
def confirm_many(count: int) -> list[PrintJob]:
    with transaction.atomic():
        for _ in range(count):
            order_confirm(order_id=order_create(items=[MILK_TEA]).pk)
    jobs = list(PrintJob.objects.all())
    # Some urgent, some not: arrival must be most urgent first, then oldest first.
    for job in random.Random(7).sample(jobs, 200):
        job.priority = random.Random(job.pk).randint(1, 10)
        job.save(update_fields=["priority"])
    return sorted(jobs, key=lambda job: (job.priority, job.created_at, job.pk))


async def test_1000_orders_confirmed_while_no_printer_was_connected_all_arrive_in_order(
    print_server,
):
    await create_printer("厨房打印机")
    expected = [job.pk for job in await confirm_many(1000)]
    server = print_server()

    client = HonestPrinter(server.ws_url, "厨房打印机").start()
    await eventually(lambda: len(client.offers) >= 1000, within=60)
    await eventually(all_completed, within=30)
    arrived = [job for job, _ in client.offers]
    assert arrived == expected
    assert client.printed == expected
    await client.stop()


async def test_failing_twice_then_completing_respects_the_backoff(print_server):
    await create_printer("厨房打印机")
    server = print_server(PRINT_RETRY_BACKOFF="1")
    outcomes = iter(["failed", "failed", "completed"])

    async def decide(job: dict) -> str:
        return next(outcomes)

    client = HonestPrinter(server.ws_url, "厨房打印机", decide=decide).start()
    order = await confirmed_order()
    await eventually(lambda: job_status(order) == "completed", within=20)

    job = await database_sync_to_async(PrintJob.objects.get)(order=order)
    assert job.retry_count == 2
    assert [attempt for _, attempt in client.offers] == [1, 2, 3]
    events = await database_sync_to_async(list)(
        PrintJobEvent.objects.filter(job=job).values_list("event", "to_status", "created_at")
    )
    kinds = [(event, to) for event, to, _ in events]
    assert kinds == [
        ("created", "pending"),
        ("sent", "sent"),
        ("failed", "pending"),
        ("sent", "sent"),
        ("failed", "pending"),
        ("sent", "sent"),
        ("completed", "completed"),
    ]
    times = [at for _, _, at in events]
    # Offered again no sooner than 1 s after the first failure, 2 s after the second.
    assert (times[3] - times[2]).total_seconds() >= 1
    assert (times[5] - times[4]).total_seconds() >= 2
    await client.stop()


async def test_abusive_frames_are_closed_and_other_printers_keep_printing(print_server):
    await create_printer("厨房打印机")
    server = print_server(PRINT_MAX_MESSAGE_BYTES="4096", PRINT_MAX_BAD_MESSAGES="5")
    honest = HonestPrinter(server.ws_url, "厨房打印机").start()
    await asyncio.wait_for(honest.connected.wait(), 10)

    async with websockets.connect(server.ws_url) as huge:
        await huge.recv()
        await huge.send(json.dumps({"type": "ping", "pad": "x" * 10_000}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(huge.recv(), 10)
        assert closed.value.rcvd.code == 1009

    codes = []

    async def send_garbage(ws) -> None:
        for _ in range(10):
            await ws.send("not json")
            codes.append(json.loads(await asyncio.wait_for(ws.recv(), 10))["code"])

    async with websockets.connect(server.ws_url) as noisy:
        await noisy.recv()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await send_garbage(noisy)
        assert closed.value.rcvd.code == 1008
        assert codes == ["invalid_json"] * 6

    order = await confirmed_order()
    await eventually(lambda: job_status(order) == "completed")
    await honest.stop()


async def test_a_stranger_reporting_on_a_printers_job_is_refused(print_server):
    await create_printer("厨房打印机")
    server = print_server()
    order = await confirmed_order()
    job = await database_sync_to_async(PrintJob.objects.get)(order=order)
    async with websockets.connect(server.ws_url) as stranger:
        await stranger.recv()
        for job_id in (job.pk, 10**9):
            await stranger.send(
                json.dumps(protocol.print_status(job_id=job_id, status="completed"))
            )
            error = await next_message(stranger, "error")
            assert error["code"] == "unknown_job"
    assert await database_sync_to_async(job_status)(order) == "pending"
