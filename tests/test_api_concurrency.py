"""Retries racing each other: an integration whose request timed out sends it again while
the first is still running, to whichever server process the load balancer picks.

Runs in both passes of make test: on SQLite here, on PostgreSQL in the second pass (two
processes' transactions really overlap there).
"""

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from orders.models import Category, Order
from printing.models import PrinterConfig, PrintJob
from tests.api_client import KEY, order_body

pytestmark = pytest.mark.django_db(transaction=True)


def post(base: str, path: str, body: dict, *, idempotency_key: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json",
                 "Idempotency-Key": idempotency_key},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def test_ten_concurrent_retries_with_one_key_make_one_order_and_one_set_of_tickets(print_server):
    for name in ("奶茶", "小食"):
        Category.objects.create(name=name)
    PrinterConfig.objects.create(name="收银台", role=PrinterConfig.Role.RECEIPT)
    station = PrinterConfig.objects.create(name="制作台", role=PrinterConfig.Role.STATION)
    station.categories.set(Category.objects.filter(name="奶茶"))
    servers = [print_server(PRINT_API_KEYS=KEY), print_server(PRINT_API_KEYS=KEY)]
    start = threading.Barrier(10)

    def retry(n: int) -> tuple[int, dict]:
        start.wait()
        base = servers[n % 2].http_url
        return post(base, "/api/orders", order_body(confirm=True), idempotency_key="mp-77")

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(retry, range(10)))

    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 9 + [201], answers
    assert len({body["id"] for _, body in answers}) == 1
    assert len({body["pickup_number"] for _, body in answers}) == 1
    order = Order.objects.get()
    assert order.status == "confirmed"
    assert PrintJob.objects.filter(order=order).count() == 2

    other = post(servers[0].http_url, "/api/orders", order_body(note="另一单"),
                 idempotency_key="mp-77")  # fmt: skip
    assert other[0] == 409
    assert Order.objects.count() == 1
