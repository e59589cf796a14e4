import json
from datetime import datetime

import pytest

from printing import protocol


def test_welcome_has_the_seed_fields():
    message = protocol.welcome(shop_name="发财小狗饮品店")
    assert message["type"] == "welcome"
    assert message["message"] == "欢迎连接到发财小狗饮品店打印服务"
    assert message["server_info"]["name"] == "发财小狗饮品店打印服务器"
    assert message["server_info"]["version"] == protocol.SERVER_VERSION
    assert message["server_info"]["capabilities"] == [
        "order_print",
        "receipt_print",
        "status_update",
    ]


def test_timestamps_are_iso_8601_with_an_offset():
    stamp = protocol.now_iso()
    parsed = datetime.fromisoformat(stamp)
    assert parsed.utcoffset() is not None
    assert protocol.ping()["timestamp"][-6] in "+-"


def test_new_order_has_the_seed_shape():
    message = protocol.new_order(
        job_id=123,
        order_id=456,
        job_type="order",
        content="小票",
        copies=1,
        priority=5,
        attempt=1,
        order_info={"id": 456, "status": "confirmed", "total_amount": 25.0, "customer_phone": ""},
        printer_config={"paper_width": 80, "printer_type": "thermal"},
    )
    order = message["order"]
    assert message["type"] == "new_order"
    assert order["type"] == "order_receipt"
    assert {"job_id", "order_id", "content", "copies", "priority", "order_info"} <= set(order)
    assert order["printer_config"] == {"paper_width": 80, "printer_type": "thermal"}


def test_print_command_puts_its_payload_under_data():
    message = protocol.print_command(command="test_print", data={"job_id": 1, "content": "x"})
    assert message["data"] == {"command": "test_print", "job_id": 1, "content": "x"}


def test_dumps_keeps_chinese_readable():
    assert "珍珠" in protocol.dumps({"content": "珍珠"})


@pytest.mark.parametrize(
    ("frame", "parsed"),
    [
        ('{"type": "ping"}', protocol.Ping()),
        ('{"type": "pong", "timestamp": "2025-07-14T10:30:00"}', protocol.Pong()),
        (
            '{"type": "print_status", "job_id": 7, "status": "completed", "message": "打印成功"}',
            protocol.PrintStatus(job_id=7, status="completed", message="打印成功"),
        ),
        (
            '{"type": "print_status", "job_id": 7.0, "status": "failed"}',
            protocol.PrintStatus(job_id=7, status="failed", message=""),
        ),
    ],
)
def test_valid_client_messages_parse(frame, parsed):
    assert protocol.parse_client_message(frame) == parsed


def test_printer_info_keeps_everything_the_client_said():
    frame = json.dumps(
        protocol.printer_info(name=" 厨房打印机 ", model="TM-T88V", status="ready", paper_width=80)
    )
    parsed = protocol.parse_client_message(frame)
    assert parsed.name == "厨房打印机"
    assert parsed.model == "TM-T88V"
    assert parsed.info["paper_width"] == 80


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", "invalid_json"),
        ("", "invalid_json"),
        ('{"type": "ping"', "invalid_json"),
        ("NaN", "invalid_json"),
        ("[1, 2]", "invalid_message"),
        ('"ping"', "invalid_message"),
        ("{}", "missing_field"),
        ('{"type": 5}', "missing_field"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "printer_info"}', "invalid_field"),
        ('{"type": "printer_info", "printer": "x"}', "invalid_field"),
        ('{"type": "printer_info", "printer": {}}', "missing_field"),
        ('{"type": "printer_info", "printer": {"name": 7}}', "invalid_field"),
        ('{"type": "print_status", "status": "completed"}', "missing_field"),
        ('{"type": "print_status", "job_id": "7", "status": "completed"}', "invalid_field"),
        ('{"type": "print_status", "job_id": true, "status": "completed"}', "invalid_field"),
        ('{"type": "print_status", "job_id": -1, "status": "completed"}', "invalid_field"),
        ('{"type": "print_status", "job_id": 0, "status": "completed"}', "invalid_field"),
        ('{"type": "print_status", "job_id": 1.5, "status": "completed"}', "invalid_field"),
        ('{"type": "print_status", "job_id": 1e300, "status": "completed"}', "invalid_field"),
        (
            '{"type": "print_status", "job_id": 99999999999999999999999, "status": "completed"}',
            "invalid_field",
        ),
        ('{"type": "print_status", "job_id": 1}', "missing_field"),
        ('{"type": "print_status", "job_id": 1, "status": "done"}', "invalid_field"),
        (
            '{"type": "print_status", "job_id": 1, "status": "failed", "message": 3}',
            "invalid_field",
        ),
    ],
)
def test_bad_client_messages_raise_a_clear_error(text, code):
    with pytest.raises(protocol.ProtocolError) as caught:
        protocol.parse_client_message(text)
    assert caught.value.code == code
    error = caught.value.as_message()
    assert error["type"] == "error"
    assert error["code"] == code
    assert error["message"]


