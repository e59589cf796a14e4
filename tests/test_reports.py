"""Which socket may report what about which job: the decisions with plain data, then the
same rules through the consumer (refusals answered and counted as bad messages)."""

from datetime import datetime, timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from printing import protocol
from printing.delivery.reports import Report, report_refusal, report_transition
from printing.models import PrintJob, PrintJobEvent
from tests.test_consumer import confirmed_order, connect, create_printer, eventually, job, receive

NOW = datetime(2025, 7, 14, 10, 30)
KITCHEN, CASHIER = 7, 8
HOLDER, STRANGER, ALSO_SENT, EARLIER = 10, 11, 12, 13
STATUSES = ("received", "printing", "completed", "failed")


def row(**fields) -> dict:
    """A kitchen job at its second attempt, sent to socket HOLDER."""
    return {
        "id": 1,
        "status": "sent",
        "order_id": None,
        "printer_id": KITCHEN,
        "delivery_attempts": 2,
        "retry_count": 0,
        "max_retries": 3,
        "started_at": None,
        "sent_connection_id": HOLDER,
        "attempt_failed": False,
        **fields,
    }


def from_socket(connection_id, status, *, printer_id=KITCHEN, offered=None) -> Report:
    return Report(
        job_id=1,
        status=status,
        connection_id=connection_id,
        printer_id=printer_id,
        offered_attempt=offered,
    )


def code(report, job_row) -> str | None:
    refused = report_refusal(report, job_row)
    return refused.code if refused else None


@pytest.mark.parametrize("status", STATUSES)
def test_the_socket_holding_the_job_may_report_anything(status):
    assert code(from_socket(HOLDER, status, offered=2), row()) is None
    # Even one the book forgot: the database says it holds the job.
    assert code(from_socket(HOLDER, status), row()) is None


@pytest.mark.parametrize("status", STATUSES)
def test_every_socket_sent_the_current_attempt_may_report_anything(status):
    # A job addressed to no printer goes to every socket; so does a sent job to a printer's
    # second socket.
    assert code(from_socket(ALSO_SENT, status, offered=2), row()) is None
    assert code(from_socket(ALSO_SENT, status, offered=2), row(printer_id=None)) is None


@pytest.mark.parametrize("status", STATUSES)
def test_a_socket_of_the_printer_never_sent_the_job_is_refused(status):
    assert code(from_socket(STRANGER, status), row()) == "wrong_socket"
    assert code(from_socket(STRANGER, status), row(status="pending", sent_connection_id=None)) == (
        "wrong_socket"
    )
    assert code(from_socket(STRANGER, status, printer_id=None), row(printer_id=None)) == (
        "wrong_socket"
    )


def test_a_socket_sent_an_earlier_attempt_may_only_say_it_completed_that_one():
    # Attempt 1 went to EARLIER; the job was offered again (attempt 2, to HOLDER).
    assert code(from_socket(EARLIER, "completed", offered=1), row()) is None
    assert code(from_socket(EARLIER, "completed", offered=1), row(status="printing")) is None
    for status in ("received", "printing", "failed"):
        assert code(from_socket(EARLIER, status, offered=1), row()) == "wrong_socket"


def test_another_printers_job_and_a_job_that_does_not_exist_get_the_same_answer():
    foreign = report_refusal(from_socket(STRANGER, "completed", printer_id=CASHIER), row())
    missing = report_refusal(from_socket(STRANGER, "completed", printer_id=CASHIER), None)
    assert foreign.as_message() | {"timestamp": ""} == missing.as_message() | {"timestamp": ""}
    assert foreign.code == "unknown_job"
    # Having been sent it once does not matter: it is not this printer's job.
    sent_once = from_socket(HOLDER, "completed", printer_id=CASHIER, offered=2)
    assert code(sent_once, row()) == "unknown_job"


def test_the_servers_own_network_print_is_believed():
    network = Report(job_id=1, status="failed", actor="server:network", check_printer=False)
    assert report_refusal(network, row(sent_connection_id=None)) is None


@pytest.mark.parametrize("status", ["printing", "failed"])
def test_an_attempt_fails_at_most_once(status):
    after_failure = row(status="pending", retry_count=1, attempt_failed=True)
    assert report_transition(after_failure, from_socket(HOLDER, status), NOW) is None
    # The next attempt may fail again.
    first = report_transition(row(), from_socket(HOLDER, "failed"), NOW)
    assert (first.to, first.changes["retry_count"]) == ("pending", 1)
    assert first.changes["not_before"] == NOW + timedelta(seconds=5)


# Through the consumer


