"""The printer consumer, message by message, with Channels' WebsocketCommunicator."""

import asyncio
import json
from ipaddress import ip_network

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.core.management import call_command

from orders.services import order_confirm, order_create
from printing import protocol
from printing.delivery.dispatcher import stop_dispatcher
from printing.models import PrinterConfig, PrinterConnection, PrintJob, PrintJobEvent
from printing.routing import websocket_urlpatterns
from printing.services import (
    print_job_cancel,
    print_job_create_test,
    print_job_retry,
    printer_token_issue,
)
from tests.conftest import MILK_TEA
from tests.helpers import from_address

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("dispatcher")]

application = from_address(URLRouter(websocket_urlpatterns))


@database_sync_to_async
def create_printer(name: str, **fields) -> PrinterConfig:
    return PrinterConfig.objects.create(name=name, **fields)


@database_sync_to_async
def confirmed_order(**fields):
    order = order_create(items=[MILK_TEA], **fields)
    return order_confirm(order_id=order.pk)


@database_sync_to_async
def job(**filters) -> PrintJob:
    return PrintJob.objects.get(**filters)


async def eventually(**filters) -> PrintJob:
    """Wait (bounded) for the job matching `filters` to exist: the DB write that follows a send."""
    for _ in range(200):
        found = await database_sync_to_async(PrintJob.objects.filter(**filters).first)()
        if found is not None:
            return found
        await asyncio.sleep(0.025)
    raise AssertionError(f"no job with {filters} after 5 s")


async def connect(path: str = "/", printer: str | None = None) -> WebsocketCommunicator:
    client = WebsocketCommunicator(application, path)
    connected, _ = await client.connect(timeout=5)
    assert connected
    welcome = await client.receive_json_from(timeout=5)
    assert welcome["type"] == "welcome"
    if printer is not None:
        await client.send_json_to(protocol.printer_info(name=printer, model="TM-T88V"))
        ack = await client.receive_json_from(timeout=5)
        assert ack["type"] == "printer_info_ack"
    return client


async def receive(client: WebsocketCommunicator, kind: str) -> dict:
    """The next message of this type, skipping heartbeats."""
    while True:
        message = await client.receive_json_from(timeout=5)
        if message["type"] == kind:
            return message
        assert message["type"] == "ping", message


@pytest.mark.parametrize("path", ["/", "/ws/print/"])
async def test_welcome_on_connect(path):
    client = WebsocketCommunicator(application, path)
    assert (await client.connect(timeout=5))[0]
    welcome = await client.receive_json_from(timeout=5)
    assert welcome["message"] == "欢迎连接到发财小狗饮品店打印服务"
    assert welcome["server_info"]["name"] == "发财小狗饮品店打印服务器"
    assert set(welcome["server_info"]) == {"name", "version", "capabilities", "instance"}
    assert "+08:00" in welcome["timestamp"]
    await client.disconnect()


async def welcome_instance() -> str:
    client = WebsocketCommunicator(application, "/")
    assert (await client.connect(timeout=5))[0]
    welcome = await client.receive_json_from(timeout=5)
    await client.disconnect()
    return welcome["server_info"]["instance"]


async def test_welcome_names_the_database_the_same_after_a_restart_and_anew_after_a_reset():
    first = await welcome_instance()
    assert first
    await stop_dispatcher()  # as a restart of the server process
    assert await welcome_instance() == first

    await stop_dispatcher()
    await database_sync_to_async(call_command)("flush", interactive=False, verbosity=0)
    assert await welcome_instance() != first


async def test_unknown_paths_are_refused():
    client = WebsocketCommunicator(application, "/nope/")
    connected, _ = await client.connect(timeout=5)
    assert not connected


async def test_ping_gets_pong():
    client = await connect()
    await client.send_json_to({"type": "ping", "timestamp": protocol.now_iso()})
    pong = await receive(client, "pong")
    assert "T" in pong["timestamp"]
    await client.disconnect()


async def test_printer_info_binds_the_socket_and_is_kept():
    printer = await create_printer("厨房打印机", paper_width=58)
    client = await connect()
    await client.send_json_to(
        protocol.printer_info(name="厨房打印机", model="TM-T88V", status="ready", paper_width=58)
    )
    ack = await receive(client, "printer_info_ack")
    assert ack["printer"] == {"id": printer.pk, "name": "厨房打印机", "paper_width": 58}
    connection = await database_sync_to_async(PrinterConnection.objects.get)()
    assert connection.printer_id == printer.pk
    assert connection.reported_model == "TM-T88V"
    assert connection.printer_info["paper_width"] == 58
    assert connection.closed_at is None
    await client.disconnect()
    await database_sync_to_async(connection.refresh_from_db)()
    assert connection.closed_at is not None


