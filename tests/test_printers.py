"""Printers as first-class citizens, over real sockets against a real server: who may
connect, where jobs go, backup printers, online status, TLS."""

import asyncio
import io
import json
import ssl
import urllib.request

import pytest
import trustme
import websockets
from channels.db import database_sync_to_async
from django.core.management import call_command

from orders.services import order_confirm, order_create
from printing import protocol
from printing.models import PrinterConfig, PrintJob, PrintJobEvent
from printing.services import print_job_create, printer_set_active
from tests.conftest import MILK_TEA
from tests.helpers import confirmed_order, create_printer, eventually, next_message

pytestmark = pytest.mark.django_db(transaction=True)

API_KEY = "test-api-key-0123456789"


async def refused(url: str, **options) -> tuple[int, str]:
    """Connect and expect to be turned away: the close code and reason, never a welcome."""
    async with websockets.connect(url, open_timeout=10, **options) as ws:
        return await closed_by_server(ws)


async def closed_by_server(ws) -> tuple[int, str]:
    """Read until the server closes the socket (no welcome for a refused one)."""

    async def read() -> None:
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert message["type"] != "welcome", "expected a refusal, got a welcome"

    with pytest.raises(websockets.ConnectionClosed) as closed:
        await read()
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def welcomed(url: str, **options):
    ws = await websockets.connect(url, open_timeout=10, **options)
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "welcome"
    return ws