def test_an_overlong_status_message_is_refused():
    frame = json.dumps(
        {"type": "print_status", "job_id": 1, "status": "failed", "message": "x" * 5000}
    )
    with pytest.raises(protocol.ProtocolError, match="longer than"):
        protocol.parse_client_message(frame)


def test_binary_frames_are_refused():
    with pytest.raises(protocol.ProtocolError) as caught:
        protocol.parse_client_message(None, b"\x00\x01")
    assert caught.value.code == "binary_not_supported"


def test_deeply_nested_json_is_refused_not_crashing():
    with pytest.raises(protocol.ProtocolError) as caught:
        protocol.parse_client_message("[" * 100_000 + "]" * 100_000)
    assert caught.value.code == "invalid_json"


def test_printer_info_keeps_only_known_scalar_fields_cut_to_size():
    frame = json.dumps(
        {
            "type": "printer_info",
            "printer": {
                "name": "厨房打印机",
                "model": "TM-T88V",
                "paper_width": 58,
                "device": {"nested": [1, 2]},
                "firmware": "f" * 5000,
                "serial_number": 2**60,
                "vendor": True,
                "padding": "x" * 5000,
            },
        }
    )
    info = protocol.parse_client_message(frame).info
    assert info == {
        "name": "厨房打印机",
        "model": "TM-T88V",
        "paper_width": 58,
        "firmware": "f" * protocol.MAX_NAME_LENGTH,
        "vendor": True,
    }


def test_printer_info_keeps_the_status_and_the_printers_words_for_it():
    frame = json.dumps(
        protocol.printer_info(
            name="厨房打印机", status="paper_out", status_message="paper out / 缺纸" + "!" * 500
        )
    )
    parsed = protocol.parse_client_message(frame)
    assert parsed.status == "paper_out"
    assert parsed.info["status"] == "paper_out"
    assert parsed.info["status_message"] == ("paper out / 缺纸" + "!" * 500)[:100]


# Every frame's exact shape: seed clients and the agent read these keys and words. A fixed
# time in the past tells a frame stamped with its `now` from one stamped with the clock.
NOW = datetime(2025, 7, 14, 10, 30)
STAMP = protocol.now_iso(NOW)


def test_welcome_names_the_instance_only_when_there_is_one():
    message = protocol.welcome(shop_name="小狗", instance="db-1", now=NOW)
    assert message == {
        "type": "welcome",
        "message": "欢迎连接到小狗打印服务",
        "timestamp": STAMP,
        "server_info": {
            "name": "小狗打印服务器",
            "version": protocol.SERVER_VERSION,
            "capabilities": ["order_print", "receipt_print", "status_update"],
            "instance": "db-1",
        },
    }
    assert "instance" not in protocol.welcome(shop_name="小狗", now=NOW)["server_info"]