async def test_a_second_printer_info_updates_the_status_and_keeps_the_socket_and_its_job():
    """The agent says printer_info again when its printer's status changes (issue 17)."""
    printer = await create_printer("厨房打印机")
    client = await connect(printer="厨房打印机")
    order = await confirmed_order()
    job_id = (await receive(client, "new_order"))["order"]["job_id"]

    await client.send_json_to(
        protocol.printer_info(
            name="厨房打印机",
            model="TM-T88V",
            status="paper_out",
            status_message="paper out / 缺纸",
        )
    )
    ack = await receive(client, "printer_info_ack")
    assert ack["printer"]["id"] == printer.pk
    connection = await database_sync_to_async(PrinterConnection.objects.get)()
    assert (connection.printer_id, connection.reported_status) == (printer.pk, "paper_out")
    assert connection.printer_info["status_message"] == "paper out / 缺纸"
    # Still the one socket holding the job: not offered again, and its report counts.
    assert await client.receive_nothing(timeout=0.5)
    await client.send_json_to(protocol.print_status(job_id=job_id, status="completed"))
    await client.send_json_to(protocol.ping())
    await receive(client, "pong")
    assert (await job(order=order)).status == "completed"

    await client.send_json_to(protocol.printer_info(name="厨房打印机", status="ready"))
    await receive(client, "printer_info_ack")
    await database_sync_to_async(connection.refresh_from_db)()
    assert (connection.reported_status, connection.printer_id) == ("ready", printer.pk)
    assert "status_message" not in connection.printer_info
    await client.disconnect()


async def test_an_unknown_printer_name_is_told_it_gets_only_unaddressed_jobs():
    client = await connect()
    await client.send_json_to(protocol.printer_info(name="不存在的打印机"))
    ack = await receive(client, "printer_info_ack")
    assert ack["printer"] is None
    assert "不存在的打印机" in ack["message"]
    await client.disconnect()


async def test_a_printer_with_a_token_takes_no_socket_that_only_names_it(caplog):
    printer = await create_printer("厨房打印机")
    await database_sync_to_async(printer_token_issue)(printer=printer)
    client = await connect()
    await client.send_json_to(protocol.printer_info(name="厨房打印机"))

    ack = await receive(client, "printer_info_ack")
    assert ack["printer"] is None
    assert ack["reason"] == "token_required"
    assert "令牌" in ack["message"]
    assert "token" in ack["message"]
    connection = await database_sync_to_async(PrinterConnection.objects.get)()
    assert (connection.printer_id, connection.reported_name) == (None, "厨房打印机")
    assert "reported_name='厨房打印机' event=bind_refused reason=token_required" in caplog.text
    # Its receipts (customer phone numbers) do not reach this socket.
    await confirmed_order(customer_phone="13800138000")
    assert await client.receive_nothing(timeout=0.8)
    await client.disconnect()


async def test_a_socket_bound_by_name_is_closed_when_its_printer_gets_a_token():
    printer = await create_printer("厨房打印机")
    client = await connect(printer="厨房打印机")
    await database_sync_to_async(printer_token_issue)(printer=printer)
    closed = await client.receive_output(timeout=5)
    assert (closed["type"], closed["code"]) == ("websocket.close", 4401)


async def test_a_confirmed_order_arrives_as_new_order_in_the_seed_shape():
    printer = await create_printer("厨房打印机", paper_width=58, print_copies=2)
    client = await connect(printer="厨房打印机")
    order = await confirmed_order(customer_phone="13800138000")

    message = await receive(client, "new_order")
    sent = message["order"]
    created = await job(order=order)
    assert sent["job_id"] == created.pk
    assert sent["order_id"] == order.pk
    assert sent["type"] == "order_receipt"
    assert sent["content"] == created.print_content
    assert sent["copies"] == 2
    assert sent["priority"] == created.priority
    assert sent["order_info"] == {
        "id": order.pk,
        "status": "confirmed",
        "total_amount": 25.0,
        "customer_phone": "13800138000",
        "created_at": sent["order_info"]["created_at"],
        "pickup_number": "001",
        "order_type": "dine_in",
        "delivery_platform": "",
        "platform_order_no": "",
    }
    assert sent["printer_config"]["paper_width"] == 58
    assert sent["printer_config"]["printer_type"] == "thermal"
    assert sent["printer_config"]["encoding"] == "gb18030"
    assert sent["target_printer"]["id"] == printer.pk
    assert sent["attempt"] == 1
    created = await eventually(order=order, status="sent")
    assert created.delivery_attempts == 1
    await client.disconnect()


