"""Sustained end to end: orders confirmed as fast as the confirming side can, each printed by
one agent-like printer socket that reports `completed`; jobs completed per second over the
run, then a check that nothing was lost and nothing delivered twice.

    python -m bench.throughput --seconds 30
    python -m bench.throughput --seconds 30 --backend redis-pg

Orders are placed beforehand (placing is not what is measured). The confirming side
(`--via`): `http` (default) is staff pressing confirm on the order board, several at once,
through the server's back-office endpoint; `orm` is `--confirmers` processes confirming
through the order services, as an integration importing orders would: `--batch 1` one
order per transaction through order_confirm, `--batch N` N orders per transaction
through orders_confirm (one UPDATE; the jobs written in bulk).
"""

import asyncio
import multiprocessing
import threading
import time
from datetime import UTC, datetime

from bench.harness import (
    MENU,
    Backend,
    Sockets,
    arguments,
    cpu_seconds,
    make_printers,
    report,
    staff_session,
    start_print_server,
)
from tests.support.web import StaffSession


def confirm_process(seconds: float, batch: int, order_ids: list[int], ready, go, results) -> None:
    """A confirming process of its own (one Python process would be held back by its GIL).

    It loads Django, says so, and waits for the clock: a spawned process takes seconds to
    start on a busy machine, which must not count inside a window of a few seconds.
    """
    import django

    django.setup()
    from django.db import connection

    from orders.services import order_confirm, orders_confirm

    ready.put(True)
    go.wait()
    confirmed, deadline, start = [], time.monotonic() + seconds, 0
    while start < len(order_ids) and time.monotonic() < deadline:
        chunk, start = order_ids[start : start + batch], start + batch
        if batch == 1:
            order_confirm(order_id=chunk[0])
            confirmed += chunk
        else:
            confirmed += orders_confirm(order_ids=chunk)
    connection.close()
    results.put(confirmed)


def orm_confirmers(args, placed: list[int], confirmed: list[int]) -> threading.Thread:
    """Starts the confirming processes and waits until each is ready; the thread returned
    lets them go and collects what they confirmed."""
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Queue(), context.Event(), context.Queue()
    share = -(-len(placed) // args.confirmers)
    workers = [
        context.Process(
            target=confirm_process,
            args=(
                args.seconds,
                args.batch,
                placed[i * share : (i + 1) * share],
                ready,
                go,
                results,
            ),
        )
        for i in range(args.confirmers)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=120)

    def collect() -> None:
        go.set()
        for _ in workers:
            confirmed.extend(results.get())
        for worker in workers:
            worker.join()

    return threading.Thread(target=collect)


def place_orders(count: int) -> list[int]:
    """Pending orders, placed in bulk beforehand (placing is not what is measured)."""
    from decimal import Decimal

    from orders.models import Order, OrderItem

    orders = Order.objects.bulk_create(
        [Order(total_amount=Decimal("25.00")) for _ in range(count)], batch_size=500
    )
    item = {k: v for k, v in MENU[0].items() if k != "unit_price"}
    OrderItem.objects.bulk_create(
        [OrderItem(order=o, unit_price=Decimal("25.00"), **item) for o in orders], batch_size=500
    )
    return [order.pk for order in orders]


def confirm_over_http(
    staff: StaffSession, stop: threading.Event, queue: list[int], confirmed: list[int]
):
    while not stop.is_set():
        try:
            order_id = queue.pop()
        except IndexError:
            return
        staff.post(f"/backoffice/orders/{order_id}/confirm")
        confirmed.append(order_id)


def confirmers(args, http: str, stop: threading.Event, placed: list[int], confirmed: list[int]):
    """The confirming side's threads, ready to start."""
    if args.via == "http":
        # Logged in before the clock starts: a login hashes a password on purpose slowly.
        sessions = [staff_session(http) for _ in range(args.confirmers)]
        return [
            threading.Thread(target=confirm_over_http, args=(staff, stop, placed, confirmed))
            for staff in sessions
        ]
    return [orm_confirmers(args, placed, confirmed)]


async def run(args) -> dict:
    with Backend.create(args.backend) as backend:
        from printing.models import PrinterConfig, PrintJob

        [(name, token)] = make_printers(1)
        PrinterConfig.objects.filter(name=name).update(auto_print_orders=True)
        placed = place_orders(int(args.seconds * args.max_rate))
        with start_print_server(backend) as server:
            client = Sockets(server.ws_url, 1, tokens=[token], ack=True)
            await client.open()

            stop, confirmed = threading.Event(), []
            threads = confirmers(args, server.http_url, stop, placed, confirmed)
            started = datetime.now(UTC)
            cpu_before = cpu_seconds(server.pid)
            for thread in threads:
                thread.start()
            await asyncio.sleep(args.seconds)
            stop.set()
            for thread in threads:
                await asyncio.to_thread(thread.join)
            window_end = datetime.now(UTC)
            server_cpu = cpu_seconds(server.pid) - cpu_before

            # Drain: every confirmed order's receipt must come out.
            deadline = time.monotonic() + args.drain
            jobs = PrintJob.objects.filter(order_id__in=confirmed)
            while jobs.exclude(status="completed").exists() and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
            completed_in_window = jobs.filter(
                completed_at__gte=started, completed_at__lte=window_end
            ).count()
            job_ids = set(jobs.values_list("pk", flat=True))
            received = set(client.arrivals)
            await client.close()
            return report(
                "throughput",
                backend=args.backend,
                via=args.via if args.via == "http" else f"orm-batch{args.batch}",
                seconds=args.seconds,
                confirmed=len(confirmed),
                jobs_per_second=completed_in_window / args.seconds,
                server_cpu_ms_per_job=server_cpu * 1000 / max(completed_in_window, 1),
                server_cpu_percent=server_cpu / args.seconds * 100,
                lost=len(job_ids - received) + jobs.exclude(status="completed").count(),
                duplicates=client.duplicates,
            )


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--via", default="http", choices=["http", "orm"])
    parser.add_argument(
        "--confirmers", type=int, default=4, help="threads (http) or processes (orm) confirming"
    )
    parser.add_argument(
        "--batch", type=int, default=1, help="orders confirmed per transaction (orm)"
    )
    parser.add_argument(
        "--max-rate",
        type=float,
        default=1000,
        help="orders placed beforehand, per second run",
    )
    parser.add_argument("--drain", type=float, default=120, help="seconds allowed to finish")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