def test_new_order_has_every_field_and_labels_only_for_a_label_job():
    fields = {
        "job_id": 9,
        "order_id": 4,
        "content": "小票",
        "copies": 2,
        "priority": 3,
        "attempt": 2,
        "order_info": {"id": 4},
        "printer_config": {"paper_width": 58},
    }
    message = protocol.new_order(job_type="kitchen", now=NOW, **fields)
    assert message == {
        "type": "new_order",
        "timestamp": STAMP,
        "order": {
            **fields,
            "type": "kitchen_ticket",
            "target_printer": None,
            "possible_duplicate": False,
            "reprint": False,
            "layout": None,
        },
    }
    labels = [{"index": 1, "total": 1}]
    order = protocol.new_order(
        job_type="label",
        printer={"id": 1, "name": "杯贴机"},
        possible_duplicate=True,
        reprint=True,
        layout={"lines": []},
        labels=labels,
        **fields,
    )["order"]
    assert order["type"] == "cup_label"
    assert order["target_printer"] == {"id": 1, "name": "杯贴机"}
    assert order["possible_duplicate"] is True
    assert order["reprint"] is True
    assert order["layout"] == {"lines": []}
    assert order["labels"] == labels
    # A job type without a ticket name of its own travels as it is.
    assert protocol.new_order(job_type="test", **fields)["order"]["type"] == "test"


def test_the_small_frames_have_their_exact_shape():
    assert protocol.print_command(command="test_print", data={"x": 1}, now=NOW) == {
        "type": "print_command",
        "timestamp": STAMP,
        "data": {"command": "test_print", "x": 1},
    }
    assert protocol.cancel_job(job_id=5, now=NOW) == {
        "type": "cancel_job",
        "timestamp": STAMP,
        "job_id": 5,
    }
    assert protocol.ping(NOW) == {"type": "ping", "timestamp": STAMP}
    assert protocol.pong(NOW) == {"type": "pong", "timestamp": STAMP}
    assert protocol.printer_info(name="厨房", now=NOW) == {
        "type": "printer_info",
        "timestamp": STAMP,
        "printer": {"name": "厨房", "model": "", "status": "ready"},
    }
    assert protocol.print_status(job_id=5, status="completed", now=NOW, copies=2) == {
        "type": "print_status",
        "timestamp": STAMP,
        "job_id": 5,
        "status": "completed",
        "message": "",
        "copies": 2,
    }


def test_dumps_is_compact():
    assert protocol.dumps({"content": ["珍珠", 1]}) == '{"content":["珍珠",1]}'


@pytest.mark.parametrize(
    ("printer", "token_required", "reason", "message"),
    [
        (
            None,
            False,
            None,
            "打印机信息已收到；没有名为“厨房”的已启用打印机，只会收到不指定打印机的任务 / no "
            "active printer is named '厨房': this socket receives only jobs addressed to no "
            "printer",
        ),
        (
            {"id": 1, "name": "厨房打印机", "paper_width": 80},
            False,
            None,
            "打印机信息已收到，已绑定到“厨房打印机” / bound to printer '厨房打印机'",
        ),
        (
            None,
            True,
            "token_required",
            "打印机“厨房”设有令牌，此连接未出示令牌，因此没有绑定到它，只会收到不指定打印机的任务"
            " / printer '厨房' has a token and this socket did not present it: not bound to it, "
            "this socket receives only jobs addressed to no printer",
        ),
    ],
)
def test_printer_info_ack_says_what_the_socket_is_bound_to(
    printer, token_required, reason, message
):
    # The server says token_required only when it is so.
    required = {"token_required": True} if token_required else {}
    assert protocol.printer_info_ack(
        reported_name="厨房", printer=printer, now=NOW, **required
    ) == {
        "type": "printer_info_ack",
        "timestamp": STAMP,
        "message": message,
        "printer": printer,
        "reason": reason,
    }


def without_timestamp(message: dict) -> dict:
    assert datetime.fromisoformat(message.pop("timestamp")).utcoffset() is not None
    return message


def test_server_unavailable_names_the_job_only_when_there_is_one():
    words = "服务器暂时无法记录，请稍后重试 / the server cannot record this now, try again shortly"
    assert without_timestamp(protocol.server_unavailable(job_id=5)) == {
        "type": "error",
        "code": "server_unavailable",
        "message": words,
        "job_id": 5,
    }
    assert without_timestamp(protocol.server_unavailable()) == {
        "type": "error",
        "code": "server_unavailable",
        "message": words,
    }