async def settle(client) -> None:
    """A ping's pong: every report sent before it has been handled."""
    await client.send_json_to(protocol.ping())
    await receive(client, "pong")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("dispatcher")
async def test_reports_on_a_job_never_sent_to_the_socket_are_refused_and_counted(settings):
    settings.PRINT_MAX_BAD_MESSAGES = 2
    await create_printer("厨房打印机")
    order = await confirmed_order()
    # Waiting out a backoff: the job is the printer's, but not offered to anyone.
    later = timezone.now() + timedelta(hours=1)
    await database_sync_to_async(PrintJob.objects.filter(order=order).update)(not_before=later)
    before = await job(order=order)
    client = await connect(printer="厨房打印机")

    for status in ("completed", "printing"):
        await client.send_json_to(protocol.print_status(job_id=before.pk, status=status))
        error = await receive(client, "error")
        assert (error["code"], error["job_id"]) == ("wrong_socket", before.pk)
    after = await job(order=order)
    assert (after.status, after.started_at, after.completed_at) == ("pending", None, None)
    await client.send_json_to(protocol.print_status(job_id=before.pk, status="failed"))
    assert (await receive(client, "error"))["code"] == "wrong_socket"
    closed = await client.receive_output(timeout=5)
    assert (closed["type"], closed["code"]) == ("websocket.close", 1008)
    assert (await job(order=order)).retry_count == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("dispatcher")
async def test_probing_job_ids_gets_one_answer_and_is_counted(settings):
    settings.PRINT_MAX_BAD_MESSAGES = 2
    await create_printer("厨房打印机")
    kitchen_job = await job(order=await confirmed_order())
    stranger = await connect(printer="路人")

    answers = []
    for job_id in (kitchen_job.pk, 10**9, kitchen_job.pk + 1):
        await stranger.send_json_to(protocol.print_status(job_id=job_id, status="completed"))
        error = await receive(stranger, "error")
        answers.append((error["code"], error["message"].replace(str(job_id), "N")))
    assert len(set(answers)) == 1
    assert answers[0][0] == "unknown_job"
    closed = await stranger.receive_output(timeout=5)
    assert (closed["type"], closed["code"]) == ("websocket.close", 1008)
    assert (await job(pk=kitchen_job.pk)).status == "pending"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("dispatcher")
async def test_a_replayed_failure_counts_once_and_keeps_its_backoff():
    await create_printer("厨房打印机")
    client = await connect(printer="厨房打印机")
    order = await confirmed_order()
    job_id = (await receive(client, "new_order"))["order"]["job_id"]
    await eventually(order=order, status="sent")

    await client.send_json_to(protocol.print_status(job_id=job_id, status="failed", message="缺纸"))
    await settle(client)
    first = await job(pk=job_id)
    for status in ("failed", "printing", "failed"):
        await client.send_json_to(protocol.print_status(job_id=job_id, status=status))
    await settle(client)

    replayed = await job(pk=job_id)
    assert (replayed.status, replayed.retry_count) == ("pending", 1)
    assert replayed.not_before == first.not_before > timezone.now()
    failures = PrintJobEvent.objects.filter(job_id=job_id, event="failed")
    assert await database_sync_to_async(failures.count)() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("dispatcher")
async def test_a_job_offered_again_after_a_reconnect_is_reported_as_usual():
    await create_printer("厨房打印机")
    first = await connect(printer="厨房打印机")
    order = await confirmed_order()
    await receive(first, "new_order")
    await eventually(order=order, status="sent")
    await first.disconnect()

    second = await connect(printer="厨房打印机")
    again = (await receive(second, "new_order"))["order"]
    assert again["attempt"] == 2
    for status in ("received", "printing", "completed"):
        await second.send_json_to(protocol.print_status(job_id=again["job_id"], status=status))
    await settle(second)
    assert await second.receive_nothing(timeout=0.2)
    assert (await job(order=order)).status == "completed"
    await second.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("dispatcher")
async def test_two_sockets_of_a_printer_both_sent_a_job_may_both_report_it():
    await create_printer("厨房打印机")
    first = await connect(printer="厨房打印机")
    order = await confirmed_order()
    job_id = (await receive(first, "new_order"))["order"]["job_id"]
    await eventually(order=order, status="sent")
    second = await connect(printer="厨房打印机")
    assert (await receive(second, "new_order"))["order"]["job_id"] == job_id

    await second.send_json_to(protocol.print_status(job_id=job_id, status="printing"))
    await settle(second)
    await first.send_json_to(protocol.print_status(job_id=job_id, status="completed"))
    await settle(first)
    for client in (first, second):
        assert await client.receive_nothing(timeout=0.1)
        await client.disconnect()
    assert (await job(order=order)).status == "completed"
