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
