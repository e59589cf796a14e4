"""The printer agent against a scripted server in the same process: what it does with
malformed frames, with a server whose database changed, with a possible duplicate, and with
cup labels."""

import asyncio
import json
import logging
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import websockets

from printing import protocol
from printing.agent import DUPLICATE_BANNER, Agent
from printing.agent_jobs import Job
from printing.agent_options import parse_args
from printing.agent_state import AgentState
from printing.labels import LabelSpec, cup_labels, labels_text, labels_to_json
from printing.paper import Document, Line, document_text, document_to_json
from printing.receipt import Receipt, ReceiptItem
from tests.fake_label_printer import parse_tspl

DUPLICATE = DUPLICATE_BANNER.encode("gb18030")


def order(job_id, content: str, *, possible_duplicate: bool = False, layout: object = None) -> str:
    message = protocol.new_order(
        job_id=job_id,
        order_id=None,
        job_type="text",
        content=content,
        copies=1,
        priority=5,
        attempt=1,
        order_info=None,
        printer_config={"paper_width": 58},
    )
    message["order"]["possible_duplicate"] = possible_duplicate
    if layout is not None:
        message["order"]["layout"] = layout
    return protocol.dumps(message)


class ScriptedServer:
    """Each connection gets `welcome` with the next instance id, then the next frames; what
    the agent says is kept."""

    def __init__(self) -> None:
        self.sessions: asyncio.Queue[tuple[str | None, list[str]]] = asyncio.Queue()
        self.reports: list[dict] = []
        self.connections = 0
        self.socket = None
        self.heard = asyncio.Condition()

    async def handler(self, ws) -> None:
        self.connections += 1
        self.socket = ws
        # Bounded: a connection the test has no script for must not hold the server open.
        instance, frames = await asyncio.wait_for(self.sessions.get(), 15)
        welcome = protocol.welcome(shop_name="测试")
        welcome["server_info"]["instance"] = instance
        await ws.send(protocol.dumps(welcome))
        for frame in frames:
            await ws.send(frame)
        async for frame in ws:
            async with self.heard:
                self.reports.append(json.loads(frame))
                self.heard.notify_all()

    async def wait_for(self, check, within: float = 10.0) -> None:
        async with self.heard:
            await asyncio.wait_for(self.heard.wait_for(lambda: check(self.reports)), within)

    def completed(self, job_id) -> int:
        return sum(
            1
            for r in self.reports
            if r["type"] == "print_status" and r["job_id"] == job_id and r["status"] == "completed"
        )


@pytest.fixture
async def server():
    scripted = ScriptedServer()
    async with websockets.serve(scripted.handler, "127.0.0.1", 0) as running:
        scripted.url = f"ws://127.0.0.1:{running.sockets[0].getsockname()[1]}/"
        yield scripted


@pytest.fixture
async def agent(server, tmp_path: Path):
    paper = tmp_path / "printer.bin"
    options = parse_args(
        [
            "--url",
            server.url,
            "--device",
            f"file:{paper}",
            "--state-file",
            str(tmp_path / "state.json"),
            "--name",
            "厨房打印机",
        ]
    )
    running = Agent(options)
    task = asyncio.create_task(running.run())
    running.paper = paper
    yield running
    running.stop()
    await asyncio.wait_for(task, 10)


def printed(agent) -> bytes:
    return agent.paper.read_bytes() if agent.paper.exists() else b""


async def test_malformed_frames_are_logged_and_skipped_and_the_agent_stays(server, agent, caplog):
    caplog.set_level(logging.WARNING, logger="printing.agent")
    await server.sessions.put(
        (
            "db-1",
            [
                '{"type": "new_order"}',
                '{"type": "new_order", "order": {}}',
                '{"type": "new_order", "order": {"job_id": "abc", "content": "x"}}',
                '{"type": "print_command", "data": {"job_id": -3}}',
                '{"type": "cancel_job", "job_id": "12a"}',
                "this is not json",
                "[1, 2]",
                order(7, "好的小票\n"),
            ],
        )
    )
    await server.wait_for(lambda reports: server.completed(7))
    assert "好的小票".encode("gb18030") in printed(agent)
    assert server.connections == 1
    assert caplog.text.count("event=bad_frame") == 7


async def test_jobs_are_remembered_per_server_instance(server, agent, caplog):
    caplog.set_level(logging.INFO, logger="printing.agent")
    await server.sessions.put(("db-1", [order(1, "第一张\n")]))
    await server.wait_for(lambda reports: server.completed(1) == 1)

    # The same database offers job 1 again: acknowledged, not printed twice.
    await server.socket.close()
    await server.sessions.put(("db-1", [order(1, "第一张\n")]))
    await server.wait_for(lambda reports: server.completed(1) == 2)
    assert printed(agent).count("第一张".encode("gb18030")) == 1

    # A reset database gives out job id 1 again, for another receipt: it prints.
    await server.socket.close()
    await server.sessions.put(("db-2", [order(1, "新的一张\n")]))
    await server.wait_for(lambda reports: server.completed(1) == 3)
    assert "新的一张".encode("gb18030") in printed(agent)
    assert "event=server_instance_changed from=db-1 to=db-2" in caplog.text
    assert {"db-1:1", "db-2:1"} <= set(agent.state.printed)


