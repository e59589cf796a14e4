"""The floor: the fastest thing Python does for this job, a bare `websockets` server that
broadcasts (or addresses) a prebuilt `new_order` frame. No Django, no database, no channel
layer. Every figure of our server is printed as a ratio to this, measured in the same run.

    python -m bench.floor latency --mode broadcast --sockets 100 --jobs 100 --interval 0.1
    python -m bench.floor sockets --sockets 5000
"""

import argparse
import asyncio
import json
import sys
import time
from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import websockets

from bench.harness import Sockets, cpu_seconds, log_dir, report, rss_kib, summary
from printing import protocol
from printing.receipt import Receipt, ReceiptItem, render_receipt
from tests.support.ports import free_port
from tests.support.server import RunningServer

RECEIPT = render_receipt(
    Receipt(
        shop_name="发财小狗饮品店",
        order_id=1,
        time=datetime(2025, 7, 14, 10, 30),
        total=Decimal("25.00"),
        items=(ReceiptItem("珍珠奶茶", 1, Decimal("25.00"), "大杯", "正常冰", "正常糖"),),
    ),
    paper_width=80,
)


async def serve(port: int) -> None:
    printers: dict[str, object] = {}

    async def handler(ws) -> None:
        query = parse_qs(urlsplit(ws.request.path).query)
        if ws.request.path.startswith("/control"):
            async for message in ws:
                trigger = json.loads(message)
                t0 = time.time()
                frame = protocol.dumps(
                    protocol.new_order(
                        job_id=trigger["id"],
                        order_id=trigger["id"],
                        job_type="order",
                        content=RECEIPT,
                        copies=1,
                        priority=5,
                        attempt=1,
                        order_info={"id": trigger["id"], "status": "confirmed"},
                        printer_config={"paper_width": 80, "printer_type": "thermal"},
                    )
                )
                target = trigger.get("target")
                if target is None:
                    websockets.broadcast(list(printers.values()), frame)
                else:
                    await printers[target].send(frame)
                await ws.send(json.dumps({"id": trigger["id"], "t0": t0}))
            return
        key = (query.get("token") or [str(id(ws))])[0]
        printers[key] = ws
        try:
            await ws.send(protocol.dumps(protocol.welcome(shop_name="floor")))
            async for _ in ws:
                pass
        finally:
            printers.pop(key, None)

    async with websockets.serve(handler, "127.0.0.1", port, max_size=2**20, ping_interval=20):
        await asyncio.Future()


def start_floor() -> tuple[RunningServer, str]:
    port = free_port()
    command = [sys.executable, "-m", "bench.floor", "serve", "--port", str(port)]
    server = RunningServer(command, ports=(port,), log_path=log_dir() / "floor.log")
    return server.start(timeout=60), f"ws://127.0.0.1:{port}/"


async def latency(args) -> dict:
    server, url = start_floor()
    with server:
        tokens = [str(i) for i in range(args.sockets)] if args.mode == "addressed" else None
        sockets = Sockets(url, args.sockets, tokens=tokens)
        await sockets.open()
        starts: dict[int, float] = {}
        async with websockets.connect(url + "control") as control:
            started = time.monotonic()
            for i in range(args.jobs):
                delay = started + i * args.interval - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                target = str(i * 7919 % args.sockets) if tokens else None
                await control.send(json.dumps({"id": i + 1, "target": target}))
                answer = json.loads(await control.recv())
                starts[answer["id"]] = answer["t0"]
        per_job = 1 if tokens else args.sockets
        await sockets.wait_for(list(starts), per_job)
        latencies = [max(sockets.arrivals[j]) - starts[j] for j in starts]
        await sockets.close()
        return report(
            f"floor.latency.{args.mode}",
            sockets=args.sockets,
            jobs=len(starts),
            **summary(latencies),
        )


async def sockets_at_rest(args) -> dict:
    server, url = start_floor()
    with server:
        await asyncio.sleep(0.5)
        before = rss_kib(server.pid)
        sockets = Sockets(url, args.sockets)
        await sockets.open()
        await asyncio.sleep(2)
        after = rss_kib(server.pid)
        cpu = cpu_seconds(server.pid)
        await asyncio.sleep(args.rest)
        cpu_rest = (cpu_seconds(server.pid) - cpu) / args.rest * 100
        await sockets.close()
        return report(
            "floor.sockets",
            sockets=args.sockets,
            rss_per_socket_kib=(after - before) / args.sockets,
            cpu_at_rest_percent=cpu_rest,
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the floor server (used by the others)")
    serve_cmd.add_argument("--port", type=int, required=True)
    lat = commands.add_parser("latency")
    lat.add_argument("--mode", default="broadcast", choices=["broadcast", "addressed"])
    lat.add_argument("--sockets", type=int, default=100)
    lat.add_argument("--jobs", type=int, default=100)
    lat.add_argument("--interval", type=float, default=0.1)
    lat.add_argument("--json", action="store_true")
    rest = commands.add_parser("sockets")
    rest.add_argument("--sockets", type=int, default=1000)
    rest.add_argument("--rest", type=float, default=10.0, help="seconds measured at rest")
    rest.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.command == "serve":
        asyncio.run(serve(args.port))
    elif args.command == "latency":
        asyncio.run(latency(args))
    else:
        asyncio.run(sockets_at_rest(args))


if __name__ == "__main__":
    main()
