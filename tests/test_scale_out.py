"""Several server processes on PostgreSQL with Redis between them, and the faults a real
deployment meets: a process killed, Redis restarted, PostgreSQL gone for a while."""

import asyncio
import io
import time

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection

from orders.services import order_create
from printing.models import PrintJob, PrintJobEvent
from tests.conftest import MILK_TEA
from tests.helpers import create_printer, eventually
from tests.honest_client import HonestPrinter
from tests.services import (
    RedisServer,
    TcpProxy,
    channel_prefix,
    require_postgres,
    require_redis,
)
from tests.support.web import StaffSession, api_job, healthz

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.redis,
]

API_KEY = "scale-out-test-key-0123456789"


@pytest.fixture(autouse=True)
def services():
    require_postgres()


def kitchen_job(server, content: str) -> int:
    return api_job(server.http_url, "厨房打印机", content, key=API_KEY)


def scale_out_env(**extra: str) -> dict:
    return {
        "REDIS_URL": require_redis(),
        "PRINT_CHANNEL_PREFIX": channel_prefix(),
        "PRINT_API_KEYS": API_KEY,
        **extra,
    }


def cashier(username: str, password: str) -> None:
    """A staff member in the cashier group (confirming on the board needs its permissions)."""
    call_command("staffgroups", stdout=io.StringIO())
    user = get_user_model().objects.create_user(username, password=password, is_staff=True)
    user.groups.add(Group.objects.get(name="cashier"))


async def test_an_order_confirmed_on_one_process_reaches_a_socket_on_the_other_at_once(
    print_server,
):
    await create_printer("厨房打印机")
    await database_sync_to_async(cashier)("cashier", "pass-1234-word")
    # A sweep every 30 s: whatever arrives within 200 ms came through Redis.
    env = scale_out_env(PRINT_POLL_INTERVAL="30")
    a, b = print_server(**env), print_server(**env)
    client = HonestPrinter(b.ws_url, "厨房打印机").start()
    await asyncio.wait_for(client.connected.wait(), 10)
    staff = await asyncio.to_thread(StaffSession, a.http_url, "cashier", "pass-1234-word")

    latencies = []
    for _ in range(5):
        order = await database_sync_to_async(order_create)(items=[MILK_TEA])
        started = time.monotonic()
        await asyncio.to_thread(staff.post, f"/backoffice/orders/{order.pk}/confirm")
        job = await eventually(lambda order=order: PrintJob.objects.filter(order=order).first())
        await eventually(lambda job=job: job.pk in client.arrivals, within=5)
        latencies.append(client.arrivals[job.pk] - started)
    assert max(latencies) < 0.2, latencies
    await eventually(lambda: not PrintJob.objects.exclude(status="completed").exists())
    await client.stop()


async def test_kill_9_of_one_process_moves_its_printer_to_the_other(print_server):
    await create_printer("厨房打印机")
    env = scale_out_env(PRINT_SERVER_DEAD_AFTER="3", PRINT_HEARTBEAT_INTERVAL="1")
    a, b = print_server(**env), print_server(**env)
    # Connected to B; falls back to A when B is gone, as an agent with two --url does.
    client = HonestPrinter([b.ws_url, a.ws_url], "厨房打印机", report_delay=0.2).start()
    await asyncio.wait_for(client.connected.wait(), 10)

    jobs = [await asyncio.to_thread(kitchen_job, a, f"单 {n}\n") for n in range(10)]
    await eventually(lambda: len(client.printed) >= 3)
    b.kill()
    jobs += [await asyncio.to_thread(kitchen_job, a, f"单 {n}\n") for n in range(10, 20)]

    await eventually(lambda: not PrintJob.objects.exclude(status="completed").exists(), within=30)
    assert sorted(client.printed) == sorted(jobs)
    assert client.connections >= 2
    # The two processes' sweeps never moved a job twice: every (job, event, attempt) by the
    # server is recorded once.
    moves = await database_sync_to_async(list)(
        PrintJobEvent.objects.filter(actor="server").values_list("job_id", "event", "attempt")
    )
    assert moves
    assert len(moves) == len(set(moves))
    await client.stop()


async def test_jobs_keep_coming_while_redis_restarts_and_the_fast_path_comes_back(
    print_server, tmp_path
):
    redis_server = RedisServer(tmp_path).start()
    await create_printer("厨房打印机")
    server = print_server(
        REDIS_URL=redis_server.url,
        PRINT_API_KEYS=API_KEY,
        PRINT_POLL_INTERVAL="3",
        PRINT_HEARTBEAT_INTERVAL="1",
    )
    client = HonestPrinter(server.ws_url, "厨房打印机").start()
    await asyncio.wait_for(client.connected.wait(), 10)

    async def latency() -> float:
        started = time.monotonic()
        job_id = await asyncio.to_thread(kitchen_job, server, "x\n")
        await eventually(lambda: job_id in client.arrivals, within=10)
        return client.arrivals[job_id] - started

    async def fast_path() -> bool:
        # Three in a row well under the sweep's 3 s: the bell, not a lucky sweep.
        return all([await latency() < 0.3 for _ in range(3)])

    assert await fast_path()
    redis_server.kill()
    # Without Redis the sweep delivers (every 3 s here), and the socket stays open.
    assert await latency() < 6
    status, health = await asyncio.to_thread(healthz, server.http_url)
    assert status == 503
    assert not health["channel_layer"]["ok"]
    assert client.connections == 1

    redis_server.start()
    await eventually(lambda: healthz(server.http_url)[0] == 200, within=15)
    deadline = time.monotonic() + 30
    while not await fast_path():
        assert time.monotonic() < deadline, "the fast path did not come back"
        await asyncio.sleep(0.5)
    assert client.connections == 1
    await eventually(lambda: "event=channel_layer_back" in server.log())
    await client.stop()
    redis_server.stop()


async def test_postgres_gone_for_a_while_keeps_the_sockets_and_delivers_after(print_server):
    await create_printer("厨房打印机")
    settings_dict = connection.settings_dict
    proxy = TcpProxy(settings_dict["HOST"] or "127.0.0.1", int(settings_dict["PORT"] or 5432))
    url = f"postgres://{settings_dict['USER']}@127.0.0.1:{proxy.port}/{settings_dict['NAME']}"
    server = print_server(DATABASE_URL=url, PRINT_HEARTBEAT_INTERVAL="1")
    client = HonestPrinter(server.ws_url, "厨房打印机").start()
    await asyncio.wait_for(client.connected.wait(), 10)

    proxy.cut()
    await eventually(lambda: healthz(server.http_url)[0] == 503, within=15)
    _, health = await asyncio.to_thread(healthz, server.http_url)
    assert not health["database"]["ok"]
    assert health["database"]["error"]
    # Orders confirmed elsewhere meanwhile (this process still reaches the database).
    orders = [
        await database_sync_to_async(order_create)(items=[MILK_TEA], confirm=True) for _ in range(3)
    ]
    await eventually(lambda: "event=database_unavailable" in server.log(), within=15)
    assert client.connections == 1
    assert client.connected.is_set()

    proxy.restore()
    await eventually(
        lambda: PrintJob.objects.filter(order__in=orders, status="completed").count() == 3,
        within=30,
    )
    assert client.connections == 1
    await eventually(lambda: "event=database_back" in server.log())
    await client.stop()
    proxy.cut()