async def test_addressed_jobs_go_to_their_printer_and_unaddressed_jobs_to_everyone():
    await create_printer("厨房打印机")
    await create_printer("收银台打印机", auto_print_orders=False)
    kitchen = await connect(printer="厨房打印机")
    cashier = await connect(printer="收银台打印机")
    stranger = await connect(printer="路人")

    await confirmed_order()
    await receive(kitchen, "new_order")
    assert await cashier.receive_nothing(timeout=0.3)
    assert await stranger.receive_nothing(timeout=0.1)

    # With no printer printing orders, the job is for every socket, bound or not.
    await database_sync_to_async(PrinterConfig.objects.update)(auto_print_orders=False)
    order = await confirmed_order()
    broadcast = await job(order=order)
    assert broadcast.printer_id is None
    for client in (kitchen, cashier, stranger):
        message = await receive(client, "new_order")
        assert message["order"]["job_id"] == broadcast.pk
    for client in (kitchen, cashier, stranger):
        await client.disconnect()


@pytest.mark.parametrize(
    ("reports", "final"),
    [
        (["printing"], "printing"),
        (["printing", "completed"], "completed"),
        (["completed"], "completed"),
        (["failed"], "pending"),
        (["completed", "failed"], "completed"),
        (["completed", "printing"], "completed"),
    ],
)
async def test_print_status_updates_the_job(reports, final):
    await create_printer("厨房打印机")
    client = await connect(printer="厨房打印机")
    order = await confirmed_order()
    job_id = (await receive(client, "new_order"))["order"]["job_id"]

    for status in reports:
        await client.send_json_to(
            protocol.print_status(job_id=job_id, status=status, message=f"{status}!")
        )
    # A ping after the reports: its pong proves they were all handled.
    await client.send_json_to(protocol.ping())
    await receive(client, "pong")

    updated = await job(order=order)
    assert updated.status == final
    if final in ("printing", "completed"):
        assert updated.started_at is not None
    if final == "completed":
        assert updated.completed_at is not None
    if "failed" in reports and final == "pending":
        # Offered again after the backoff.
        assert updated.error_message == "failed!"
        assert updated.retry_count == 1
        assert updated.not_before is not None
    await client.disconnect()


async def test_status_for_an_unknown_job_is_an_error_and_changes_nothing():
    client = await connect()
    await client.send_json_to(protocol.print_status(job_id=999999, status="completed"))
    error = await receive(client, "error")
    assert error["code"] == "unknown_job"
    assert error["job_id"] == 999999
    await client.disconnect()


async def test_status_for_another_printers_job_is_an_error_and_changes_nothing():
    await create_printer("厨房打印机")
    await create_printer("收银台打印机", auto_print_orders=False)
    cashier = await connect(printer="收银台打印机")
    order = await confirmed_order()
    kitchen_job = await job(order=order)

    await cashier.send_json_to(protocol.print_status(job_id=kitchen_job.pk, status="completed"))
    error = await receive(cashier, "error")
    assert error["code"] == "unknown_job"
    assert (await job(order=order)).status == "pending"
    await cashier.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("this is not json", "invalid_json"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "print_status", "job_id": "abc", "status": "completed"}', "invalid_field"),
        ('{"type": "print_status", "job_id": -5, "status": "completed"}', "invalid_field"),
    ],
)
async def test_bad_input_gets_an_error_and_the_socket_keeps_working(frame, code):
    client = await connect()
    await client.send_to(text_data=frame)
    error = await receive(client, "error")
    assert error["code"] == code
    await client.send_json_to(protocol.ping())
    await receive(client, "pong")
    await client.disconnect()


async def test_binary_frames_get_an_error():
    client = await connect()
    await client.send_to(bytes_data=b"\x89PNG")
    assert (await receive(client, "error"))["code"] == "binary_not_supported"
    await client.disconnect()


async def test_a_test_print_arrives_as_print_command_under_data():
    printer = await create_printer("厨房打印机", paper_width=58)
    client = await connect(printer="厨房打印机")
    test_job = await database_sync_to_async(print_job_create_test)(printer=printer)

    message = await receive(client, "print_command")
    assert message["data"]["command"] == "test_print"
    assert message["data"]["job_id"] == test_job.pk
    assert "打印测试" in message["data"]["content"]
    assert message["data"]["printer_config"]["paper_width"] == 58
    await client.send_json_to(protocol.print_status(job_id=test_job.pk, status="completed"))
    await client.send_json_to(protocol.ping())
    await receive(client, "pong")
    assert (await job(pk=test_job.pk)).status == "completed"
    await client.disconnect()


