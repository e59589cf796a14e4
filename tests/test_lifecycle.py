"""The job state machine against the database: every change recorded, stale reports ignored,
timeouts, retries, expiry, cancel and retry, and sweeps that several processes share."""

import json
import os
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from orders.models import Order
from orders.services import order_confirm
from printing import protocol
from printing.delivery.claims import jobs_claim_and_load, jobs_waiting
from printing.delivery.frames import job_frame
from printing.delivery.housekeeping import jobs_failover, jobs_maintain
from printing.delivery.presence import server_processes_reap
from printing.delivery.reports import Report, reports_apply, retry_backoff
from printing.models import PrinterConfig, PrinterConnection, PrintJob, PrintJobEvent, ServerProcess
from printing.services import print_job_cancel, print_job_retry
from tests.helpers import failing_job_inserts
from tests.support import ROOT

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def socket_row(make_printer):
    """A printer and an open connection bound to it, as a connected client would have."""
    printer = make_printer("厨房打印机")
    server = ServerProcess.objects.create(hostname="h", pid=1, version="1", channel_layer="x")
    return PrinterConnection.objects.create(server=server, printer=printer)


@pytest.fixture
def sent_job(socket_row, make_order):
    """A confirmed order's job, offered to the socket."""
    order = make_order(confirm=True)
    job = PrintJob.objects.get(order=order)
    jobs_claim_and_load(claims={socket_row.pk: [job.pk]}, job_ids=[job.pk])
    job.refresh_from_db()
    assert job.status == "sent"
    return job


def report(job, status, socket_row, message="", *, printer_id=None):
    """A client's print_status from the socket, as the dispatcher's recorder applies it; the
    socket was sent the job's current attempt, as the dispatcher's book would say."""
    job_id = job if isinstance(job, int) else job.pk
    offered = PrintJob.objects.filter(pk=job_id).values_list("delivery_attempts", flat=True)
    [result] = reports_apply(
        [
            Report(
                job_id=job_id,
                status=status,
                message=message,
                connection_id=socket_row.pk,
                printer_id=printer_id or socket_row.printer_id,
                offered_attempt=offered.first(),
            )
        ]
    )
    return result


def history(job) -> list[tuple[str, str, str]]:
    return list(
        PrintJobEvent.objects.filter(job=job).values_list("event", "from_status", "to_status")
    )


def test_every_change_is_recorded_with_who_and_which_socket(sent_job, socket_row):
    report(sent_job, "received", socket_row)
    report(sent_job, "printing", socket_row)
    report(sent_job, "completed", socket_row, "打印成功")
    assert history(sent_job) == [
        ("created", "", "pending"),
        ("sent", "pending", "sent"),
        ("received", "sent", "sent"),
        ("printing", "sent", "printing"),
        ("completed", "printing", "completed"),
    ]
    last = PrintJobEvent.objects.filter(job=sent_job).last()
    assert last.actor == "client"
    assert last.connection_id == socket_row.pk
    assert last.attempt == 1
    assert last.message == "打印成功"


def test_received_keeps_the_job_sent_and_restarts_the_ack_clock(sent_job, socket_row, settings):
    settings.PRINT_ACK_TIMEOUT = 30
    PrintJob.objects.filter(pk=sent_job.pk).update(sent_at=timezone.now() - timedelta(seconds=60))
    report(sent_job, "received", socket_row)
    jobs_maintain()
    sent_job.refresh_from_db()
    assert sent_job.status == "sent"
    assert sent_job.received_at is not None


def test_a_job_nobody_acknowledges_goes_back_to_the_queue(sent_job, settings):
    settings.PRINT_ACK_TIMEOUT = 30
    PrintJob.objects.filter(pk=sent_job.pk).update(sent_at=timezone.now() - timedelta(seconds=31))
    assert jobs_maintain() == 1
    sent_job.refresh_from_db()
    assert sent_job.status == "pending"
    assert sent_job.retry_count == 0
    assert history(sent_job)[-1] == ("ack_timeout", "sent", "pending")


def test_a_re_offer_counts_as_a_delivery_attempt(sent_job, socket_row):
    PrintJob.objects.filter(pk=sent_job.pk).update(status="pending")
    jobs = jobs_claim_and_load(claims={socket_row.pk: [sent_job.pk]}, job_ids=[sent_job.pk])
    assert jobs[sent_job.pk].delivery_attempts == 2
    assert PrintJobEvent.objects.filter(job=sent_job).last().attempt == 2


