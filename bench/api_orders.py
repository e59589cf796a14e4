"""Orders through the integration API: `--clients` threads posting `POST /api/orders` with
`confirm=true` and an Idempotency-Key each, for `--seconds`, to one running server; one
agent-like printer socket prints every receipt and reports it completed. Orders/s created
(201 answers), the requests' latency, then a check that every order's receipt printed once.

    python -m bench.api_orders --seconds 20
    python -m bench.api_orders --seconds 20 --backend redis-pg
"""

import asyncio
import json
import threading
import time
import urllib.request
import uuid

from bench.harness import (
    API_KEY,
    MENU,
    Backend,
    Sockets,
    arguments,
    cpu_seconds,
    make_printers,
    report,
    start_print_server,
    summary,
)

BODY = {"items": [{k: v for k, v in MENU[0].items()}], "order_type": "takeaway",
        "confirm": True}  # fmt: skip


def post_orders(base: str, stop: threading.Event, created: list[int], latencies: list[float]):
    while not stop.is_set():
        request = urllib.request.Request(
            f"{base}/api/orders",
            data=json.dumps(BODY).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json",
                     "Idempotency-Key": uuid.uuid4().hex},
        )  # fmt: skip
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
        latencies.append(time.perf_counter() - started)
        if response.status == 201:
            created.append(answer["id"])


async def run(args) -> dict:
    with Backend.create(args.backend) as backend:
        from printing.models import PrinterConfig, PrintJob

        [(name, token)] = make_printers(1)
        PrinterConfig.objects.filter(name=name).update(auto_print_orders=True)
        with start_print_server(backend) as server:
            printer = Sockets(server.ws_url, 1, tokens=[token], ack=True)
            await printer.open()
            stop, created, latencies = threading.Event(), [], []
            work = (server.http_url, stop, created, latencies)
            threads = [threading.Thread(target=post_orders, args=work) for _ in range(args.clients)]
            cpu_before = cpu_seconds(server.pid)
            for thread in threads:
                thread.start()
            await asyncio.sleep(args.seconds)
            stop.set()
            for thread in threads:
                await asyncio.to_thread(thread.join)
            server_cpu = cpu_seconds(server.pid) - cpu_before

            jobs = PrintJob.objects.filter(order_id__in=created)
            deadline = time.monotonic() + args.drain
            while jobs.exclude(status="completed").exists() and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
            job_ids = set(jobs.values_list("pk", flat=True))
            received = set(printer.arrivals)
            await printer.close()
            latency = summary(latencies)
            return report(
                "api_orders",
                backend=args.backend,
                clients=args.clients,
                seconds=args.seconds,
                orders=len(created),
                orders_per_second=len(created) / args.seconds,
                p50=latency["p50"],
                p99=latency["p99"],
                server_cpu_ms_per_order=server_cpu * 1000 / max(len(created), 1),
                lost=len(job_ids - received)
                + jobs.exclude(status="completed").count()
                + (len(created) - len(job_ids)),
                duplicates=printer.duplicates,
            )


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=4, help="threads posting orders")
    parser.add_argument("--drain", type=float, default=120, help="seconds allowed to finish")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