async def test_a_possible_duplicate_is_printed_under_a_banner(server, agent):
    await server.sessions.put(
        ("db-1", [order(5, "第五张\n"), order(6, "第六张\n", possible_duplicate=True)])
    )
    await server.wait_for(lambda reports: server.completed(5) and server.completed(6))
    paper = printed(agent)
    assert paper.count(DUPLICATE) == 1
    assert paper.index(DUPLICATE) > paper.index("第五张".encode("gb18030"))


async def test_only_the_job_a_killed_run_was_printing_prints_under_a_banner(server, tmp_path):
    """The state file says the last run started job 7 and never finished it: the receipt
    may be on paper. Job 7 prints again under the banner; job 8, never started, without."""
    state = {"instance": "db-1", "printed": {"db-1:6": "2026-12-03T08:00:00"},
             "in_progress": "db-1:7"}  # fmt: skip
    (tmp_path / "state.json").write_text(json.dumps(state))
    paper = tmp_path / "printer.bin"
    options = parse_args(["--url", server.url, "--device", f"file:{paper}",
                          "--state-file", str(tmp_path / "state.json")])  # fmt: skip
    running = Agent(options)
    task = asyncio.create_task(running.run())
    try:
        frames = [order(8, "第八张\n"), order(7, "第七张\n"), order(9, "第九张\n")]
        await server.sessions.put(("db-1", frames))
        await server.wait_for(lambda reports: all(server.completed(n) for n in (7, 8, 9)))
    finally:
        running.stop()
        await asyncio.wait_for(task, 10)
    printed = paper.read_bytes()
    seventh, ninth = (
        printed.index("第七张".encode("gb18030")),
        printed.index("第九张".encode("gb18030")),
    )
    assert printed.count(DUPLICATE) == 1
    # The banner heads job 7's receipt: after job 8's text, before job 7's.
    assert printed.index("第八张".encode("gb18030")) < printed.index(DUPLICATE) < seventh < ninth
    assert running.state.in_progress is None


def test_the_agent_state_says_interrupted_only_for_a_job_started_and_never_finished(tmp_path):
    state = AgentState(tmp_path / "state.json")
    assert state.start("db-1:1") is False
    state.finish("db-1:1", printed=False)  # failed: known not printed
    assert state.start("db-1:1") is False
    assert AgentState(tmp_path / "state.json").start("db-1:1") is True  # killed mid-print
    # Its next attempt fails: the paper of the one cut off may still be out there.
    after_a_failure = AgentState(tmp_path / "state.json")
    after_a_failure.finish("db-1:1", printed=False)
    assert after_a_failure.start("db-1:1") is True
    after_a_failure.finish("db-1:1", printed=True)
    assert after_a_failure.start("db-1:1") is False
    reloaded = AgentState(tmp_path / "state.json")
    assert reloaded.start("db-1:2") is False
    reloaded.finish("db-1:2", printed=True)
    assert AgentState(tmp_path / "state.json").was_printed("db-1:2")


TICKET = Document(
    columns=32,
    lines=(Line("制作单", align="center", bold=True), Line("取餐号 A7", size=3, align="center")),
)
TRIPLE = b"\x1d!\x22"


async def test_a_job_with_a_layout_prints_the_styled_document(server, agent):
    await server.sessions.put(
        ("db-1", [order(8, document_text(TICKET), layout=document_to_json(TICKET))])
    )
    await server.wait_for(lambda reports: server.completed(8))
    paper = printed(agent)
    assert b"\x1ba\x01" + TRIPLE + "取餐号 A7\n".encode("gb18030") in paper
    assert "     取餐号".encode("gb18030") not in paper  # the printer centres, not spaces


async def test_a_job_with_a_bad_layout_prints_its_plain_content(server, agent, caplog):
    caplog.set_level(logging.WARNING, logger="printing.agent")
    too_wide = document_to_json(TICKET) | {"columns": 40}
    await server.sessions.put(("db-1", [order(9, document_text(TICKET), layout=too_wide)]))
    await server.wait_for(lambda reports: server.completed(9))
    paper = printed(agent)
    assert "           取餐号 A7\n".encode("gb18030") in paper  # the plain text, padded
    assert TRIPLE not in paper
    assert "event=bad_layout job=9 error=columns must be one of 32, 48" in caplog.text


