"""Webhook deliveries per second: a backlog of pending deliveries over a few endpoints, sent
by a running server to a fast local receiver (answers 200 at once), from the moment they are
committed until the receiver has every one and the outbox says delivered.

    python -m bench.webhooks --deliveries 2000 --endpoints 2
    (add --backend redis-pg for PostgreSQL)

The deliveries are written in one bulk insert after the server has started, as a burst of
changes would write them; each has a subject of its own (a job), so only the sender's
concurrency (`PRINT_WEBHOOK_CONCURRENCY`) and its database work limit the rate. The receiver
runs in this process (its threads share a core with the server on a small machine). Lost
and duplicated receipts are counted by X-Webhook-Id.
"""

import time
from collections import Counter

from bench.harness import Backend, arguments, cpu_seconds, report, start_print_server
from tests.support.receiver import Receiver


def run(args) -> dict:
    with Backend.create(args.backend) as backend, Receiver() as receiver:
        from integrations.models import Event, WebhookDelivery, WebhookEndpoint

        endpoints = [
            WebhookEndpoint.objects.create(
                url=f"{receiver.url}/{n}", secret=f"bench-{n}", events=list(Event.values)
            )
            for n in range(args.endpoints)
        ]
        server = start_print_server(
            backend, PRINT_WEBHOOK_CONCURRENCY=str(args.concurrency), LOG_LEVEL="WARNING"
        )
        try:
            cpu_before = cpu_seconds(server.pid)
            started = time.monotonic()
            rows = WebhookDelivery.objects.bulk_create(
                (
                    WebhookDelivery(
                        endpoint=endpoints[n % len(endpoints)],
                        event=Event.JOB_COMPLETED,
                        subject=f"job:{n}",
                        payload={"job_id": n, "status": "completed", "printer": "厨房打印机"},
                    )
                    for n in range(args.deliveries)
                ),
                batch_size=500,
            )
            received_all = _wait(lambda: len(receiver.delivered()) >= len(rows), args.drain)
            received = time.monotonic() - started
            pending = WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.DELIVERED)
            _wait(lambda: not pending.exists(), args.drain)
            recorded = time.monotonic() - started
            cpu = cpu_seconds(server.pid) - cpu_before
        finally:
            server.stop()
        receipts = Counter(request.id for request in receiver.delivered())
        expected = {str(delivery.event_id) for delivery in rows}
        return report(
            "webhooks.deliveries",
            backend=args.backend,
            deliveries=len(rows),
            endpoints=args.endpoints,
            concurrency=args.concurrency,
            seconds=received,
            per_second=len(rows) / received if received_all else 0.0,
            recorded_seconds=recorded,
            server_cpu_ms_each=1000 * cpu / max(1, len(rows)),
            lost=len(expected - set(receipts)),
            duplicates=sum(count - 1 for count in receipts.values()),
        )


def _wait(check, within: float) -> bool:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--endpoints", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8, help="PRINT_WEBHOOK_CONCURRENCY")
    parser.add_argument("--drain", type=float, default=300, help="seconds allowed to finish")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
