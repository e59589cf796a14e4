"""A printer client that behaves as a real one must: it prints each job_id once however often
it is offered, reports every status, and reconnects when the server goes away."""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

import websockets

from printing import protocol

# What the client does with a job it has not printed yet: "completed", "failed", or None to
# keep quiet (as if it crashed before reporting).
Decision = Callable[[dict], Awaitable[str | None]]


async def always_complete(job: dict) -> str:
    return "completed"


class HonestPrinter:
    def __init__(
        self,
        url: str | list[str],
        name: str,
        *,
        decide: Decision = always_complete,
        report_delay: float = 0,
    ) -> None:
        # Several URLs: the next one is tried when a connection fails, as the agent does.
        self.urls = [url] if isinstance(url, str) else list(url)
        self.name = name
        self.decide = decide
        # Time between printing and saying so: the window in which a crash leaves a job
        # printed but unreported.
        self.report_delay = report_delay
        self.printed: list[int] = []
        self.offers: list[tuple[int, int]] = []
        # job id -> time.monotonic() of its first arrival
        self.arrivals: dict[int, float] = {}
        self.connections = 0
        self.connected = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._ws = None

    def start(self) -> "HonestPrinter":
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def drop(self) -> None:
        """Close the socket as a crashing client would; the client then reconnects."""
        if self._ws is not None:
            self.connected.clear()
            await self._ws.close()

    async def _run(self) -> None:
        attempt = 0
        while True:
            url = self.urls[attempt % len(self.urls)]
            try:
                async with websockets.connect(url, open_timeout=5) as ws:
                    self._ws = ws
                    await self._serve(ws)
            except (TimeoutError, OSError, websockets.WebSocketException):
                # This server is down: try the next one.
                attempt += 1
            self.connected.clear()
            await asyncio.sleep(0.1)

    async def _serve(self, ws) -> None:
        assert json.loads(await ws.recv())["type"] == "welcome"
        await ws.send(json.dumps(protocol.printer_info(name=self.name, model="honest")))
        async for frame in ws:
            message = json.loads(frame)
            if message["type"] == "printer_info_ack":
                self.connections += 1
                self.connected.set()
            elif message["type"] == "ping":
                await ws.send(json.dumps(protocol.pong()))
            elif message["type"] in ("new_order", "print_command"):
                job = message["order"] if message["type"] == "new_order" else message["data"]
                await self._job(ws, job)

    async def _job(self, ws, job: dict) -> None:
        job_id = job["job_id"]
        self.arrivals.setdefault(job_id, time.monotonic())
        self.offers.append((job_id, job["attempt"]))
        if job_id in self.printed:
            # Printed already: say so again instead of printing twice.
            await ws.send(json.dumps(protocol.print_status(job_id=job_id, status="completed")))
            return
        outcome = await self.decide(job)
        if outcome == "completed":
            self.printed.append(job_id)
            await asyncio.sleep(self.report_delay)
        if outcome is not None:
            await ws.send(json.dumps(protocol.print_status(job_id=job_id, status=outcome)))