def test_a_state_file_from_before_instances_is_kept_for_the_first_server(tmp_path):
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"printed": {"41": "2025-07-14T10:00:00"}, "in_progress": 42}))
    state = AgentState(path)
    state.connected_to("db-1")
    assert state.was_printed("db-1:41")
    assert state.in_progress == "db-1:42"
    assert json.loads(path.read_text())["instance"] == "db-1"


LABEL_SPEC = LabelSpec(width_mm=40, height_mm=30, dpi=203)
CUPS = Receipt(
    shop_name="发财小狗",
    order_id=12,
    time=datetime(2025, 7, 14, 10, 30),
    total=Decimal(0),
    items=(
        ReceiptItem("珍珠奶茶", 2, Decimal(15), size="大杯", sugar="半糖"),
        ReceiptItem("多肉葡萄", 1, Decimal(28)),
    ),
    pickup_number="A007",
    order_type="takeaway",
)


def label_frame(job_id, labels: object, *, spec: object = None, duplicate: bool = False) -> str:
    message = protocol.new_order(
        job_id=job_id,
        order_id=12,
        job_type="cup_label",
        content=labels_text(cup_labels(CUPS)),
        copies=1,
        priority=5,
        attempt=1,
        order_info=None,
        printer_config={"label": LABEL_SPEC.as_mapping() if spec is None else spec},
        possible_duplicate=duplicate,
    )
    message["order"]["labels"] = labels
    return protocol.dumps(message)


async def test_a_cup_label_job_prints_tspl_on_the_device(server, agent):
    labels = labels_to_json(cup_labels(CUPS))
    await server.sessions.put(("db-1", [label_frame(20, labels), label_frame(20, labels)]))
    await server.wait_for(lambda reports: server.completed(20) == 2)
    parsed = parse_tspl(printed(agent), "gb18030")  # printed once: the second is a repeat
    assert [label.strings[1] for label in parsed] == ["1/3", "2/3", "3/3"]
    assert [label.strings[2] for label in parsed] == ["珍珠奶茶", "珍珠奶茶", "多肉葡萄"]
    assert all(label.strings[0] == "#A007 外带" for label in parsed)
    assert "重印" not in "".join(text for label in parsed for text in label.strings)


async def test_a_possible_duplicate_label_job_prints_marked_reprint(server, agent, caplog):
    caplog.set_level(logging.WARNING, logger="printing.agent")
    labels = labels_to_json(cup_labels(CUPS, only=2))
    await server.sessions.put(("db-1", [label_frame(21, labels, duplicate=True)]))
    await server.wait_for(lambda reports: server.completed(21))
    [label] = parse_tspl(printed(agent), "gb18030")
    assert label.strings[1] == "2/3"
    assert "10:30 重印" in label.strings
    assert "job=21 event=labels_possible_duplicate" in caplog.text


def failed(server, job_id) -> str | None:
    return next(
        (
            r["message"]
            for r in server.reports
            if r["type"] == "print_status" and r["job_id"] == job_id and r["status"] == "failed"
        ),
        None,
    )


async def test_bad_labels_fail_the_job_with_the_reason_and_the_agent_goes_on(server, agent):
    good = labels_to_json(cup_labels(CUPS))
    await server.sessions.put(
        (
            "db-1",
            [
                label_frame(30, "not a list"),
                label_frame(31, [good[0] | {"index": 9}]),
                label_frame(32, good, spec={"width_mm": 300}),
                label_frame(33, good[:1]),
            ],
        )
    )
    await server.wait_for(lambda reports: server.completed(33))
    assert failed(server, 30) == "bad labels: labels must be a list"
    assert failed(server, 31) == "bad labels: labels[0]: label 9 of 3"
    assert failed(server, 32) == "bad labels: label width must be 20–110 mm, not 300"
    assert [label.strings[1] for label in parse_tspl(printed(agent), "gb18030")] == ["1/3"]
    assert server.connections == 1


def test_the_console_draws_labels_as_text_and_a_network_printer_is_asked_the_tspl_way(
    tmp_path, capsys
):
    job = Job.from_message(json.loads(label_frame(5, labels_to_json(cup_labels(CUPS)))))
    state = ["--state-file", str(tmp_path / "state.json")]
    console = Agent(parse_args(["--device", "console", *state]))
    data, content, device = console._label_bytes(job, interrupted=False)
    assert content == labels_text(cup_labels(CUPS))
    device.print(data, content)
    assert "│ #A007 外带  3/3" in capsys.readouterr().out

    network = Agent(parse_args(["--device", "network:127.0.0.1:9100", *state]))
    assert network.device.language == "escpos"
    _, _, device = network._label_bytes(job, interrupted=False)
    assert (device.host, device.language) == ("127.0.0.1", "tspl")
