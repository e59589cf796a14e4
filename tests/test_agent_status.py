"""The printer agent reports its printer's status: it probes the device now and then and
sends `printer_info` again when the status word changes (issue 17). Against a scripted server
in the same process, and as a process against a real server whose database keeps it."""

import asyncio
from pathlib import Path

import pytest

from printing.agent import Agent, status_word
from printing.agent_options import parse_args
from printing.devices import CupsDevice, DeviceError, EscposDevice, _escpos_problem, parse_device
from printing.escpos_encode import status_problem
from printing.models import Alert, PrinterConnection
from printing.tspl import tspl_status_problem
from tests.fake_printer import FakePrinter
from tests.helpers import confirmed_order, eventually, job_status
from tests.test_agent import AgentProcess, kitchen_with_token
from tests.test_agent_frames import ScriptedServer, order


@pytest.mark.parametrize(
    ("problem", "word"),
    [
        (None, "ready"),
        (status_problem(0x16, None, 0x7E), "paper_out"),
        (status_problem(0x1E, 0x20, 0x12), "paper_out"),
        (status_problem(0x1E, 0x06, 0x12), "cover_open"),
        (tspl_status_problem(0x04), "paper_out"),
        (tspl_status_problem(0x01), "cover_open"),
        (tspl_status_problem(0x40), "cover_open"),
        (tspl_status_problem(0x02), "error"),
        (tspl_status_problem(0x08), "error"),
        (status_problem(0x1E, 0x00, 0x12), "error"),
    ],
)
def test_each_probe_answer_has_its_status_word(problem, word):
    assert status_word(problem) == word


def test_only_devices_that_can_answer_are_probed():
    specs = ("console", "file:/tmp/x.bin", "cups:kitchen", "network:10.0.0.5", "usb:4b8:e15")
    answers = [parse_device(spec).answers_status for spec in specs]
    assert answers == [False, False, False, True, True]


class EscposPrinter:
    """What python-escpos's Usb/Serial printer offers for a status query: the answer bytes
    of DLE EOT n, or an exception (no read endpoint, a read timeout)."""

    def __init__(self, answers: dict[int, bytes] | Exception) -> None:
        self.answers = answers
        self.asked: list[int] = []

    def query_status(self, command: bytes) -> bytes:
        self.asked.append(command[2])
        if isinstance(self.answers, Exception):
            raise self.answers
        return self.answers.get(command[2], b"")


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        ({1: b"\x16", 4: b"\x12"}, None),
        ({1: b"\x16", 4: b"\x7e"}, "paper out / 缺纸"),
        ({1: b"\x1e", 2: b"\x16", 4: b"\x12"}, "cover open / 纸仓盖打开"),
        # No answer, or no way to read one: not known, so not a problem.
        ({}, None),
        (TimeoutError("read timed out"), None),
    ],
)
def test_a_usb_or_serial_printer_is_asked_dle_eot_through_python_escpos(answers, problem):
    assert _escpos_problem(EscposPrinter(answers)) == problem


def agent_with(device: str, tmp_path: Path) -> Agent:
    return Agent(parse_args(["--device", device, "--state-file", str(tmp_path / "state.json")]))


async def test_a_usb_printer_that_cannot_be_opened_is_offline(monkeypatch, tmp_path):
    def unplugged(self):
        raise DeviceError(f"cannot open {self.name}: device not found")

    monkeypatch.setattr(EscposDevice, "_open", unplugged)
    agent = agent_with("usb:4b8:e15", tmp_path)
    assert await agent._probe() == ("offline", "cannot open usb:1208:3605: device not found")


async def test_a_device_that_cannot_answer_is_ready_and_never_probed(monkeypatch, tmp_path):
    def probed(self):
        raise AssertionError("probed")

    monkeypatch.setattr(CupsDevice, "probe", probed)
    agent = agent_with("cups:kitchen", tmp_path)
    assert await agent._probe() == ("ready", "")
    # Its watcher has nothing to do: it ends at once instead of waking every interval.
    await asyncio.wait_for(agent._watch_printer(ws=None), 1)


# The agent in this process, against a scripted server and the fake network printer.


@pytest.fixture
def fake_printer():
    printer = FakePrinter()
    yield printer
    printer.close()


@pytest.fixture
async def server():
    import websockets

    scripted = ScriptedServer()
    async with websockets.serve(scripted.handler, "127.0.0.1", 0) as running:
        scripted.url = f"ws://127.0.0.1:{running.sockets[0].getsockname()[1]}/"
        yield scripted


@pytest.fixture
async def start_agent(server, fake_printer, tmp_path: Path):
    started: list[tuple[Agent, asyncio.Task]] = []

    async def start(*args: str) -> Agent:
        options = parse_args(
            [
                "--url",
                server.url,
                "--device",
                fake_printer.device,
                "--state-file",
                str(tmp_path / "state.json"),
                "--name",
                "厨房打印机",
                *args,
            ]
        )
        agent = Agent(options)
        started.append((agent, asyncio.create_task(agent.run())))
        await server.sessions.put(("db-1", []))
        return agent

    yield start
    for agent, task in started:
        agent.stop()
        await asyncio.wait_for(task, 10)


def infos(server: ScriptedServer) -> list[tuple[str, str]]:
    """Each printer_info the agent sent: its status and status_message."""
    return [
        (r["printer"]["status"], r["printer"].get("status_message", ""))
        for r in server.reports
        if r["type"] == "printer_info"
    ]


