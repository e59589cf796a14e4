"""The printer agent: runs on the PC beside a receipt printer, keeps a WebSocket to the print
server and prints what it is sent. Needs only websockets and python-escpos (no Django).

    export PRINT_AGENT_TOKEN=TOKEN
    python -m printing.agent --url ws://SERVER:8765/ --device network:192.168.1.50

(The token goes in the environment, not --token: any user of the machine can read a command line.)

It never prints a job twice: the job ids it has printed are kept in its state file across
restarts, and a repeated offer is only acknowledged again. A job it started but cannot know
the outcome of (it crashed while printing) is printed again under a POSSIBLE DUPLICATE banner.
"""

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import websockets

from printing import protocol
from printing.devices import DeviceError, parse_device
from printing.escpos_encode import ENCODINGS, PrinterSettings, encode_job

logger = logging.getLogger("printing.agent")

AGENT_VERSION = "1.0.0"
DUPLICATE_BANNER = "可能重复 / POSSIBLE DUPLICATE"
# How many printed job ids the state file remembers: far more than a day of receipts.
REMEMBER = 20_000


class AgentState:
    """Printed job ids and the job being printed, saved atomically after every change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.printed: dict[int, str] = {}
        self.in_progress: int | None = None
        if path.exists():
            try:
                data = json.loads(path.read_text())
                self.printed = {int(k): v for k, v in data.get("printed", {}).items()}
                self.in_progress = data.get("in_progress")
            except (ValueError, OSError) as exc:
                raise SystemExit(f"state file {path} is unreadable ({exc}); move it away") from exc

    def save(self) -> None:
        if len(self.printed) > REMEMBER:
            for job_id in sorted(self.printed)[: len(self.printed) - REMEMBER]:
                del self.printed[job_id]
        data = {"printed": self.printed, "in_progress": self.in_progress}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=self.path.parent, prefix=".agent-state", delete=False
        ) as tmp:
            json.dump(data, tmp)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, self.path)

    def start(self, job_id: int) -> bool:
        """Mark the job as printing; True if an earlier attempt was cut off mid-print."""
        interrupted = self.in_progress == job_id
        self.in_progress = job_id
        self.save()
        return interrupted

    def finish(self, job_id: int, printed: bool) -> None:
        if printed:
            self.printed[job_id] = time.strftime("%Y-%m-%dT%H:%M:%S")
        self.in_progress = None
        self.save()


@dataclass
class Job:
    job_id: int
    order_id: int | None
    content: str
    copies: int
    attempt: int
    printer_config: dict[str, Any]

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> "Job":
        body = message["order"] if message["type"] == "new_order" else message["data"]
        return cls(
            job_id=int(body["job_id"]),
            order_id=body.get("order_id"),
            content=str(body.get("content", "")),
            copies=int(body.get("copies") or 1),
            attempt=int(body.get("attempt") or 1),
            printer_config=body.get("printer_config") or {},
        )


class Agent:
    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.urls: list[str] = options.url
        self.device = parse_device(options.device)
        self.state = AgentState(Path(options.state_file))
        self.stopping = asyncio.Event()
        self.cancelled: set[int] = set()
        self.printing: asyncio.Task | None = None

    def stop(self) -> None:
        if not self.stopping.is_set():
            logger.info("event=stopping (finishing the current job first)")
            self.stopping.set()

    async def run(self) -> None:
        delay, index = 1.0, 0
        while not self.stopping.is_set():
            url = self.urls[index % len(self.urls)]
            try:
                async with websockets.connect(
                    url, additional_headers=self._headers(), open_timeout=10, max_size=2**22
                ) as ws:
                    logger.info("event=connected url=%s", url)
                    delay = 1.0
                    await self.session(ws)
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                logger.warning("event=disconnected url=%s reason=%s", url, exc or type(exc))
            if self.stopping.is_set():
                break
            index += 1
            # Exponential backoff with jitter, so a shop's agents do not all return at once.
            pause = delay * random.uniform(0.5, 1.5)
            delay = min(delay * 2, self.options.max_backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), pause)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.options.token}"} if self.options.token else {}

    async def session(self, ws) -> None:
        """One connection: say who we are, then print jobs one at a time as they come."""
        problem = await asyncio.to_thread(self._probe)
        await self._send(
            ws,
            protocol.printer_info(
                name=self.options.name,
                model=self.options.model,
                status=problem or "ready",
                paper_width=self.options.paper_width,
                device=self.device.name,
                agent_version=AGENT_VERSION,
            ),
        )
        queue: asyncio.Queue[Job] = asyncio.Queue()
        worker = asyncio.create_task(self._work(ws, queue))
        stopper = asyncio.create_task(self.stopping.wait())
        try:
            async for frame in _frames(ws, stopper):
                await self._on_message(ws, queue, json.loads(frame))
        finally:
            if self.stopping.is_set() and self.printing is not None:
                await asyncio.shield(self.printing)
            worker.cancel()
            stopper.cancel()
            await asyncio.gather(worker, stopper, return_exceptions=True)

    def _probe(self) -> str | None:
        try:
            return self.device.probe()
        except DeviceError as exc:
            return str(exc)

    async def _on_message(self, ws, queue: asyncio.Queue, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind in ("new_order", "print_command"):
            await queue.put(Job.from_message(message))
        elif kind == "cancel_job":
            self.cancelled.add(int(message["job_id"]))
            logger.info("job=%s event=cancel_received", message["job_id"])
        elif kind == "ping":
            await self._send(ws, protocol.pong())
        elif kind == "error":
            logger.warning(
                "event=server_error code=%s message=%s", message.get("code"), message.get("message")
            )
        elif kind == "printer_info_ack":
            logger.info("event=registered message=%s", message.get("message"))

    async def _work(self, ws, queue: asyncio.Queue) -> None:
        while not self.stopping.is_set():
            job = await queue.get()
            if job.job_id in self.cancelled:
                logger.info("job=%s order=%s outcome=cancelled", job.job_id, job.order_id)
                continue
            # Shielded: a dropped connection must not cut a receipt in half.
            self.printing = asyncio.create_task(self._print(ws, job))
            await asyncio.shield(self.printing)
            self.printing = None

    async def _print(self, ws, job: Job) -> None:
        if job.job_id in self.state.printed:
            # Printed before (this run or an earlier one): only say so again.
            await self._report(ws, job, "completed", "already printed")
            logger.info("job=%s order=%s outcome=already_printed", job.job_id, job.order_id)
            return
        started = time.monotonic()
        interrupted = self.state.start(job.job_id)
        await self._report(ws, job, "printing", "")
        settings = PrinterSettings.from_mapping(
            job.printer_config, encoding=self.options.encoding, paper_width=self.options.paper_width
        )
        data = encode_job(
            content=job.content,
            settings=settings,
            copies=job.copies,
            order_id=job.order_id,
            banner=DUPLICATE_BANNER if interrupted else "",
        )
        try:
            await asyncio.to_thread(self.device.print, data, job.content)
        except DeviceError as exc:
            self.state.finish(job.job_id, printed=False)
            await self._report(ws, job, "failed", str(exc))
            outcome = f"failed({exc})"
        else:
            self.state.finish(job.job_id, printed=True)
            await self._report(ws, job, "completed", "打印成功")
            outcome = "completed" + ("(possible duplicate)" if interrupted else "")
        logger.info(
            "job=%s order=%s device=%s attempt=%s outcome=%s ms=%d",
            job.job_id,
            job.order_id,
            self.device.name,
            job.attempt,
            outcome,
            (time.monotonic() - started) * 1000,
        )

    async def _report(self, ws, job: Job, status: str, message: str) -> None:
        await self._send(
            ws, protocol.print_status(job_id=job.job_id, status=status, message=message)
        )

    async def _send(self, ws, message: dict[str, Any]) -> None:
        # The socket may be gone; the server offers the job again and the state file
        # makes that harmless.
        with contextlib.suppress(websockets.ConnectionClosed):
            await ws.send(protocol.dumps(message))


async def _frames(ws, stopper: asyncio.Task):
    """Frames until the socket closes or the agent is asked to stop."""
    while True:
        receive = asyncio.ensure_future(ws.recv())
        done, _ = await asyncio.wait({receive, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if receive not in done:
            receive.cancel()
            return
        try:
            yield receive.result()
        except websockets.ConnectionClosed:
            return


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"PRINT_AGENT_{name}") or default


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m printing.agent",
        description=(
            "Print receipts from the shop's print server on a local printer. Every option "
            "can also be set as an environment variable PRINT_AGENT_<OPTION> "
            "(e.g. PRINT_AGENT_URL, PRINT_AGENT_TOKEN)."
        ),
    )
    parser.add_argument(
        "--url",
        action="append",
        help="print server WebSocket URL; repeat (or comma-separate) for fallbacks "
        "(default ws://localhost:8765/)",
    )
    parser.add_argument("--token", default=_env("TOKEN"), help="the printer's secret token")
    parser.add_argument(
        "--name",
        default=_env("NAME", socket.gethostname()),
        help="printer name, as configured on the server (without a token, this picks the printer)",
    )
    parser.add_argument(
        "--device",
        default=_env("DEVICE", "console"),
        help="network:HOST[:PORT] | usb:VID:PID | serial:DEV[:BAUD] | file:PATH | cups:NAME | "
        "console (default: console, draws receipts in the terminal)",
    )
    parser.add_argument(
        "--encoding",
        default=_env("ENCODING"),
        choices=ENCODINGS,
        help="text encoding of the printer (default: the server's setting, else gb18030)",
    )
    parser.add_argument(
        "--paper-width",
        type=int,
        default=int(_env("PAPER_WIDTH", "0")) or None,
        choices=(58, 80),
        help="paper width in mm (default: the server's setting)",
    )
    parser.add_argument(
        "--state-file",
        default=_env("STATE_FILE"),
        help="where printed job ids are kept (default ~/.shop-print-agent/NAME.json)",
    )
    parser.add_argument("--model", default=_env("MODEL", f"shop-print-agent {AGENT_VERSION}"))
    parser.add_argument("--max-backoff", type=float, default=30.0, help=argparse.SUPPRESS)
    parser.add_argument("--log-level", default=_env("LOG_LEVEL", "INFO"))
    options = parser.parse_args(argv)
    urls = options.url or [_env("URL", "ws://localhost:8765/")]
    options.url = [url.strip() for value in urls for url in value.split(",") if url.strip()]
    if not options.state_file:
        safe = "".join(c if c.isalnum() else "_" for c in options.name) or "agent"
        options.state_file = str(Path.home() / ".shop-print-agent" / f"{safe}.json")
    try:
        parse_device(options.device)
    except ValueError as exc:
        parser.error(str(exc))
    return options


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    logging.basicConfig(
        level=options.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stdout,
        # python-escpos configures logging when imported; ours is the one that counts.
        force=True,
    )
    agent = Agent(options)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, agent.stop)
        logger.info(
            "event=start name=%s device=%s urls=%s", options.name, agent.device.name, options.url
        )
        await agent.run()
        logger.info("event=stopped")

    asyncio.run(run())


if __name__ == "__main__":
    main()