def printing_since(job, seconds: float, **fields) -> None:
    """The job reported `printing` this long ago and nothing since."""
    started = timezone.now() - timedelta(seconds=seconds)
    PrintJob.objects.filter(pk=job.pk).update(status="printing", started_at=started, **fields)


def test_a_job_printing_too_long_goes_back_to_the_queue_marked_possible_duplicate(
    sent_job, socket_row, settings
):
    settings.PRINT_PRINTING_TIMEOUT = 300
    printing_since(sent_job, 299)
    assert jobs_maintain() == 0
    printing_since(sent_job, 301)
    assert jobs_maintain() == 1
    sent_job.refresh_from_db()
    assert (sent_job.status, sent_job.sent_connection_id) == ("pending", None)
    assert history(sent_job)[-1] == ("printing_timeout", "printing", "pending")

    jobs = jobs_claim_and_load(claims={socket_row.pk: [sent_job.pk]}, job_ids=[sent_job.pk])
    order = json.loads(job_frame(jobs[sent_job.pk], attempt=2))["order"]
    assert (order["attempt"], order["possible_duplicate"]) == (2, True)


def test_a_job_printing_too_long_that_was_queued_too_long_ago_expires(sent_job, settings):
    settings.PRINT_PRINTING_TIMEOUT = 300
    printing_since(sent_job, 301, queued_at=timezone.now() - timedelta(hours=2))
    jobs_maintain()
    sent_job.refresh_from_db()
    assert sent_job.status == "expired"
    assert [event for event, _, _ in history(sent_job)][-2:] == ["printing_timeout", "expired"]


def test_a_job_printing_too_long_on_a_silent_printer_fails_over(
    sent_job, socket_row, make_printer, settings
):
    settings.PRINT_PRINTING_TIMEOUT = 300
    backup = make_printer("收银台打印机", auto_print_orders=False)
    PrinterConfig.objects.filter(pk=socket_row.printer_id).update(backup_printer=backup)
    # The socket holding it is still open, but has not been heard from for an hour.
    PrinterConnection.objects.filter(pk=socket_row.pk).update(
        last_seen=timezone.now() - timedelta(hours=1)
    )
    printing_since(sent_job, 301, queued_at=timezone.now() - timedelta(minutes=10))
    jobs_maintain()
    assert jobs_failover() == 1
    sent_job.refresh_from_db()
    assert (sent_job.status, sent_job.printer_id) == ("pending", backup.pk)
    assert sent_job.started_at is not None


def test_a_job_that_failed_is_not_a_possible_duplicate(sent_job, socket_row):
    report(sent_job, "printing", socket_row)
    report(sent_job, "failed", socket_row, "缺纸")
    PrintJob.objects.filter(pk=sent_job.pk).update(not_before=None)
    jobs = jobs_claim_and_load(claims={socket_row.pk: [sent_job.pk]}, job_ids=[sent_job.pk])
    assert (
        json.loads(job_frame(jobs[sent_job.pk], attempt=2))["order"]["possible_duplicate"] is False
    )


