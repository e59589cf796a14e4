"""The printer agent: runs on the PC beside a receipt printer, keeps a WebSocket to the print
server and prints what it is sent. Needs only websockets and python-escpos (no Django).

    export PRINT_AGENT_TOKEN=TOKEN
    python -m printing.agent --url ws://SERVER:8765/ --device network:192.168.1.50

(The token goes in the environment, not --token: any user of the machine can read a command line.)

It never prints a job twice: the jobs it has printed (by server instance and job id) are kept
in its state file across restarts, and a repeated offer is only acknowledged again. A job
whose outcome is unknown (the agent crashed while printing it, or the server says an earlier
attempt started printing and never ended) is printed again under a POSSIBLE DUPLICATE banner.
A frame it cannot read is logged and skipped; the connection stays. A job that carries a
styled `layout` (docs/tickets.md) is printed from it, the pickup number and item names large;
without one, or with one it cannot read (logged), its plain `content` is printed.

A job of type `cup_label` holds cup labels (`labels`, and the label's size and settings in
`printer_config.label`; docs/printers.md): they are sent as TSPL, the console draws them as
text. Labels it cannot read fail the job with the reason. A possible duplicate prints its
labels marked 重印 (and says so in the log): staff see the cup may be labelled already.

It asks its printer how it is (ESC/POS `DLE EOT`, TSPL `<ESC>!?`) on connecting, every
--probe-interval seconds and after a failed print, and when the answer changes it sends
`printer_info` again with the new `status` (`ready`, `paper_out`, `cover_open`, `offline`,
`error`) and the printer's words in `status_message`: an empty roll on a USB printer shows on
the server. A device that cannot answer (console, file, CUPS) is always `ready`.
"""

import argparse
import asyncio
import contextlib
import json
import logging
import random
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import websockets

from printing import protocol
from printing.agent_jobs import Job, MalformedFrame, job_id_of
from printing.agent_options import AGENT_VERSION, parse_args
from printing.agent_state import AgentState
from printing.devices import DeviceError, NetworkDevice, parse_device
from printing.escpos_encode import PrinterSettings, encode_document, encode_job
from printing.labels import LabelSpec, labels_text
from printing.tspl import encode_labels_reporting

logger = logging.getLogger("printing.agent")

DUPLICATE_BANNER = "可能重复 / POSSIBLE DUPLICATE"


def status_word(problem: str | None) -> str:
    """The `printer_info` status for what a probe said (devices.py's messages): None is
    `ready`; an unreachable printer is `offline` (the caller knows that from DeviceError)."""
    if problem is None:
        return "ready"
    text = problem.lower()
    if "paper out" in text:
        return "paper_out"
    if "cover open" in text or "head open" in text:
        return "cover_open"
    return "error"


