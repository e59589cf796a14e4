"""The printer agent against a scripted server in the same process: what it does with
malformed frames, with a server whose database changed, and with a possible duplicate."""

import asyncio
import json
import logging
from pathlib import Path

import pytest
import websockets

from printing import protocol
from printing.agent import DUPLICATE_BANNER, Agent, parse_args
from printing.agent_state import AgentState
from printing.paper import Document, Line, document_text, document_to_json

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