def last_status(server: ScriptedServer) -> str | None:
    return infos(server)[-1][0] if infos(server) else None


async def probed_again(printer: FakePrinter, times: int = 3) -> None:
    """Wait for the agent to ask the printer `times` more times (each probe asks DLE EOT 1
    and 4), the status standing."""
    asked = printer.status_queries
    await eventually(lambda: printer.status_queries >= asked + 2 * times)


async def test_the_agent_tells_the_server_each_time_its_printers_status_changes(
    server, start_agent, fake_printer
):
    await start_agent("--probe-interval", "0.1")
    await server.wait_for(lambda reports: last_status(server) == "ready")
    await probed_again(fake_printer)

    fake_printer.mode = "paper_out"
    await server.wait_for(lambda reports: last_status(server) == "paper_out")
    await probed_again(fake_printer)
    fake_printer.mode = "cover_open"
    await server.wait_for(lambda reports: last_status(server) == "cover_open")
    fake_printer.mode = "ok"
    await server.wait_for(lambda reports: last_status(server) == "ready")
    fake_printer.refuse()
    await server.wait_for(lambda reports: last_status(server) == "offline")
    fake_printer.switch_on()
    await server.wait_for(lambda reports: last_status(server) == "ready")
    await probed_again(fake_printer)

    # Probed many times over, told only of the changes; the same name and model each time.
    port = fake_printer.port
    assert infos(server) == [
        ("ready", ""),
        ("paper_out", "paper out / 缺纸"),
        ("cover_open", "cover open / 纸仓盖打开"),
        ("ready", ""),
        ("offline", f"connection refused by 127.0.0.1:{port}"),
        ("ready", ""),
    ]
    sent = [r["printer"] for r in server.reports if r["type"] == "printer_info"]
    assert {(p["name"], p["model"], p["device"]) for p in sent} == {
        ("厨房打印机", "shop-print-agent 1.0.0", fake_printer.device)
    }
    assert server.connections == 1


async def test_with_periodic_probes_off_a_failed_print_is_still_followed_by_a_probe(
    server, start_agent, fake_printer
):
    await start_agent("--probe-interval", "0")
    await server.wait_for(lambda reports: last_status(server) == "ready")
    fake_printer.mode = "paper_out"

    # Only the probe after the failed print can say so: there is none on a timer.
    await server.socket.send(order(1, "第一张\n"))
    await server.wait_for(lambda reports: last_status(server) == "paper_out")
    assert any(
        r["type"] == "print_status" and r["job_id"] == 1 and r["status"] == "failed"
        for r in server.reports
    )

    # Refilled: the next receipt prints, and the probe after it says so.
    fake_printer.mode = "ok"
    await server.socket.send(order(2, "第二张\n"))
    await server.wait_for(lambda reports: server.completed(2))
    await server.wait_for(lambda reports: last_status(server) == "ready")
    assert [status for status, _ in infos(server)] == ["ready", "paper_out", "ready"]


async def test_a_printer_out_of_paper_when_the_agent_connects_says_so_at_once(
    server, start_agent, fake_printer
):
    fake_printer.mode = "paper_out"
    await start_agent("--probe-interval", "0")
    await server.wait_for(lambda reports: infos(server) == [("paper_out", "paper out / 缺纸")])


# The agent as a process against a real server: the database keeps the status.


def kitchen_connection() -> PrinterConnection | None:
    return PrinterConnection.objects.filter(closed_at=None, printer__name="厨房打印机").first()


@pytest.mark.django_db(transaction=True)
async def test_the_server_keeps_the_status_the_agent_reports(print_server, fake_printer, tmp_path):
    token = await kitchen_with_token()
    server = print_server()
    agent = AgentProcess(
        tmp_path,
        *("--url", server.ws_url, "--token", token, "--device", fake_printer.device),
        *("--probe-interval", "0.2"),
    ).start()
    try:
        await eventually(lambda: getattr(kitchen_connection(), "reported_status", "") == "ready")
        fake_printer.mode = "paper_out"
        paper_out = await eventually(
            lambda: (c := kitchen_connection()) and c.reported_status == "paper_out" and c
        )
        assert paper_out.printer_info["status_message"] == "paper out / 缺纸"
        # The server raises it: an open paper_out alert for the kitchen printer.
        alert = await eventually(
            lambda: Alert.objects.filter(kind="paper_out", resolved_at=None).first()
        )
        assert alert.message == "厨房打印机缺纸"

        fake_printer.mode = "ok"
        ready = await eventually(
            lambda: (c := kitchen_connection()) and c.reported_status == "ready" and c
        )
        # The same socket, still the kitchen printer's: it prints the next order.
        assert ready.pk == paper_out.pk
        await eventually(lambda: Alert.objects.get(pk=alert.pk).resolved_at is not None)
        assert "status_message" not in ready.printer_info
        order_ = await confirmed_order()
        await eventually(lambda: job_status(order_) == "completed")
        log = agent.log()
        assert "event=printer_status from=ready to=paper_out message=paper out / 缺纸" in log
        assert "event=printer_status from=paper_out to=ready" in log
    finally:
        agent.stop()
        print(f"--- agent log ---\n{agent.log()[-4000:]}")