class Agent:
    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.urls: list[str] = options.url
        self.device = parse_device(options.device, language=options.language)
        self.state = AgentState(Path(options.state_file))
        self.stopping = asyncio.Event()
        self.cancelled: set[str] = set()
        self.printing: asyncio.Task | None = None
        # The instance of the server of this connection ("" until its welcome says).
        self.instance = ""
        # The printer's status word and the probe's words, as last told to the server.
        self.status, self.status_message = "ready", ""
        # One conversation with the printer at a time: a network printer takes one
        # connection on 9100, and a probe refused during a print would read as `offline`.
        self.device_lock = asyncio.Lock()
        # Set after a failed print: probe now rather than at the next interval.
        self.probe_soon = asyncio.Event()

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
        """One connection: say who we are, then print jobs one at a time as they come, and
        say again when the printer's status changes."""
        if not self.device_lock.locked():
            # (Else a print from the last connection is still on: the last status stands.)
            self.status, self.status_message = await self._probe()
        await self._send_info(ws)
        queue: asyncio.Queue[Job] = asyncio.Queue()
        worker = asyncio.create_task(self._work(ws, queue))
        stopper = asyncio.create_task(self.stopping.wait())
        prober = asyncio.create_task(self._watch_printer(ws))
        self.instance = ""
        try:
            async for frame in _frames(ws, stopper):
                try:
                    await self._on_message(ws, queue, _parse(frame))
                except MalformedFrame as exc:
                    # One bad frame must not cost the connection (and every receipt after it).
                    logger.warning("event=bad_frame reason=%s frame=%.200r", exc, frame)
        finally:
            if self.stopping.is_set() and self.printing is not None:
                await asyncio.shield(self.printing)
            worker.cancel()
            stopper.cancel()
            prober.cancel()
            await asyncio.gather(worker, stopper, prober, return_exceptions=True)

    async def _send_info(self, ws) -> None:
        info = {"status_message": self.status_message} if self.status_message else {}
        await self._send(
            ws,
            protocol.printer_info(
                name=self.options.name,
                model=self.options.model,
                status=self.status,
                paper_width=self.options.paper_width,
                device=self.device.name,
                agent_version=AGENT_VERSION,
                **info,
            ),
        )

    async def _probe(self) -> tuple[str, str]:
        """The printer's status word and what it said, asked in a thread (a probe may wait
        seconds for an answer)."""
        if not self.device.answers_status:
            return "ready", ""
        async with self.device_lock:
            try:
                problem = await asyncio.to_thread(self.device.probe)
            except DeviceError as exc:
                return "offline", str(exc)
        return status_word(problem), problem or ""

    async def _watch_printer(self, ws) -> None:
        """Probe every --probe-interval seconds (0: only after a failed print) and send
        `printer_info` when the status word changes."""
        if not self.device.answers_status:
            return
        interval = self.options.probe_interval or None
        while not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.probe_soon.wait(), interval)
            self.probe_soon.clear()
            if self.device_lock.locked():
                continue  # printing: the print's own outcome says how the printer is
            status, message = await self._probe()
            if status == self.status:
                continue
            logger.info(
                "event=printer_status from=%s to=%s message=%s", self.status, status, message
            )
            self.status, self.status_message = status, message
            await self._send_info(ws)

    async def _on_message(self, ws, queue: asyncio.Queue, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "welcome":
            info = message.get("server_info")
            instance = info.get("instance") if isinstance(info, dict) else None
            if isinstance(instance, str) and instance and ":" not in instance:
                self.instance = instance
                self.state.connected_to(instance)
        elif kind in ("new_order", "print_command"):
            await queue.put(Job.from_message(message, instance=self.instance))
        elif kind == "cancel_job":
            job_id = job_id_of(message.get("job_id"))
            self.cancelled.add(f"{self.instance}:{job_id}")
            logger.info("job=%s event=cancel_received", job_id)
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
            if job.key in self.cancelled:
                logger.info("job=%s order=%s outcome=cancelled", job.job_id, job.order_id)
                continue
            # Shielded: a dropped connection must not cut a receipt in half.
            self.printing = asyncio.create_task(self._print(ws, job))
            await asyncio.shield(self.printing)
            self.printing = None

    async def _print(self, ws, job: Job) -> None:
        if self.state.was_printed(job.key):
            # Printed before (this run or an earlier one): only say so again.
            await self._report(ws, job, "completed", "already printed")
            logger.info("job=%s order=%s outcome=already_printed", job.job_id, job.order_id)
            return
        if job.label_error:
            await self._report(ws, job, "failed", job.label_error)
            logger.warning(
                "job=%s order=%s outcome=failed(%s)", job.job_id, job.order_id, job.label_error
            )
            return
        started = time.monotonic()
        # Cut off mid-print here, or (the server says) on another attempt: either way the
        # receipt may be on paper already.
        interrupted = self.state.start(job.key) or job.possible_duplicate
        await self._report(ws, job, "printing", "")
        if job.is_labels:
            data, content, device = self._label_bytes(job, interrupted)
        else:
            data, content, device = self._receipt_bytes(job, interrupted), job.content, self.device
        try:
            async with self.device_lock:
                await asyncio.to_thread(device.print, data, content)
        except DeviceError as exc:
            self.state.finish(job.key, printed=False)
            await self._report(ws, job, "failed", str(exc))
            outcome = f"failed({exc})"
            self.probe_soon.set()
        else:
            self.state.finish(job.key, printed=True)
            await self._report(ws, job, "completed", "打印成功")
            if self.status != "ready":
                self.probe_soon.set()  # it printed: someone has fixed it
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

    def _receipt_bytes(self, job: Job, interrupted: bool) -> bytes:
        settings = PrinterSettings.from_mapping(
            job.printer_config, encoding=self.options.encoding, paper_width=self.options.paper_width
        )
        common = {
            "settings": settings,
            "copies": job.copies,
            "order_id": job.order_id,
            "banner": DUPLICATE_BANNER if interrupted else "",
        }
        if job.document is not None:
            return encode_document(document=job.document, **common)
        return encode_job(content=job.content, **common)

    def _label_bytes(self, job: Job, interrupted: bool) -> tuple[bytes, str, Any]:
        """The TSPL of the job's labels (each copy the whole set), their text for the console,
        and the device: a network printer is asked its status the TSPL way."""
        labels = job.labels or []
        if interrupted:
            # The labels may be on cups already: 重印 tells staff to check before sticking.
            labels = [replace(label, reprint=True) for label in labels]
            logger.warning("job=%s event=labels_possible_duplicate marked=重印", job.job_id)
        data, replaced = encode_labels_reporting(labels=labels, spec=job.label_spec or LabelSpec())
        if replaced:
            logger.warning(
                "job=%s event=unencodable_characters encoding=%s chars=%r",
                job.job_id,
                (job.label_spec or LabelSpec()).encoding,
                "".join(dict.fromkeys(replaced)),
            )
        device = self.device
        if isinstance(device, NetworkDevice) and device.language != "tspl":
            device = replace(device, language="tspl")
        return data * job.copies, labels_text(labels), device

    async def _report(self, ws, job: Job, status: str, message: str) -> None:
        await self._send(
            ws, protocol.print_status(job_id=job.job_id, status=status, message=message)
        )

    async def _send(self, ws, message: dict[str, Any]) -> None:
        # The socket may be gone; the server offers the job again and the state file
        # makes that harmless.
        with contextlib.suppress(websockets.ConnectionClosed):
            await ws.send(protocol.dumps(message))


def _parse(frame: str | bytes) -> dict[str, Any]:
    try:
        message = json.loads(frame)
    except (ValueError, RecursionError):
        raise MalformedFrame("not JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise MalformedFrame("not a message object")
    return message


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