def test_the_printing_timeout_is_read_strictly_from_the_environment():
    def setting(value: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", "import shop.settings as s; print(s.PRINT_PRINTING_TIMEOUT)"],
            cwd=ROOT,
            env={**os.environ, "PRINT_PRINTING_TIMEOUT": value},
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert setting("").stdout.strip() == "300.0"
    assert setting("45").stdout.strip() == "45.0"
    bad = setting("5 minutes")
    assert bad.returncode != 0
    assert "PRINT_PRINTING_TIMEOUT" in bad.stderr


@pytest.mark.parametrize(("failures", "seconds"), [(1, 5), (2, 10), (3, 20), (4, 40), (9, 60)])
def test_backoff_doubles_and_is_capped(failures, seconds):
    assert retry_backoff(failures) == seconds


def test_a_failure_is_retried_after_the_backoff(sent_job, socket_row):
    before = timezone.now()
    outcome = report(sent_job, "failed", socket_row, "缺纸 / paper out")
    sent_job.refresh_from_db()
    assert outcome.applied
    assert sent_job.status == "pending"
    assert sent_job.retry_count == 1
    assert sent_job.error_message == "缺纸 / paper out"
    assert sent_job.not_before >= before + timedelta(seconds=5)
    # Not offered until the backoff is over.
    assert sent_job.pk not in [pk for pk, _, _ in jobs_waiting(printer_ids=[socket_row.printer_id])]
    PrintJob.objects.filter(pk=sent_job.pk).update(not_before=timezone.now())
    assert sent_job.pk in [pk for pk, _, _ in jobs_waiting(printer_ids=[socket_row.printer_id])]


def test_at_max_retries_the_job_fails_with_the_last_error(sent_job, socket_row):
    for attempt in range(3):
        if attempt:
            # The backoff is over: the job is offered again, a new attempt.
            PrintJob.objects.filter(pk=sent_job.pk).update(not_before=None)
            jobs_claim_and_load(claims={socket_row.pk: [sent_job.pk]}, job_ids=[sent_job.pk])
        report(sent_job, "failed", socket_row, f"error {attempt}")
    sent_job.refresh_from_db()
    assert sent_job.status == "failed"
    assert sent_job.retry_count == 3
    assert sent_job.error_message == "error 2"
    assert [event for event in history(sent_job) if event[0] == "failed"] == [
        ("failed", "sent", "pending"),
        ("failed", "sent", "pending"),
        ("failed", "sent", "failed"),
    ]


@pytest.mark.parametrize(
    ("first", "then", "final"),
    [
        ("completed", "failed", "completed"),
        ("completed", "completed", "completed"),
        ("completed", "printing", "completed"),
        ("completed", "received", "completed"),
    ],
)
def test_stale_and_repeated_reports_change_nothing(sent_job, socket_row, first, then, final):
    report(sent_job, first, socket_row)
    events = PrintJobEvent.objects.count()
    outcome = report(sent_job, then, socket_row)
    sent_job.refresh_from_db()
    assert not outcome.applied
    assert sent_job.status == final
    assert PrintJobEvent.objects.count() == events


def test_reports_about_unknown_or_foreign_jobs_get_one_answer(sent_job, socket_row, make_printer):
    unknown = report(sent_job.pk + 1000, "completed", socket_row)
    other = make_printer("收银台打印机")
    foreign = report(sent_job, "completed", socket_row, printer_id=other.pk)
    # Which job ids exist is not given away: another printer's job looks like no job.
    assert isinstance(unknown, protocol.ProtocolError)
    assert isinstance(foreign, protocol.ProtocolError)
    assert (unknown.code, foreign.code) == ("unknown_job", "unknown_job")
    assert unknown.message.replace(str(sent_job.pk + 1000), "N") == foreign.message.replace(
        str(sent_job.pk), "N"
    )
    sent_job.refresh_from_db()
    assert sent_job.status == "sent"


def test_an_undelivered_job_expires_and_staff_can_still_print_it(socket_row, make_order):
    order = make_order(confirm=True)
    job = PrintJob.objects.get(order=order)
    PrintJob.objects.filter(pk=job.pk).update(queued_at=timezone.now() - timedelta(minutes=61))
    jobs_maintain()
    job.refresh_from_db()
    assert job.status == "expired"
    assert "not delivered" in job.error_message

    assert print_job_retry(job_id=job.pk, actor="staff:alice")
    job.refresh_from_db()
    assert job.status == "pending"
    assert job.queued_at > timezone.now() - timedelta(seconds=5)
    jobs_maintain()
    job.refresh_from_db()
    assert job.status == "pending"
    assert history(job)[-1] == ("retried", "expired", "pending")
    assert PrintJobEvent.objects.filter(job=job).last().actor == "staff:alice"


@pytest.mark.parametrize(
    ("status", "cancellable"),
    [("pending", True), ("sent", True), ("printing", False), ("completed", False)],
)
def test_only_jobs_not_yet_printing_can_be_cancelled(sent_job, status, cancellable):
    PrintJob.objects.filter(pk=sent_job.pk).update(status=status)
    assert print_job_cancel(job_id=sent_job.pk, actor="staff:alice") is cancellable
    sent_job.refresh_from_db()
    assert sent_job.status == ("cancelled" if cancellable else status)


def test_a_report_after_cancel_is_ignored(sent_job, socket_row):
    print_job_cancel(job_id=sent_job.pk, actor="staff:alice")
    assert not report(sent_job, "completed", socket_row).applied
    sent_job.refresh_from_db()
    assert sent_job.status == "cancelled"


@pytest.mark.parametrize("status", ["failed", "expired", "cancelled"])
def test_retry_puts_a_finished_job_back_with_a_fresh_budget(sent_job, status):
    PrintJob.objects.filter(pk=sent_job.pk).update(status=status, retry_count=3)
    assert print_job_retry(job_id=sent_job.pk, actor="staff:alice")
    sent_job.refresh_from_db()
    assert sent_job.status == "pending"
    assert sent_job.retry_count == 0


def test_a_completed_job_is_not_retried(sent_job, socket_row):
    report(sent_job, "completed", socket_row)
    assert not print_job_retry(job_id=sent_job.pk, actor="staff:alice")


def run_at_once(count: int, work) -> list:
    """Run `work(i)` in `count` threads released together; each has its own DB connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_two_staff_confirming_at_once_print_one_set(make_printer, make_order):
    make_printer("厨房打印机")
    make_printer("收银台打印机")
    order = make_order()
    run_at_once(4, lambda i: order_confirm(order_id=order.pk))
    assert PrintJob.objects.filter(order=order).count() == 2


def test_two_stale_saves_of_the_same_confirmation_print_one_set(make_printer, make_order):
    make_printer("厨房打印机")
    order = make_order()
    copies = [Order.objects.get(pk=order.pk) for _ in range(4)]

    def confirm(i: int) -> None:
        copies[i].status = "confirmed"
        copies[i].save()

    run_at_once(4, confirm)
    assert PrintJob.objects.filter(order=order).count() == 1


def test_sweeps_running_at_once_move_each_job_once(socket_row, make_order, settings):
    settings.PRINT_ACK_TIMEOUT = 30
    jobs = []
    for _ in range(20):
        job = PrintJob.objects.get(order=make_order(confirm=True))
        jobs.append(job.pk)
    jobs_claim_and_load(claims={socket_row.pk: jobs}, job_ids=jobs)
    PrintJob.objects.filter(pk__in=jobs).update(sent_at=timezone.now() - timedelta(minutes=1))

    moved = run_at_once(4, lambda i: jobs_maintain())

    assert sum(moved) == 20
    assert PrintJobEvent.objects.filter(job_id__in=jobs, event="ack_timeout").count() == 20


def test_a_heartbeat_reaps_a_silent_process_of_this_host_but_not_a_live_one_elsewhere():
    # A process on this host's name whose pid means nothing here: another container on the
    # host network, alive and beating, or a process killed with kill -9 that fell silent.
    import socket as sockets

    def process(**fields) -> ServerProcess:
        return ServerProcess.objects.create(
            hostname=sockets.gethostname(), pid=2**22 + 7, version="1", channel_layer="x", **fields
        )

    beating = process()
    silent = process(last_seen=timezone.now() - timedelta(minutes=1))

    server_processes_reap()

    beating.refresh_from_db()
    silent.refresh_from_db()
    assert beating.stopped_at is None
    assert silent.stopped_at is not None


def test_an_online_printers_job_waiting_out_a_backoff_stays_until_the_printer_goes_offline(
    socket_row, make_order, make_printer, settings
):
    """A job pending past the failover delay while its printer is online (it failed once and
    waits out its retry backoff, up to 60 s against a 20 s delay) stays with that printer;
    once the printer goes offline it moves to the backup."""
    settings.PRINT_FAILOVER_AFTER = 20
    backup = make_printer("收银台打印机", auto_print_orders=False)
    PrinterConfig.objects.filter(pk=socket_row.printer_id).update(backup_printer=backup)
    job = PrintJob.objects.get(order=make_order(confirm=True))
    now = timezone.now()
    PrintJob.objects.filter(pk=job.pk).update(
        retry_count=1, queued_at=now - timedelta(seconds=45), not_before=now + timedelta(seconds=15)
    )
    assert jobs_failover() == 0
    job.refresh_from_db()
    assert (job.status, job.printer_id, job.failover_from_id) == (
        "pending",
        socket_row.printer_id,
        None,
    )

    PrinterConnection.objects.filter(pk=socket_row.pk).update(closed_at=timezone.now())
    assert jobs_failover() == 1
    job.refresh_from_db()
    assert (job.printer_id, job.failover_from_id) == (backup.pk, socket_row.printer_id)


def test_a_plain_save_confirming_an_order_is_undone_when_its_jobs_cannot_be_written(
    make_printer, make_order
):
    """Outside any transaction of the caller's (a shell, a script): the order and its jobs
    commit together or not at all, so no order is left confirmed with no receipt."""
    make_printer("收银台打印机")
    order = make_order()

    assert not connection.in_atomic_block
    order.status = Order.Status.CONFIRMED
    with pytest.raises(DatabaseError), connection.execute_wrapper(failing_job_inserts):
        order.save()
    order.refresh_from_db()
    assert (order.status, order.confirmed_at, order.pickup_number) == ("pending", None, "")
    assert not PrintJob.objects.filter(order=order).exists()

    order.status = Order.Status.CONFIRMED
    order.save()
    assert PrintJob.objects.filter(order=order).count() == 1
