"""Confirm-to-receipt latency: from the job's creation in the confirming transaction to the
last intended socket's receipt of `new_order`.

    python -m bench.latency --mode broadcast --sockets 100 --jobs 100 --interval 0.1
    python -m bench.latency --mode addressed --sockets 1000 --jobs 200 --interval 0.05
    python -m bench.latency --mode cross-process --sockets 10 --jobs 50
    (add --backend redis-pg for PostgreSQL + Redis)

- broadcast: sockets bound to no printer; orders confirmed one after another through the
  order board's confirm endpoint; every socket gets every job (the seed's mode).
- addressed: every socket is its own printer's (token); jobs for a random printer through
  the direct job service (POST /api/jobs); one socket gets each job.
- cross-process: orders confirmed by the ORM in this (another) process, as from a shell.
"""

import asyncio
import random
import threading
import time

from bench.harness import (
    API_KEY,
    MENU,
    Backend,
    Sockets,
    arguments,
    make_printers,
    report,
    staff_session,
    start_print_server,
    summary,
)
from tests.support.web import api_job


def paced(count: int, interval: float, action) -> list:
    """Call action(i) `count` times, starting one every `interval` seconds."""
    results, started = [], time.monotonic()
    for i in range(count):
        delay = started + i * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        results.append(action(i))
    return results


def wait_registered(count: int, timeout: float = 300) -> None:
    """Until the server has every socket on its books (welcome comes a moment before)."""
    from printing.models import PrinterConnection

    deadline = time.monotonic() + timeout
    while PrinterConnection.objects.filter(closed_at=None).count() < count:
        if time.monotonic() > deadline:
            raise TimeoutError("sockets did not register")
        time.sleep(0.05)


def created_at(job_ids) -> dict[int, float]:
    from printing.models import PrintJob

    return {
        pk: stamp.timestamp()
        for pk, stamp in PrintJob.objects.filter(pk__in=list(job_ids)).values_list(
            "pk", "created_at"
        )
    }


async def send_jobs(args, http: str, orders: list, printers: list) -> tuple[list[int], int]:
    """The mode's jobs, one every --interval; their ids, and how many sockets get each."""
    from orders.services import order_create
    from printing.models import PrintJob

    if args.mode == "broadcast":
        staff = await asyncio.to_thread(staff_session, http)

        def confirm(i):
            staff.post(f"/backoffice/orders/{orders[i].pk}/confirm")
            return orders[i].pk

        await asyncio.to_thread(confirm, args.jobs)  # warm-up, not counted
        order_ids = await asyncio.to_thread(paced, args.jobs, args.interval, confirm)
        jobs = PrintJob.objects.filter(order_id__in=order_ids)
        return list(jobs.values_list("pk", flat=True)), args.sockets
    if args.mode == "addressed":
        rng = random.Random(1)

        def job(printer: str, content: str) -> int:
            return api_job(http, printer, content, key=API_KEY, timeout=30)

        await asyncio.to_thread(job, printers[0][0], "warm-up\n")

        def create(i):
            return job(rng.choice(printers)[0], f"测试小票 {i}\n珍珠奶茶 ¥25.00\n")

        return await asyncio.to_thread(paced, args.jobs, args.interval, create), 1
    lock = threading.Lock()

    def confirm_here(i):
        with lock:
            order = order_create(items=MENU, confirm=True)
        return PrintJob.objects.get(order=order).pk

    return await asyncio.to_thread(paced, args.jobs, args.interval, confirm_here), args.sockets


async def run(args) -> dict:
    with Backend.create(args.backend) as backend:
        from orders.services import order_create

        tokens, printers, orders = None, [], []
        if args.mode == "addressed":
            printers = make_printers(args.sockets)
            tokens = [token for _, token in printers]
        elif args.mode == "broadcast":
            orders = [order_create(items=MENU) for _ in range(args.jobs + 1)]
        with start_print_server(backend) as server:
            sockets = Sockets(server.ws_url, args.sockets, tokens=tokens)
            await sockets.open()
            await asyncio.to_thread(wait_registered, args.sockets)
            job_ids, per_job = await send_jobs(args, server.http_url, orders, printers)
            await sockets.wait_for(job_ids, per_job, within=120)
            created = await asyncio.to_thread(created_at, job_ids)
            latencies = [max(sockets.arrivals[j]) - created[j] for j in job_ids]
            await sockets.close()
            return report(
                f"latency.{args.mode}",
                backend=args.backend,
                sockets=args.sockets,
                jobs=len(job_ids),
                duplicates=sockets.duplicates,
                **summary(latencies),
            )


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument(
        "--mode", default="broadcast", choices=["broadcast", "addressed", "cross-process"]
    )
    parser.add_argument("--sockets", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between jobs")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
