"""What evaluating the alerts costs a server process: 1,000 printer sockets and a backlog of
1,000 waiting jobs, evaluated as each process's heartbeat does.

    python -m bench.alerts --sockets 1000 --jobs 1000 --rounds 50
    (add --backend redis-pg for PostgreSQL)

Rows are written with the ORM (no server runs); each round is one `alerts_evaluate()`, the
first opens the alerts (not counted), the others find them open. CPU is this process's (the
evaluating server's share); wall time includes the database's.
"""

import time
from datetime import timedelta

from bench.harness import Backend, arguments, report, summary


def run(args) -> dict:
    with Backend.create(args.backend):
        from django.utils import timezone

        from orders.services import order_create
        from printing.alerts import alerts_evaluate
        from printing.models import Alert, PrinterConfig, PrinterConnection, PrintJob, ServerProcess

        server = ServerProcess.objects.create(
            hostname="bench", pid=1, version="1", channel_layer="x"
        )
        printers = PrinterConfig.objects.bulk_create(
            PrinterConfig(name=f"打印机 {i:04d}") for i in range(args.sockets)
        )
        PrinterConnection.objects.bulk_create(
            PrinterConnection(server=server, printer=printer, last_seen=timezone.now())
            for printer in printers
        )
        order = order_create(items=[{"name": "珍珠奶茶"}])
        backlog = printers[:10]
        PrintJob.objects.bulk_create(
            PrintJob(order=order, printer=backlog[i % len(backlog)], print_content="x")
            for i in range(args.jobs)
        )
        PrintJob.objects.update(created_at=timezone.now() - timedelta(hours=1))
        alerts_evaluate()  # opens them: not counted
        opened = Alert.objects.filter(resolved_at=None).count()
        walls, cpus = [], []
        for _ in range(args.rounds):
            cpu, wall = time.process_time(), time.perf_counter()
            alerts_evaluate()
            cpus.append(time.process_time() - cpu)
            walls.append(time.perf_counter() - wall)
        wall = summary(walls)
        return report(
            "alerts.evaluate",
            backend=args.backend,
            sockets=args.sockets,
            jobs=args.jobs,
            alerts=opened,
            cpu_ms=1000 * sum(cpus) / len(cpus),
            p50=wall["p50"],
            p99=wall["p99"],
        )


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=50)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
