"""Alerts: each condition opens one alert and resolves it when it clears; two processes
open one, not two; a backlog is one alert; staff acknowledge; the alarm slip prints once."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.test import Client
from django.utils import timezone

from orders.models import Order
from orders.services import order_confirm, order_create
from printing.alerts import alerts_evaluate
from printing.delivery.frames import job_frame
from printing.models import Alert, PrinterConfig, PrinterConnection, PrintJob, ServerProcess
from tests.conftest import MILK_TEA

Kind = Alert.Kind
KEY = "alerts-test-key-0123456789abcdef"


def open_alerts() -> dict[str, Alert]:
    return {alert.kind: alert for alert in Alert.objects.filter(resolved_at=None)}


def aged(queryset, seconds: float) -> None:
    queryset.update(created_at=timezone.now() - timedelta(seconds=seconds))


def socket_for(printer: PrinterConfig, **fields) -> PrinterConnection:
    server = ServerProcess.objects.get_or_create(
        hostname="h", pid=1, version="1", channel_layer="x"
    )[0]
    return PrinterConnection.objects.create(server=server, printer=printer, **fields)


@pytest.fixture
def kitchen(db):
    return PrinterConfig.objects.create(name="厨房打印机")


@pytest.mark.django_db
def test_an_order_waiting_too_long_opens_an_alert_until_it_is_confirmed(settings):
    settings.ORDER_ALERT_AFTER = 120
    order = order_create(items=[MILK_TEA], order_type="delivery", delivery_platform="美团",
                         platform_order_no="12")  # fmt: skip
    alerts_evaluate()
    assert Kind.ORDER_WAITING not in open_alerts()
    aged(Order.objects.filter(pk=order.pk), 121)
    assert alerts_evaluate().opened == 1
    alert = open_alerts()[Kind.ORDER_WAITING]
    assert alert.order_id == order.pk
    assert alert.message == f"订单 #{order.pk}（美团 12） 等待确认"
    assert alert.severity == "order"
    order_confirm(order_id=order.pk)
    alerts_evaluate()
    alert.refresh_from_db()
    assert alert.resolved_at is not None


@pytest.mark.django_db
def test_a_backlog_of_stuck_tickets_is_one_alert_per_printer_naming_pickup_numbers(
    kitchen, settings
):
    settings.PRINT_ALERT_AFTER = 60
    socket_for(kitchen)  # heard now: online, so only the stuck tickets alert
    orders = [order_create(items=[MILK_TEA], confirm=True) for _ in range(12)]
    aged(PrintJob.objects.all(), 61)
    alerts_evaluate()
    stuck = Alert.objects.get(kind=Kind.JOB_STUCK, resolved_at=None)
    assert stuck.printer == kitchen
    assert len(stuck.job_ids) == 12
    assert stuck.message == "厨房打印机：001 002 003 004 005 等 12 单 未打印"
    assert set(open_alerts()) == {Kind.JOB_STUCK}
    # Printed: the condition clears.
    PrintJob.objects.filter(order__in=orders).update(status="completed")
    alerts_evaluate()
    stuck.refresh_from_db()
    assert stuck.resolved_at is not None


@pytest.mark.django_db
def test_a_thousand_waiting_jobs_make_one_alert_of_each_kind(kitchen, settings):
    settings.PRINT_ALERT_AFTER = 0
    order = order_create(items=[MILK_TEA], confirm=True)
    job = PrintJob.objects.get(order=order)
    PrintJob.objects.bulk_create(
        PrintJob(printer=kitchen, order=order, print_content="x") for _ in range(999)
    )
    assert PrintJob.objects.filter(printer=kitchen, status="pending").count() == 1000
    alerts_evaluate()
    kinds = list(Alert.objects.values_list("kind", flat=True))
    # Offline with jobs waiting, and the jobs not printed: one each, not a thousand.
    assert sorted(kinds) == [Kind.JOB_STUCK, Kind.PRINTER_OFFLINE]
    assert job.pk in open_alerts()[Kind.JOB_STUCK].job_ids


@pytest.mark.django_db
def test_a_failed_ticket_alerts_until_it_is_retried(kitchen):
    socket_for(kitchen)
    order = order_create(items=[MILK_TEA], confirm=True)
    PrintJob.objects.filter(order=order).update(status="failed", error_message="缺纸")
    alerts_evaluate()
    failed = open_alerts()[Kind.JOB_FAILED]
    assert failed.message == "厨房打印机：001 打印失败"
    assert failed.order_id == order.pk
    PrintJob.objects.filter(order=order).update(status="completed")
    alerts_evaluate()
    assert Kind.JOB_FAILED not in open_alerts()


@pytest.mark.django_db
def test_an_offline_printer_alerts_after_a_while_and_at_once_with_jobs_waiting(settings):
    settings.PRINT_ALERT_OFFLINE_AFTER = 60
    quiet = PrinterConfig.objects.create(name="吧台打印机")
    socket_for(quiet, last_seen=timezone.now() - timedelta(seconds=30), closed_at=timezone.now())
    alerts_evaluate()
    assert Kind.PRINTER_OFFLINE not in open_alerts()
    PrinterConnection.objects.update(last_seen=timezone.now() - timedelta(seconds=61))
    alerts_evaluate()
    assert open_alerts()[Kind.PRINTER_OFFLINE].message == "吧台打印机离线"
    # Back: a socket heard from now.
    socket_for(quiet)
    alerts_evaluate()
    assert Kind.PRINTER_OFFLINE not in open_alerts()
    # A disabled printer never alerts.
    PrinterConfig.objects.filter(pk=quiet.pk).update(is_active=False)
    PrinterConnection.objects.update(closed_at=timezone.now())
    alerts_evaluate()
    assert Kind.PRINTER_OFFLINE not in open_alerts()


@pytest.mark.django_db
def test_paper_out_from_a_network_probe_or_an_agents_report(kitchen):
    network = PrinterConfig.objects.create(
        name="吧台打印机",
        connection_type="network",
        ip_address="127.0.0.1",
        network_status="paper_out",
    )
    socket_for(kitchen, reported_status="cover_open")
    order_create(items=[MILK_TEA], confirm=True)
    alerts_evaluate()
    by_printer = {(a.kind, a.printer.name) for a in Alert.objects.filter(resolved_at=None)}
    assert (Kind.PAPER_OUT, "吧台打印机") in by_printer
    assert (Kind.COVER_OPEN, "厨房打印机") in by_printer
    cover = Alert.objects.get(kind=Kind.COVER_OPEN)
    assert cover.message == "厨房打印机纸仓盖打开：001 未打印"
    PrinterConfig.objects.filter(pk=network.pk).update(network_status="online")
    PrinterConnection.objects.update(reported_status="ready")
    alerts_evaluate()
    assert not Alert.objects.filter(kind__in=[Kind.PAPER_OUT, Kind.COVER_OPEN], resolved_at=None)


@pytest.mark.django_db(transaction=True)
def test_two_processes_evaluating_at_once_open_one_alert(settings):
    settings.ORDER_ALERT_AFTER = 0
    order_create(items=[MILK_TEA])
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def evaluate() -> None:
        try:
            barrier.wait(timeout=30)
            alerts_evaluate()
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    workers = [threading.Thread(target=evaluate) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not errors, errors
    assert Alert.objects.filter(kind=Kind.ORDER_WAITING).count() == 1


@pytest.mark.django_db
def test_the_api_lists_open_alerts_and_staff_acknowledge_them(admin_user, settings):
    settings.PRINT_API_KEYS = [KEY]
    settings.ORDER_ALERT_AFTER = 0
    order_create(items=[MILK_TEA])
    alerts_evaluate()
    api = Client(HTTP_AUTHORIZATION=f"Bearer {KEY}")
    [listed] = api.get("/api/alerts").json()["alerts"]
    assert listed["kind"] == "order_waiting"
    assert listed["severity"] == "order"
    assert listed["acknowledged"] is False
    assert Client().get("/api/alerts").status_code == 401
    staff = Client()
    staff.force_login(admin_user)
    assert staff.get("/api/alerts").json()["alerts"][0]["id"] == listed["id"]
    response = staff.post(f"/api/alerts/{listed['id']}/ack")
    assert response.json() == {"id": listed["id"], "acknowledged": True}
    alert = Alert.objects.get(pk=listed["id"])
    assert alert.acknowledged_by == f"staff:{admin_user.username}"
    # Silenced, still open until the order is confirmed.
    assert alert.resolved_at is None
    assert api.get("/api/alerts").json()["alerts"][0]["acknowledged"] is True
    assert staff.post("/api/alerts/999999/ack").status_code == 404


@pytest.mark.django_db
def test_a_stations_paper_out_prints_one_alarm_slip_with_the_buzzer(kitchen):
    counter = PrinterConfig.objects.create(name="收银台打印机", auto_print_orders=False)
    PrinterConfig.objects.filter(pk=kitchen.pk).update(
        role="station", alarm_printer=counter, connection_type="network",
        ip_address="127.0.0.1", network_status="paper_out",
    )  # fmt: skip
    order_create(items=[MILK_TEA], confirm=True)
    alerts_evaluate()
    alerts_evaluate()
    [slip] = PrintJob.objects.filter(job_type=PrintJob.JobType.ALARM)
    assert slip.printer == counter
    assert "厨房打印机缺纸：001 未打印" in slip.print_content
    assert Alert.objects.get(kind=Kind.PAPER_OUT).alarm_job == slip
    frame = json.loads(job_frame(slip, attempt=1))["order"]
    assert frame["printer_config"]["buzzer"] is True
    # A slip is not itself a ticket that can be stuck.
    assert all(slip.pk not in alert.job_ids for alert in Alert.objects.all())


@pytest.mark.django_db
def test_a_receipt_printer_has_no_alarm_slip(kitchen):
    counter = PrinterConfig.objects.create(name="收银台打印机", auto_print_orders=False)
    PrinterConfig.objects.filter(pk=kitchen.pk).update(
        alarm_printer=counter, connection_type="network", ip_address="127.0.0.1",
        network_status="paper_out",
    )  # fmt: skip
    alerts_evaluate()
    assert not PrintJob.objects.filter(job_type=PrintJob.JobType.ALARM).exists()


@pytest.mark.django_db(transaction=True)
async def test_a_running_server_opens_and_resolves_an_alert_from_real_sockets(print_server):
    from channels.db import database_sync_to_async

    from printing import protocol
    from tests.helpers import (
        confirmed_order,
        create_printer,
        eventually,
        next_message,
        printer_client,
    )

    await create_printer("厨房打印机")
    server = print_server(PRINT_ALERT_AFTER="1", PRINT_ACK_TIMEOUT="60")
    ws = await printer_client(server.ws_url, "厨房打印机")
    order = await confirmed_order()
    message = await next_message(ws, "new_order")

    def stuck() -> Alert | None:
        return Alert.objects.filter(kind=Kind.JOB_STUCK, resolved_at=None).first()

    # The client has the ticket and says nothing: a second later it is not printed.
    alert = await eventually(stuck)
    assert alert.message == "厨房打印机：001 未打印"
    assert alert.job_ids == [message["order"]["job_id"]]
    await ws.send(
        json.dumps(protocol.print_status(job_id=message["order"]["job_id"], status="completed"))
    )
    await eventually(lambda: Alert.objects.get(pk=alert.pk).resolved_at is not None)
    assert await database_sync_to_async(Order.objects.filter(pk=order.pk).exists)()
    await ws.close()