def test_unknown_job_and_wrong_socket_name_the_job():
    assert without_timestamp(protocol.unknown_job(5).as_message()) == {
        "type": "error",
        "code": "unknown_job",
        "message": "此打印机没有这个打印任务 / no print job 5 for this printer",
        "job_id": 5,
    }
    assert without_timestamp(protocol.wrong_socket(5).as_message()) == {
        "type": "error",
        "code": "wrong_socket",
        "message": "打印任务 5 的当前尝试没有发给此连接 / the current attempt of job 5 was not "
        "sent to this socket",
        "job_id": 5,
    }


# What the client is told about a frame it got wrong: the agent logs the words, and a
# client can act on `code` and `field`.
@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            None,
            {
                "code": "binary_not_supported",
                "message": "只接受 JSON 文本帧 / only JSON text frames",
            },
        ),
        (
            "x",
            {"code": "invalid_json", "message": "消息不是合法的 JSON / message is not valid JSON"},
        ),
        (
            "[1]",
            {
                "code": "invalid_message",
                "message": "消息必须是 JSON 对象 / message must be a JSON object",
            },
        ),
        (
            "{}",
            {
                "code": "missing_field",
                "message": "缺少 type 字段 / field 'type' is required",
                "field": "type",
            },
        ),
        (
            '{"type": "printer_info"}',
            {
                "code": "invalid_field",
                "message": "字段 / field 'printer' must be an object",
                "field": "printer",
            },
        ),
        (
            '{"type": "printer_info", "printer": {}}',
            {
                "code": "missing_field",
                "message": "缺少字段 / field 'name' is required",
                "field": "name",
            },
        ),
        (
            '{"type": "printer_info", "printer": {"name": 7}}',
            {
                "code": "invalid_field",
                "message": "字段 / field 'name' must be a string",
                "field": "name",
            },
        ),
        (
            '{"type": "printer_info", "printer": {"name": "%s"}}' % ("x" * 101),
            {
                "code": "invalid_field",
                "message": "字段过长 / field 'name' is longer than 100 characters",
                "field": "name",
            },
        ),
        (
            '{"type": "print_status", "status": "completed"}',
            {
                "code": "missing_field",
                "message": "缺少字段 / field 'job_id' is required",
                "field": "job_id",
            },
        ),
        (
            '{"type": "print_status", "job_id": 0, "status": "completed"}',
            {
                "code": "invalid_field",
                "message": "job_id 必须是正整数 / job_id must be a positive integer",
                "field": "job_id",
            },
        ),
        (
            '{"type": "print_status", "job_id": 1}',
            {
                "code": "missing_field",
                "message": "缺少字段 / field 'status' is required",
                "field": "status",
            },
        ),
        (
            '{"type": "print_status", "job_id": 1, "status": "done"}',
            {
                "code": "invalid_field",
                "message": "status 必须是 / status must be one of received, printing, completed, "
                "failed",
                "field": "status",
            },
        ),
        (
            '{"type": "%s"}' % ("d" * 50),
            {
                "code": "unknown_type",
                "message": "未知的消息类型 / unknown message type: '%s'" % ("d" * 40),
                "known_types": ["ping", "pong", "print_status", "printer_info"],
            },
        ),
    ],
)
def test_a_bad_frames_error_has_its_exact_words_and_details(text, error):
    with pytest.raises(protocol.ProtocolError) as caught:
        protocol.parse_client_message(text)
    assert without_timestamp(caught.value.as_message()) == {"type": "error", **error}


def test_the_limits_themselves_are_allowed():
    name = "x" * protocol.MAX_NAME_LENGTH
    frame = json.dumps({"type": "printer_info", "printer": {"name": name, "serial_number": 2**53}})
    parsed = protocol.parse_client_message(frame)
    assert parsed.name == name
    assert parsed.info["serial_number"] == 2**53
    frame = json.dumps({"type": "print_status", "job_id": protocol.MAX_ID, "status": "failed"})
    assert protocol.parse_client_message(frame).job_id == protocol.MAX_ID