async def test_jobs_waiting_for_a_printer_arrive_when_it_connects_most_urgent_then_oldest():
    await create_printer("厨房打印机")
    orders = [await confirmed_order() for _ in range(5)]
    jobs = [await job(order=order) for order in orders]
    # Make the fourth one urgent.
    await database_sync_to_async(PrintJob.objects.filter(pk=jobs[3].pk).update)(priority=1)

    client = await connect(printer="厨房打印机")
    received = [(await receive(client, "new_order"))["order"]["job_id"] for _ in jobs]
    assert received == [jobs[3].pk, jobs[0].pk, jobs[1].pk, jobs[2].pk, jobs[4].pk]
    assert await client.receive_nothing(timeout=0.8)
    await client.disconnect()


async def test_a_job_held_by_a_lost_socket_is_offered_again_with_the_next_attempt():
    await create_printer("厨房打印机")
    first = await connect(printer="厨房打印机")
    order = await confirmed_order()
    assert (await receive(first, "new_order"))["order"]["attempt"] == 1
    await eventually(order=order, status="sent")
    await first.disconnect()
    assert (await job(order=order)).status == "pending"

    second = await connect(printer="厨房打印机")
    again = await receive(second, "new_order")
    assert again["order"]["attempt"] == 2
    assert again["order"]["job_id"] == (await job(order=order)).pk
    assert (await job(order=order)).delivery_attempts == 2
    await second.disconnect()


async def test_a_quiet_client_is_pinged(settings):
    settings.PRINT_PING_INTERVAL = 1
    client = await connect()
    ping = json.loads(await client.receive_from(timeout=5))
    assert ping["type"] == "ping"
    await client.disconnect()


async def test_cancelling_a_job_tells_the_socket_that_had_it():
    await create_printer("厨房打印机")
    client = await connect(printer="厨房打印机")
    order = await confirmed_order()
    job_id = (await receive(client, "new_order"))["order"]["job_id"]

    assert await database_sync_to_async(print_job_cancel)(job_id=job_id, actor="staff:test")
    cancel = await receive(client, "cancel_job")
    assert cancel["job_id"] == job_id
    await client.send_json_to(protocol.print_status(job_id=job_id, status="completed"))
    await client.send_json_to(protocol.ping())
    await receive(client, "pong")
    assert (await job(order=order)).status == "cancelled"
    await client.disconnect()


async def test_a_retried_job_arrives_again_with_the_next_attempt():
    await create_printer("厨房打印机")
    client = await connect(printer="厨房打印机")
    order = await confirmed_order()
    await database_sync_to_async(PrintJob.objects.update)(max_retries=1)
    job_id = (await receive(client, "new_order"))["order"]["job_id"]
    await eventually(order=order, status="sent")
    await client.send_json_to(protocol.print_status(job_id=job_id, status="failed", message="缺纸"))
    await eventually(order=order, status="failed")

    assert await database_sync_to_async(print_job_retry)(job_id=job_id, actor="staff:test")
    again = await receive(client, "new_order")
    assert again["order"]["job_id"] == job_id
    assert again["order"]["attempt"] == 2
    await client.disconnect()


async def test_a_job_the_client_never_acknowledges_is_offered_again(settings):
    settings.PRINT_ACK_TIMEOUT = 1
    await create_printer("厨房打印机")
    client = await connect(printer="厨房打印机")
    order = await confirmed_order()
    first = await receive(client, "new_order")
    again = await receive(client, "new_order")
    assert again["order"]["job_id"] == first["order"]["job_id"]
    assert (first["order"]["attempt"], again["order"]["attempt"]) == (1, 2)
    events = await database_sync_to_async(list)(
        PrintJobEvent.objects.filter(job__order=order).values_list("event", flat=True)
    )
    assert events[:4] == ["created", "sent", "ack_timeout", "sent"]
    await client.disconnect()