@database_sync_to_async
def issue_token(name: str) -> str:
    out = io.StringIO()
    call_command("printertoken", name, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


async def test_a_token_binds_the_socket_to_its_printer_without_printer_info(print_server):
    kitchen = await create_printer("厨房打印机")
    token = await issue_token("厨房打印机")
    server = print_server(PRINT_TRUSTED_NETWORKS="10.99.0.0/16")
    ws = await welcomed(f"{server.ws_url}/?token={token}")
    job = await database_sync_to_async(print_job_create)(printer=kitchen, content="hello\n")
    message = await next_message(ws, "new_order")
    assert message["order"]["job_id"] == job.pk
    # Naming another printer does not move a token's socket.
    await ws.send(json.dumps(protocol.printer_info(name="收银台打印机")))
    ack = await next_message(ws, "printer_info_ack")
    assert ack["printer"]["name"] == "厨房打印机"
    await ws.close()

    ws = await welcomed(server.ws_url, additional_headers={"Authorization": f"Bearer {token}"})
    await ws.close()


async def test_bad_and_missing_tokens_are_refused_off_the_trusted_network(print_server):
    await create_printer("厨房打印机")
    server = print_server(PRINT_TRUSTED_NETWORKS="10.99.0.0/16")
    assert await refused(f"{server.ws_url}/?token=not-a-token") == (
        4401,
        "invalid or revoked token",
    )
    assert await refused(server.ws_url) == (4401, "token required")
    log = server.log()
    assert "event=refuse code=4401 reason=invalid or revoked token" in log
    assert "event=refuse code=4401 reason=token required" in log


async def test_a_forged_forwarded_header_does_not_make_a_client_trusted(print_server):
    await create_printer("厨房打印机")
    forged = {"X-Forwarded-For": "10.99.0.7"}
    server = print_server(PRINT_TRUSTED_NETWORKS="10.99.0.0/16")
    assert (await refused(server.ws_url, additional_headers=forged))[0] == 4401
    server.stop()

    # Behind a trusted proxy the same header is believed.
    server = print_server(PRINT_TRUSTED_NETWORKS="10.99.0.0/16", PRINT_TRUSTED_PROXIES="127.0.0.1")
    ws = await welcomed(server.ws_url, additional_headers=forged)
    await ws.close()


async def test_a_new_token_revokes_the_old_one_and_closes_its_sockets(print_server):
    await create_printer("厨房打印机")
    old = await issue_token("厨房打印机")
    server = print_server(PRINT_TRUSTED_NETWORKS="10.99.0.0/16")
    ws = await welcomed(f"{server.ws_url}/?token={old}")

    new = await issue_token("厨房打印机")
    assert await closed_by_server(ws) == (4401, "token revoked")
    assert (await refused(f"{server.ws_url}/?token={old}"))[0] == 4401
    ws = await welcomed(f"{server.ws_url}/?token={new}")
    await ws.close()


async def test_a_disabled_printer_is_refused_and_its_sockets_closed(print_server):
    kitchen = await create_printer("厨房打印机")
    cashier = await create_printer("收银台打印机")
    token = await issue_token("厨房打印机")
    server = print_server()
    by_token = await welcomed(f"{server.ws_url}/?token={token}")
    # A printer without a token takes a trusted socket that names it.
    by_name = await welcomed(server.ws_url)
    await by_name.send(json.dumps(protocol.printer_info(name="收银台打印机")))
    assert (await next_message(by_name, "printer_info_ack"))["printer"] is not None

    for printer in (kitchen, cashier):
        await database_sync_to_async(printer_set_active)(printer=printer, active=False)
    for ws in (by_token, by_name):
        assert await closed_by_server(ws) == (4403, "printer disabled")
    assert await refused(f"{server.ws_url}/?token={token}") == (4403, "printer disabled")


async def test_connection_limits_refuse_the_next_socket_with_a_reason(print_server):
    server = print_server(PRINT_MAX_CONNECTIONS="3", PRINT_MAX_CONNECTIONS_PER_ADDRESS="2")
    sockets = [await welcomed(server.ws_url), await welcomed(server.ws_url)]
    code, reason = await refused(server.ws_url)
    assert code == 1013
    assert "too many connections from 127.0.0.1" in reason
    sockets.append(await welcomed(server.ws_url, local_addr=("127.0.0.2", 0)))
    code, reason = await refused(server.ws_url, local_addr=("127.0.0.3", 0))
    assert (code, reason) == (1013, "server full (3 connections)")
    for ws in sockets:
        await ws.close()


async def test_browser_pages_from_other_origins_are_refused(print_server):
    server = print_server(PRINT_ALLOWED_ORIGINS="https://pos.example.com")
    assert await refused(server.ws_url, origin="http://evil.example") == (
        4403,
        "origin not allowed",
    )
    for origin in (f"http://127.0.0.1:{server.http_port}", "https://pos.example.com"):
        ws = await welcomed(server.ws_url, origin=origin)
        await ws.close()


@database_sync_to_async
def order_for_everyone() -> PrintJob:
    order = order_create(items=[MILK_TEA])
    order_confirm(order_id=order.pk)
    return PrintJob.objects.get(order=order)


async def test_addressed_jobs_reach_only_their_printer_and_unaddressed_jobs_everyone(
    print_server,
):
    printers = [await create_printer(name, auto_print_orders=False) for name in ("A", "B", "C")]
    tokens = [await issue_token(printer.name) for printer in printers]
    server = print_server()
    sockets = [await welcomed(f"{server.ws_url}/?token={token}") for token in tokens]
    stranger = await welcomed(server.ws_url)

    for printer, ws in zip(printers, sockets, strict=True):
        job = await database_sync_to_async(print_job_create)(printer=printer, content="x\n")
        assert (await next_message(ws, "new_order"))["order"]["job_id"] == job.pk
    # Each socket got exactly its own job: the next message is the broadcast.
    broadcast = await order_for_everyone()
    for ws in [*sockets, stranger]:
        message = await next_message(ws, "new_order")
        assert message["order"]["job_id"] == broadcast.pk
    for ws in [*sockets, stranger]:
        await ws.close()


async def test_a_job_for_an_offline_printer_moves_to_its_backup_once(print_server):
    cashier = await create_printer("收银台打印机", auto_print_orders=False, paper_width=80)
    await create_printer("厨房打印机", paper_width=58, backup_printer=cashier)
    server = print_server(PRINT_FAILOVER_AFTER="1")
    backup = await welcomed(server.ws_url)
    await backup.send(json.dumps(protocol.printer_info(name="收银台打印机")))

    order = await confirmed_order()
    message = await next_message(backup, "new_order")
    content = message["order"]["content"]
    assert "** 备用打印 (原: 厨房打印机) **" in content
    assert content.splitlines()[0] == "=" * 48  # laid out again for the backup's 80 mm paper

    job = await database_sync_to_async(PrintJob.objects.get)(order=order)
    assert job.printer_id == cashier.pk
    event = await database_sync_to_async(
        PrintJobEvent.objects.filter(job=job, event="failover").get
    )()
    assert (event.created_at - job.queued_at).total_seconds() >= 1
    assert "厨房打印机 offline" in event.message

    # The kitchen printer coming back does not print it too.
    kitchen = await welcomed(server.ws_url)
    await kitchen.send(json.dumps(protocol.printer_info(name="厨房打印机")))
    await next_message(kitchen, "printer_info_ack")
    with pytest.raises(TimeoutError):
        await next_message(kitchen, "new_order", within=1.5)
    for ws in (backup, kitchen):
        await ws.close()


async def test_an_online_printer_keeps_its_jobs(print_server):
    cashier = await create_printer("收银台打印机", auto_print_orders=False)
    await create_printer("厨房打印机", backup_printer=cashier)
    server = print_server(PRINT_FAILOVER_AFTER="0.5")
    kitchen = await welcomed(server.ws_url)
    await kitchen.send(json.dumps(protocol.printer_info(name="厨房打印机")))
    await next_message(kitchen, "printer_info_ack")
    order = await confirmed_order()
    message = await next_message(kitchen, "new_order")
    assert "备用打印" not in message["order"]["content"]
    await asyncio.sleep(1.5)  # well past the failover delay, while the job waits for a status
    job = await database_sync_to_async(PrintJob.objects.get)(order=order)
    assert job.failover_from_id is None
    await kitchen.close()


def status_of(server, name: str) -> dict:
    request = urllib.request.Request(
        f"{server.http_url}/api/printers/status",
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        printers = json.loads(response.read())["printers"]
    return next(printer for printer in printers if printer["name"] == name)


async def test_online_status_follows_connects_disconnects_and_restarts(print_server):
    await create_printer("厨房打印机")
    server = print_server(PRINT_API_KEYS=API_KEY, PRINT_PING_INTERVAL="1", PRINT_PING_TIMEOUT="1")
    assert not (await asyncio.to_thread(status_of, server, "厨房打印机"))["online"]

    ws = await welcomed(server.ws_url)
    await ws.send(json.dumps(protocol.printer_info(name="厨房打印机", model="TM-T88V")))
    await next_message(ws, "printer_info_ack")
    status = await asyncio.to_thread(status_of, server, "厨房打印机")
    assert status["online"]
    assert status["printer_info"]["model"] == "TM-T88V"
    assert status["connections"][0]["address"].startswith("127.0.0.1:")
    await ws.close()
    await eventually(lambda: not status_of(server, "厨房打印机")["online"])

    # Silent at the WebSocket level too: dropped after the ping timeout.
    silent = await welcomed(server.ws_url, ping_interval=None)
    await silent.send(json.dumps(protocol.printer_info(name="厨房打印机")))
    await next_message(silent, "printer_info_ack")
    silent.transport.pause_reading()
    await eventually(lambda: not status_of(server, "厨房打印机")["online"], within=15)

    # A crash leaves no stale "online" behind once the server is back.
    ws = await welcomed(server.ws_url)
    await ws.send(json.dumps(protocol.printer_info(name="厨房打印机")))
    await next_message(ws, "printer_info_ack")
    server.kill()
    server.start()
    assert not (await asyncio.to_thread(status_of, server, "厨房打印机"))["online"]


async def test_tls_serves_wss_and_https_on_the_same_ports(print_server, tmp_path):
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    certificate.private_key_pem.write_to_path(key)
    certificate.cert_chain_pems[0].write_to_path(cert)
    context = ssl.create_default_context()
    authority.configure_trust(context)
    await create_printer("厨房打印机")
    server = print_server(tls=(cert, key))

    ws = await welcomed(f"wss://127.0.0.1:{server.ws_port}/", ssl=context)
    await ws.send(json.dumps(protocol.printer_info(name="厨房打印机")))
    await next_message(ws, "printer_info_ack")
    order = await confirmed_order()
    message = await next_message(ws, "new_order")
    assert message["order"]["order_id"] == order.pk
    await ws.close()

    def https_login_page() -> int:
        url = f"https://127.0.0.1:{server.http_port}/admin/login/"
        with urllib.request.urlopen(url, context=context, timeout=10) as response:
            return response.status

    assert await asyncio.to_thread(https_login_page) == 200
    # Plain ws:// gets no WebSocket from a TLS port.
    with pytest.raises((websockets.InvalidMessage, ConnectionError, TimeoutError)):
        await websockets.connect(f"ws://127.0.0.1:{server.ws_port}/", open_timeout=3)


def test_printertoken_names_an_unknown_printer_clearly(db):
    with pytest.raises(Exception, match="no printer named '无'"):
        call_command("printertoken", "无")
    assert not PrinterConfig.objects.exclude(token_hash=None).exists()
