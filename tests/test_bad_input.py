"""Whatever a client sends, the server answers clearly or closes with the right code, keeps
serving, and changes no job or printer."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders.services import order_confirm, order_create
from printing import protocol
from printing.delivery.presence import printer_connection_identify
from printing.models import PrinterConfig, PrinterConnection, PrintJob, ServerProcess
from printing.routing import websocket_urlpatterns
from tests.conftest import MILK_TEA
from tests.helpers import from_address

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("dispatcher")]

application = from_address(URLRouter(websocket_urlpatterns))

KNOWN_TYPES = ["ping", "pong", "printer_info", "print_status", "new_order", "welcome"]
ERROR_CODES = {
    "invalid_json",
    "invalid_message",
    "missing_field",
    "invalid_field",
    "unknown_type",
    "binary_not_supported",
    "unknown_job",
    "wrong_socket",
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=50),
    st.text(max_size=3000),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)


def messages(job_ids: list[int]):
    job_id = st.one_of(values, st.sampled_from(job_ids), st.integers(min_value=-5, max_value=10**6))
    status = st.one_of(st.sampled_from([*protocol.CLIENT_STATUSES, "done", ""]), values)
    printer = st.one_of(
        values,
        st.fixed_dictionaries(
            {"name": st.one_of(st.text(max_size=120), values)},
            optional={"model": values, "status": values, "paper_width": values},
        ),
    )
    objects = st.fixed_dictionaries(
        {"type": st.one_of(st.sampled_from(KNOWN_TYPES), values)},
        optional={"job_id": job_id, "status": status, "message": values, "printer": printer},
    )
    return st.one_of(
        objects.map(lambda message: ("text", json.dumps(message))),
        st.text(max_size=200).map(lambda text: ("text", text)),
        st.binary(max_size=200).map(lambda data: ("bytes", data)),
        values.map(lambda value: ("text", json.dumps(value))),
    )


def snapshot() -> list[tuple]:
    jobs = PrintJob.objects.order_by("pk").values_list(
        "pk", "status", "retry_count", "error_message", "started_at", "completed_at"
    )
    printers = PrinterConfig.objects.order_by("pk").values_list("pk", "name", "is_active")
    return [*jobs, *printers]


@pytest.fixture
def foreign_jobs(transactional_db) -> list[int]:
    """Jobs of a printer no test socket is bound to: nothing a stranger says may touch them."""
    PrinterConfig.objects.create(name="厨房打印机")
    jobs = []
    for _ in range(3):
        order = order_create(items=[MILK_TEA])
        order_confirm(order_id=order.pk)
        jobs.append(PrintJob.objects.get(order=order).pk)
    return jobs


async def answers_until_pong(client: WebsocketCommunicator) -> tuple[list[dict], int | None]:
    """Everything the server says up to the pong that answers our ping, or its close code."""
    replies = []
    while True:
        output = await client.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            return replies, output.get("code")
        message = json.loads(output["text"])
        if message["type"] == "pong":
            return replies, None
        replies.append(message)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_generated_messages_never_crash_the_server_or_change_a_job(data, foreign_jobs):
    frames = data.draw(st.lists(messages(foreign_jobs), min_size=1, max_size=6))
    before = await database_sync_to_async(snapshot)()
    client = WebsocketCommunicator(application, "/")
    assert (await client.connect(timeout=5))[0]
    assert json.loads(await client.receive_from(timeout=5))["type"] == "welcome"
    for kind, payload in frames:
        # send_input: the communicator's send_to refuses an empty frame, a client need not.
        await client.send_input({"type": "websocket.receive", kind: payload})
        await client.send_json_to({"type": "ping"})
        replies, closed = await answers_until_pong(client)
        for reply in replies:
            assert reply["type"] in ("error", "printer_info_ack"), reply
            if reply["type"] == "error":
                assert reply["code"] in ERROR_CODES
                assert isinstance(reply["message"], str)
                assert reply["message"]
        if closed is not None:
            assert closed in (1008, 1009)
            break
    await client.disconnect()
    assert await database_sync_to_async(snapshot)() == before


async def test_one_clients_garbage_does_not_disturb_another(foreign_jobs):
    calm = WebsocketCommunicator(application, "/")
    noisy = WebsocketCommunicator(application, "/")
    for client in (calm, noisy):
        assert (await client.connect(timeout=5))[0]
        await client.receive_from(timeout=5)
    for garbage in ("{", "[]", '{"type": "print_status", "job_id": -1}', "x" * 1000):
        await noisy.send_to(text_data=garbage)
    await calm.send_json_to({"type": "ping"})
    assert (await calm.receive_json_from(timeout=5))["type"] == "pong"
    await calm.disconnect()
    await noisy.disconnect()


def admin_pages_render(admin_client, connection: PrinterConnection) -> bool:
    """The printer's page (its open sockets inline) and the socket's own page."""
    pages = [
        reverse("admin:printing_printerconfig_change", args=[connection.printer_id]),
        reverse("admin:printing_printerconnection_change", args=[connection.pk]),
    ]
    return all(admin_client.get(page).status_code == 200 for page in pages)


def assert_few_capped_fields(kept: dict) -> None:
    assert set(kept) <= set(protocol.PRINTER_INFO_FIELDS)
    assert (kept["name"], kept["paper_width"], kept["agent_version"]) == ("厨房打印机", 58, "1.0.0")
    assert all(isinstance(value, str | int | float | bool) for value in kept.values())
    assert len(json.dumps(kept)) < 2000


def printer_info_frame(extra: str) -> str:
    known = '"name": "厨房打印机", "paper_width": 58, "agent_version": "1.0.0"'
    return f'{{"type": "printer_info", "printer": {{{known}, {extra}}}}}'


async def test_a_64_kb_printer_info_is_kept_as_a_few_capped_fields(admin_client):
    await database_sync_to_async(PrinterConfig.objects.create)(name="厨房打印机")
    client = WebsocketCommunicator(application, "/")
    assert (await client.connect(timeout=5))[0]
    await client.receive_from(timeout=5)
    padding = {"padding": "珍" * 14_000, "notes": "m" * 20_000, "firmware": {"a": [1, 2]}}
    frame = printer_info_frame(json.dumps(padding, ensure_ascii=False)[1:-1])
    assert 60_000 < len(frame.encode()) < 65536
    await client.send_to(text_data=frame)
    assert json.loads(await client.receive_from(timeout=5))["type"] == "printer_info_ack"

    connection = await database_sync_to_async(PrinterConnection.objects.get)()
    assert_few_capped_fields(connection.printer_info)
    assert await database_sync_to_async(admin_pages_render)(admin_client, connection)
    await client.disconnect()


def test_a_950_deep_printer_info_is_kept_as_a_few_capped_fields(admin_client):
    # Parsed and stored as the consumer does (deeper inside a test's stack, the parse itself
    # would run out of recursion and be refused as invalid JSON).
    printer = PrinterConfig.objects.create(name="厨房打印机")
    server = ServerProcess.objects.create(hostname="h", pid=1, version="1", channel_layer="x")
    connection = PrinterConnection.objects.create(server=server)
    deep = '"nested": ' + "[" * 950 + "]" * 950 + ', "device": {"deep": [["x"]]}'
    info = protocol.parse_client_message(printer_info_frame(deep))

    identity = printer_connection_identify(connection_id=connection.pk, info=info)
    assert identity.printer == printer
    connection.refresh_from_db()
    assert_few_capped_fields(connection.printer_info)
    assert admin_pages_render(admin_client, connection)
