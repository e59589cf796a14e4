"""The statements a flow costs do not grow with its size: confirming 100 orders costs what
confirming one does, and so do a sweep of a big backlog and a big batch of reports."""

import pytest

from integrations.models import WebhookDelivery, WebhookEndpoint
from orders.services import order_confirm, order_create, orders_confirm
from printing.delivery.claims import jobs_claim_and_load, jobs_waiting
from printing.delivery.recorder import batch_write
from printing.delivery.reports import Report, StatusOutcome
from printing.models import PrinterConnection, PrintJob, ServerProcess

pytestmark = pytest.mark.django_db

# Read the order items with their categories, the printers, the printers' categories; insert
# the jobs, insert their events.
ENQUEUE_STATEMENTS = 5
# Read the waiting jobs; claim them (lock, one UPDATE, the events); load them.
SWEEP_STATEMENTS = 5
# Lock the jobs, one UPDATE for the jobs that moved alike, the events.
REPORT_STATEMENTS = 3
# A job finishing (completed, failed, expired) also asks which webhook endpoints want it; when
# one does, the jobs are read for the payloads and the deliveries inserted.
FINISHED_STATEMENTS = 1
TOLD_STATEMENTS = 2


@pytest.fixture
def printers(make_printer):
    return [make_printer("收银台打印机"), make_printer("厨房打印机")]


@pytest.fixture
def socket_row(printers):
    server = ServerProcess.objects.create(hostname="h", pid=1, version="1", channel_layer="x")
    return PrinterConnection.objects.create(server=server, printer=printers[0])


def pending_orders(count: int) -> list[int]:
    items = [{"name": "珍珠奶茶", "quantity": 2, "unit_price": "12.00"}, {"name": "柠檬茶"}]
    return [order_create(items=items).pk for _ in range(count)]


@pytest.mark.parametrize("count", [1, 100])
def test_confirming_1_or_100_orders_writes_their_jobs_in_the_same_statements(
    printers, count, django_assert_num_queries
):
    order_ids = pending_orders(count)
    # The confirmation itself: lock the pending orders, read the ticket text, take the pickup
    # numbers (one upsert), one UPDATE; then the jobs.
    with django_assert_num_queries(4 + ENQUEUE_STATEMENTS):
        assert len(orders_confirm(order_ids=order_ids)) == count
    assert PrintJob.objects.filter(order_id__in=order_ids).count() == 2 * count


@pytest.mark.parametrize("waiting", [1, 500])
def test_a_sweep_of_1_or_500_waiting_jobs_costs_the_same_statements(
    printers, socket_row, waiting, django_assert_num_queries
):
    PrintJob.objects.bulk_create(
        PrintJob(printer=printers[0], print_content=f"job {n}\n") for n in range(waiting)
    )
    with django_assert_num_queries(SWEEP_STATEMENTS):
        rows = jobs_waiting(printer_ids=[printers[0].pk])
        ids = [job_id for job_id, _, _ in rows]
        jobs = jobs_claim_and_load(claims={socket_row.pk: ids}, job_ids=ids)
    assert len(jobs) == waiting
    assert {job.status for job in jobs.values()} == {"sent"}


@pytest.mark.parametrize("status", ["printing", "completed"])
@pytest.mark.parametrize("reports", [1, 200])
def test_a_batch_of_1_or_200_client_reports_costs_the_same_statements(
    printers, socket_row, reports, status, django_assert_num_queries
):
    PrintJob.objects.bulk_create(
        PrintJob(
            printer=printers[0],
            print_content=f"job {n}\n",
            status="sent",
            sent_connection=socket_row,
            delivery_attempts=1,
        )
        for n in range(reports)
    )
    ids = list(PrintJob.objects.values_list("pk", flat=True))
    batch = [
        Report(
            job_id=job_id,
            status=status,
            connection_id=socket_row.pk,
            printer_id=printers[0].pk,
        )
        for job_id in ids
    ]
    finished = FINISHED_STATEMENTS if status == "completed" else 0
    with django_assert_num_queries(REPORT_STATEMENTS + finished):
        results = batch_write(sent={}, reports=batch)
    assert results == [StatusOutcome(applied=True, job_status=status)] * reports
    assert set(PrintJob.objects.values_list("status", flat=True)) == {status}


def test_confirming_through_the_service_writes_the_jobs_once_without_the_save_adapter(
    printers, django_assert_num_queries
):
    [order_id] = pending_orders(1)
    # Lock the order, the ticket text, the pickup number, one UPDATE, the jobs: the post_save
    # adapter (for a shell's order.save()) would lock and look again.
    with django_assert_num_queries(4 + ENQUEUE_STATEMENTS):
        order = order_confirm(order_id=order_id)
    assert order.status == "confirmed"
    assert order.confirmed_at is not None
    assert PrintJob.objects.filter(order_id=order_id).count() == len(printers)


@pytest.mark.parametrize("reports", [1, 200])
def test_telling_webhooks_about_1_or_200_printed_jobs_costs_the_same_statements(
    printers, socket_row, reports, django_assert_num_queries
):
    WebhookEndpoint.objects.create(url="http://h/x", secret="s" * 16, events=["job.completed"])
    PrintJob.objects.bulk_create(
        PrintJob(printer=printers[0], print_content=f"job {n}\n", status="sent",
                 sent_connection=socket_row, delivery_attempts=1)
        for n in range(reports)
    )  # fmt: skip
    batch = [
        Report(job_id=pk, status="completed", connection_id=socket_row.pk,
               printer_id=printers[0].pk)
        for pk in PrintJob.objects.values_list("pk", flat=True)
    ]  # fmt: skip
    with django_assert_num_queries(REPORT_STATEMENTS + FINISHED_STATEMENTS + TOLD_STATEMENTS):
        batch_write(sent={}, reports=batch)
    assert WebhookDelivery.objects.filter(event="job.completed").count() == reports
