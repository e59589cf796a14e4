"""Confirm-to-receipt latency: from the job's creation in the confirming transaction to the
last intended socket's receipt of `new_order`.

    python bench/latency.py --mode broadcast --sockets 100 --jobs 100 --interval 0.1
    python bench/latency.py --mode addressed --sockets 1000 --jobs 200 --interval 0.05
    python bench/latency.py --mode cross-process --sockets 10 --jobs 50
    (add --backend redis-pg for PostgreSQL + Redis)

- broadcast: sockets bound to no printer; orders confirmed one after another through the
  order board's confirm endpoint; every socket gets every job (the seed's mode).
- addressed: every socket is its own printer's (token); jobs for a random printer through
  the direct job service (POST /api/jobs); one socket gets each job.
- cross-process: orders confirmed by the ORM in this (another) process, as from a shell.
"""

import asyncio
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    Backend,
    Sockets,
    StaffSession,
    api_job,
    arguments,
    make_printers,
    report,
    start_print_server,
    summary,
)

MENU = [
    {
        "name": "珍珠奶茶",
        "size": "大杯",
        "temperature": "正常冰",
        "sugar": "正常糖",
        "quantity": 1,
        "unit_price": "25.00",
    }
]


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


async def run(args) -> dict:
    backend = Backend.create(args.backend)
    from orders.services import order_create
    from printing.models import PrintJob

    server = None
    try:
        tokens, printers = None, []
        if args.mode == "addressed":
            printers = make_printers(args.sockets)
            tokens = [token for _, token in printers]
        elif args.mode == "broadcast":
            orders = [order_create(items=MENU) for _ in range(args.jobs + 1)]
        server, http, ws = start_print_server(backend)
        sockets = Sockets(ws, args.sockets, tokens=tokens)
        await sockets.open()
        await asyncio.to_thread(wait_registered, args.sockets)

        if args.mode == "broadcast":
            staff = await asyncio.to_thread(StaffSession, http)

            def confirm(i):
                staff.post(f"/backoffice/orders/{orders[i].pk}/confirm")
                return orders[i].pk

            await asyncio.to_thread(confirm, args.jobs)  # warm-up, not counted
            order_ids = await asyncio.to_thread(paced, args.jobs, args.interval, confirm)
            job_ids = list(
                PrintJob.objects.filter(order_id__in=order_ids).values_list("pk", flat=True)
            )
            per_job = args.sockets
        elif args.mode == "addressed":
            rng = random.Random(1)
            await asyncio.to_thread(api_job, http, printers[0][0], "warm-up\n")

            def create(i):
                return api_job(http, rng.choice(printers)[0], f"测试小票 {i}\n珍珠奶茶 ¥25.00\n")

            job_ids = await asyncio.to_thread(paced, args.jobs, args.interval, create)
            per_job = 1
        else:
            lock = threading.Lock()

            def confirm_here(i):
                with lock:
                    order = order_create(items=MENU, confirm=True)
                return PrintJob.objects.get(order=order).pk

            job_ids = await asyncio.to_thread(paced, args.jobs, args.interval, confirm_here)
            per_job = args.sockets
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
    finally:
        if server is not None:
            server.stop()
        backend.close()


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