async def test_a_job_printing_too_long_is_offered_again_as_a_possible_duplicate(settings):
    settings.PRINT_PRINTING_TIMEOUT = 1
    await create_printer("厨房打印机")
    client = await connect(printer="厨房打印机")
    order = await confirmed_order()
    first = (await receive(client, "new_order"))["order"]
    assert first["possible_duplicate"] is False
    await client.send_json_to(protocol.print_status(job_id=first["job_id"], status="printing"))

    again = (await receive(client, "new_order"))["order"]
    assert (again["job_id"], again["attempt"], again["possible_duplicate"]) == (
        first["job_id"],
        2,
        True,
    )
    events = await database_sync_to_async(list)(
        PrintJobEvent.objects.filter(job__order=order).values_list("event", flat=True)
    )
    assert events[:5] == ["created", "sent", "printing", "printing_timeout", "sent"]
    await client.disconnect()


async def test_an_oversized_frame_closes_the_socket_with_1009(settings):
    settings.PRINT_MAX_MESSAGE_BYTES = 4096
    client = await connect()
    await client.send_to(text_data=json.dumps({"type": "ping", "pad": "珍" * 2000}))
    closed = await client.receive_output(timeout=5)
    assert (closed["type"], closed["code"]) == ("websocket.close", 1009)


async def test_a_client_that_keeps_sending_garbage_is_closed_with_1008(settings):
    settings.PRINT_MAX_BAD_MESSAGES = 3
    client = await connect()
    for _ in range(3):
        await client.send_to(text_data="garbage")
        assert (await receive(client, "error"))["code"] == "invalid_json"
    await client.send_to(text_data="garbage")
    assert (await receive(client, "error"))["code"] == "invalid_json"
    closed = await client.receive_output(timeout=5)
    assert (closed["type"], closed["code"]) == ("websocket.close", 1008)


# A client off the trusted networks (a TEST-NET address), and one on a listed LAN.
STRANGER = "203.0.113.7"
LAN_TABLET = "192.168.1.20"


async def opened(address: str, path: str = "/", headers=()) -> tuple[WebsocketCommunicator, dict]:
    """Connect from `address`; the first thing the server says (welcome, or the close)."""
    client = WebsocketCommunicator(
        from_address(URLRouter(websocket_urlpatterns), address), path, headers=list(headers)
    )
    connected, _ = await client.connect(timeout=5)
    assert connected  # accepted, then closed with a code a client can show
    return client, await client.receive_output(timeout=5)


def refused_with(first: dict) -> int | None:
    return first["code"] if first["type"] == "websocket.close" else None


async def test_a_well_formed_token_that_is_not_the_printers_is_refused():
    printer = await create_printer("厨房打印机")
    token = await database_sync_to_async(printer_token_issue)(printer=printer)
    other = await database_sync_to_async(printer_token_issue)(
        printer=await create_printer("收银台打印机")
    )
    wrong = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for presented in (wrong, other[::-1]):
        client, first = await opened(STRANGER, f"/?token={presented}")
        assert refused_with(first) == 4401, first
    client, first = await opened(STRANGER, f"/?token={token}")
    assert json.loads(first["text"])["type"] == "welcome"
    # Bound to its printer by the token alone: that printer's receipt comes to it.
    await confirmed_order()
    message = await receive(client, "new_order")
    assert (await job(pk=message["order"]["job_id"])).printer_id == printer.pk
    await client.disconnect()


async def test_without_a_token_only_the_trusted_networks_get_in(settings):
    settings.PRINT_TRUSTED_NETWORKS = [ip_network("127.0.0.0/8"), ip_network("192.168.1.0/24")]
    _, first = await opened(STRANGER)
    assert refused_with(first) == 4401
    for address in ("127.0.0.1", LAN_TABLET):
        client, first = await opened(address)
        assert json.loads(first["text"])["type"] == "welcome", address
        await client.disconnect()


async def test_a_page_from_another_site_cannot_open_a_printer_socket_even_with_a_token(settings):
    printer = await create_printer("厨房打印机")
    token = await database_sync_to_async(printer_token_issue)(printer=printer)
    foreign = [(b"origin", b"https://evil.example"), (b"host", b"192.168.1.5:8765")]
    for address in ("127.0.0.1", STRANGER):
        _, first = await opened(address, f"/?token={token}", foreign)
        assert refused_with(first) == 4403, (address, first)
    # The server's own page (the test client in the browser) on its own host and port.
    own = [(b"origin", b"http://192.168.1.5:8765"), (b"host", b"192.168.1.5:8765")]
    client, first = await opened(STRANGER, f"/?token={token}", own)
    assert json.loads(first["text"])["type"] == "welcome"
    await client.disconnect()
    settings.PRINT_ALLOWED_ORIGINS = ["https://evil.example"]
    client, first = await opened(STRANGER, f"/?token={token}", foreign)
    assert json.loads(first["text"])["type"] == "welcome"
    await client.disconnect()
