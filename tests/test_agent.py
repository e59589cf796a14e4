"""The printer agent as a real process, against a real server and a fake ESC/POS printer."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from channels.db import database_sync_to_async

from printing.models import PrintJob, PrintJobEvent, ServerInstance
from printing.services import printer_token_issue
from tests.fake_printer import FakePrinter
from tests.helpers import confirmed_order, create_printer, eventually, job_status
from tests.support import ROOT

pytestmark = pytest.mark.django_db(transaction=True)

MILK_TEA_GB18030 = "珍珠奶茶".encode("gb18030")
CUT = b"\x1dV\x01"
DUPLICATE = "可能重复 / POSSIBLE DUPLICATE".encode("gb18030")


class AgentProcess:
    """`python -m printing.agent` in a subprocess, its output kept in a file."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.args = args
        self.log_path = tmp_path / "agent.log"
        self.state_file = tmp_path / "agent-state.json"
        self.process: subprocess.Popen | None = None

    def start(self) -> "AgentProcess":
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "printing.agent",
                "--state-file",
                str(self.state_file),
                *self.args,
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=self.log_path.open("a"),
            stderr=subprocess.STDOUT,
        )
        return self

    def state(self) -> dict:
        return json.loads(self.state_file.read_text()) if self.state_file.exists() else {}

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def fake_printer():
    printer = FakePrinter()
    yield printer
    printer.close()


@pytest.fixture
def agents(tmp_path):
    started: list[AgentProcess] = []

    def start(*args: str) -> AgentProcess:
        agent = AgentProcess(tmp_path, *args).start()
        started.append(agent)
        return agent

    yield start
    for agent in started:
        agent.stop()
        print(f"--- agent log ---\n{agent.log()[-4000:]}")


async def kitchen_with_token() -> str:
    printer = await create_printer("厨房打印机", paper_width=58)
    return await database_sync_to_async(printer_token_issue)(printer=printer)


def test_the_agent_needs_no_django():
    code = (
        "import sys, printing.agent; "
        "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_help_and_bad_options():
    shown = subprocess.run(
        [sys.executable, "-m", "printing.agent", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0
    for option in (
        "--url",
        "--token",
        "--name",
        "--device",
        "--encoding",
        "--paper-width",
        "--state-file",
        "--probe-interval",
        "PRINT_AGENT_",
    ):
        assert option in shown.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "printing.agent", "--device", "laser:beam"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "network:HOST[:PORT]" in bad.stderr


async def test_the_agent_prints_a_confirmed_order_on_the_printer(
    print_server, agents, fake_printer
):
    token = await kitchen_with_token()
    server = print_server()
    agent = agents("--url", server.ws_url, "--token", token, "--device", fake_printer.device)
    order = await confirmed_order()

    printed = await database_sync_to_async(fake_printer.wait_for)(CUT)
    assert MILK_TEA_GB18030 in printed
    assert printed.startswith(b"\x1b@\x1c&")
    await eventually(lambda: job_status(order) == "completed")
    job = await database_sync_to_async(PrintJob.objects.get)(order=order)
    line = f"job={job.pk} order={order.pk} device={fake_printer.device} attempt=1 outcome=completed"
    await eventually(lambda: line in agent.log())
    # Remembered by the server's database instance and job id.
    instance = await database_sync_to_async(ServerInstance.objects.get)()
    assert f"{instance}:{job.pk}" in agent.state()["printed"]
    assert agent.state()["instance"] == str(instance)


async def test_a_refused_printer_fails_the_job_which_is_retried(print_server, agents, fake_printer):
    token = await kitchen_with_token()
    server = print_server(PRINT_RETRY_BACKOFF="1")
    agents("--url", server.ws_url, "--token", token, "--device", fake_printer.device)
    fake_printer.refuse()
    order = await confirmed_order()

    failure = await eventually(
        lambda: PrintJobEvent.objects.filter(job__order=order, event="failed").first()
    )
    assert "connection refused" in failure.message
    assert failure.actor == "client"
    fake_printer.switch_on()
    await eventually(lambda: job_status(order) == "completed", within=20)
    job = await database_sync_to_async(PrintJob.objects.get)(order=order)
    assert job.retry_count >= 1
    assert fake_printer.received().count(MILK_TEA_GB18030) == 1


async def test_an_agent_killed_mid_print_reprints_with_a_duplicate_banner(
    print_server, agents, fake_printer
):
    token = await kitchen_with_token()
    server = print_server()
    fake_printer.mode = "hang"
    args = ("--url", server.ws_url, "--token", token, "--device", fake_printer.device)
    agent = agents(*args)
    order = await confirmed_order()
    await eventually(lambda: agent.state().get("in_progress") is not None, within=15)

    agent.stop()  # kill -9 while the printer holds the job
    fake_printer.mode = "ok"
    restarted = agents(*args)
    await eventually(lambda: job_status(order) == "completed", within=20)
    printed = fake_printer.received()
    assert printed.count(MILK_TEA_GB18030) == 1
    assert DUPLICATE in printed
    await eventually(lambda: "possible duplicate" in restarted.log())


async def test_a_job_offered_again_after_printing_is_acknowledged_not_reprinted(
    print_server, agents, fake_printer
):
    token = await kitchen_with_token()
    server = print_server()
    agent = agents("--url", server.ws_url, "--token", token, "--device", fake_printer.device)
    order = await confirmed_order()
    await eventually(lambda: job_status(order) == "completed")

    # As if the "completed" report had been lost: the server offers the job again.
    await database_sync_to_async(PrintJob.objects.filter(order=order).update)(status="pending")
    await eventually(lambda: "outcome=already_printed" in agent.log())
    await eventually(lambda: job_status(order) == "completed")
    assert fake_printer.received().count(MILK_TEA_GB18030) == 1


async def test_ctrl_c_finishes_the_current_job_then_exits(print_server, agents, fake_printer):
    token = await kitchen_with_token()
    server = print_server()
    fake_printer.mode = "slow"
    agent = agents("--url", server.ws_url, "--token", token, "--device", fake_printer.device)
    order = await confirmed_order()
    await eventually(lambda: agent.state().get("in_progress") is not None, within=15)

    agent.process.send_signal(signal.SIGINT)
    started = time.monotonic()
    assert await database_sync_to_async(agent.process.wait)(timeout=15) == 0
    assert time.monotonic() - started < 15
    assert await database_sync_to_async(job_status)(order) == "completed"
    assert fake_printer.received().count(MILK_TEA_GB18030) == 1


async def test_the_agent_moves_on_to_the_next_url_and_keeps_trying(
    print_server, agents, fake_printer
):
    token = await kitchen_with_token()
    server = print_server()
    dead = "ws://127.0.0.1:9/"  # nothing listens on the discard port
    agent = agents(
        "--url", dead, "--url", server.ws_url, "--token", token, "--device", fake_printer.device
    )
    order = await confirmed_order()
    await eventually(lambda: job_status(order) == "completed", within=20)
    assert "event=disconnected url=ws://127.0.0.1:9/" in agent.log()
