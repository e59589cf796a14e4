"""Idle printer sockets on one server process: memory per socket and CPU at rest.

    python -m bench.sockets --sockets 1000
    python -m bench.sockets --sockets 5000 --rest 30

Every socket is authenticated with its own printer's token and bound to that printer, then
left alone; the server keeps its heartbeats (pings, the heartbeat row, sweeps) going.
"""

import asyncio

from bench.harness import (
    Backend,
    Sockets,
    arguments,
    cpu_seconds,
    make_printers,
    report,
    rss_kib,
    start_print_server,
)
from bench.latency import wait_registered


async def run(args) -> dict:
    with Backend.create(args.backend) as backend:
        from django.conf import settings

        printers = make_printers(args.sockets)
        env = {"PRINT_PING_INTERVAL": str(args.ping_interval)} if args.ping_interval else {}
        with start_print_server(backend, **env) as server:
            await asyncio.sleep(2)  # the dispatcher started, first heartbeats done
            before = rss_kib(server.pid)
            sockets = Sockets(server.ws_url, args.sockets, tokens=[token for _, token in printers])
            await sockets.open()
            await asyncio.to_thread(wait_registered, args.sockets)
            await asyncio.sleep(2)
            after = rss_kib(server.pid)
            cpu = cpu_seconds(server.pid)
            await asyncio.sleep(args.rest)
            cpu_at_rest = (cpu_seconds(server.pid) - cpu) / args.rest * 100
            alive = sum(not task.done() for task in sockets.tasks)
            await sockets.close()
            return report(
                "sockets",
                backend=args.backend,
                sockets=args.sockets,
                ping_interval=args.ping_interval or settings.PRINT_PING_INTERVAL,
                alive=alive,
                rss_per_socket_kib=(after - before) / args.sockets,
                rss_total_mib=after / 1024,
                cpu_at_rest_percent=cpu_at_rest,
            )


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--rest", type=float, default=30.0, help="seconds measured at rest")
    parser.add_argument(
        "--ping-interval", type=float, help="PRINT_PING_INTERVAL for the server (default: its own)"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
