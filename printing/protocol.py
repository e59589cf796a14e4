"""Every message of the printer WebSocket protocol, built and parsed in one place.

Pure Python without Django: the printer agent, which runs on a cashier's PC, uses it too.
The shapes follow the shop's original protocol (welcome, new_order, print_status, ping/pong,
print_command); fields added since are extra keys that old clients ignore.
"""

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SERVER_VERSION = "1.0.0"
CAPABILITIES = ["order_print", "receipt_print", "status_update"]

# Status words a client may report for a job.
CLIENT_STATUSES = ("received", "printing", "completed", "failed")

MAX_NAME_LENGTH = 100
MAX_TEXT_LENGTH = 2000
# What is kept of a client's `printer_info.printer`: these fields, scalar values only, text
# cut to MAX_NAME_LENGTH. Anything else (nested objects, kilobytes of padding) is dropped.
PRINTER_INFO_FIELDS = (
    "name",
    "model",
    "status",
    # What the printer said about that status, for people ("paper out / 缺纸").
    "status_message",
    "paper_width",
    "printer_type",
    "device",
    "agent_version",
    "firmware",
    "serial_number",
    "vendor",
)
# Numbers a JSON reader in any language reads exactly.
MAX_SAFE_INTEGER = 2**53
# Ids are database keys; anything beyond a signed 64-bit integer is not one of ours.
MAX_ID = 2**63 - 1


def now_iso(now: datetime | None = None) -> str:
    """ISO 8601 with the UTC offset, in the machine's local time zone."""
    return (now or datetime.now()).astimezone().isoformat(timespec="seconds")


def dumps(message: dict[str, Any]) -> str:
    # Chinese stays readable in logs and on the wire, and is a third shorter than \u escapes.
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


# Server to client


def welcome(
    *, shop_name: str, instance: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The greeting. `instance` names the database behind the server: job ids are unique
    within one instance only (a reset or restored database starts them again)."""
    server_info: dict[str, Any] = {
        "name": f"{shop_name}打印服务器",
        "version": SERVER_VERSION,
        "capabilities": list(CAPABILITIES),
    }
    if instance is not None:
        server_info["instance"] = instance
    return {
        "type": "welcome",
        "message": f"欢迎连接到{shop_name}打印服务",
        "timestamp": now_iso(now),
        "server_info": server_info,
    }


# The `order.type` of a `new_order` frame for each job type; others are sent as they are.
TICKET_TYPES = {
    "order": "order_receipt",
    "kitchen": "kitchen_ticket",
    "void": "void_ticket",
    "label": "cup_label",
}


def new_order(
    *,
    job_id: int,
    order_id: int | None,
    job_type: str,
    content: str,
    copies: int,
    priority: int,
    attempt: int,
    order_info: dict[str, Any] | None,
    printer_config: dict[str, Any],
    printer: dict[str, Any] | None = None,
    possible_duplicate: bool = False,
    layout: dict[str, Any] | None = None,
    labels: list[dict[str, Any]] | None = None,
    reprint: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A job to print. `possible_duplicate`: an earlier attempt started printing and its
    outcome is unknown, so the paper may already hold this receipt. `layout`: the styled
    ticket (printing.paper) for clients that print sizes; seed clients print `content`.
    `labels`: a cup-label job's labels (printing.labels), one per cup."""
    return {
        "type": "new_order",
        "timestamp": now_iso(now),
        "order": {
            "job_id": job_id,
            "order_id": order_id,
            "type": TICKET_TYPES.get(job_type, job_type),
            "content": content,
            "copies": copies,
            "priority": priority,
            "attempt": attempt,
            "order_info": order_info,
            "printer_config": printer_config,
            "target_printer": printer,
            "possible_duplicate": possible_duplicate,
            "reprint": reprint,
            "layout": layout,
            **({"labels": labels} if labels is not None else {}),
        },
    }


def print_command(
    *, command: str, data: dict[str, Any], now: datetime | None = None
) -> dict[str, Any]:
    """A command for the client; the seed's JavaScript client reads the payload as `data.data`."""
    return {
        "type": "print_command",
        "timestamp": now_iso(now),
        "data": {"command": command, **data},
    }


def cancel_job(*, job_id: int, now: datetime | None = None) -> dict[str, Any]:
    """The job was cancelled: do not print it (or stop, if the printer can)."""
    return {"type": "cancel_job", "timestamp": now_iso(now), "job_id": job_id}


def printer_info_ack(
    *,
    reported_name: str,
    printer: dict[str, Any] | None,
    token_required: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The answer to `printer_info`: which printer (`id`, `name`, `paper_width`) the socket
    is now bound to, or none; with `token_required`, the named printer has a token this
    socket did not present, so it was not bound to it."""
    reason = None
    if token_required:
        reason = "token_required"
        message = (
            f"打印机“{reported_name}”设有令牌，此连接未出示令牌，因此没有绑定到它，只会收到"
            f"不指定打印机的任务 / printer {reported_name!r} has a token and this socket did not "
            "present it: not bound to it, this socket receives only jobs addressed to no printer"
        )
    elif printer is None:
        message = (
            f"打印机信息已收到；没有名为“{reported_name}”的已启用打印机，只会收到不指定打印机的任务"
            f" / no active printer is named {reported_name!r}: this socket receives only jobs "
            "addressed to no printer"
        )
    else:
        name = printer["name"]
        message = f"打印机信息已收到，已绑定到“{name}” / bound to printer {name!r}"
    return {
        "type": "printer_info_ack",
        "timestamp": now_iso(now),
        "message": message,
        "printer": printer,
        "reason": reason,
    }


def error(*, code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"type": "error", "timestamp": now_iso(), "code": code, "message": message, **details}


def server_unavailable(*, job_id: int | None = None) -> dict[str, Any]:
    """The database is away: what the client said was not recorded; it may say it again."""
    details = {} if job_id is None else {"job_id": job_id}
    return error(
        code="server_unavailable",
        message="服务器暂时无法记录，请稍后重试 / the server cannot record this now, "
        "try again shortly",
        **details,
    )


def ping(now: datetime | None = None) -> dict[str, Any]:
    return {"type": "ping", "timestamp": now_iso(now)}


def pong(now: datetime | None = None) -> dict[str, Any]:
    return {"type": "pong", "timestamp": now_iso(now)}


# Client to server


def printer_info(
    *, name: str, model: str = "", status: str = "ready", now: datetime | None = None, **extra: Any
) -> dict[str, Any]:
    printer = {"name": name, "model": model, "status": status, **extra}
    return {"type": "printer_info", "timestamp": now_iso(now), "printer": printer}


def print_status(
    *, job_id: int, status: str, message: str = "", now: datetime | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "print_status",
        "timestamp": now_iso(now),
        "job_id": job_id,
        "status": status,
        "message": message,
        **extra,
    }


# Parsing what a client sends


class ProtocolError(Exception):
    """A client message we cannot act on; `code` is machine-readable, `message` is for people."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def as_message(self) -> dict[str, Any]:
        return error(code=self.code, message=self.message, **self.details)


def unknown_job(job_id: int) -> ProtocolError:
    """No such job for this socket's printer: one answer whether the job does not exist or
    is another printer's, so that a socket cannot learn which job ids exist."""
    return ProtocolError(
        "unknown_job",
        f"此打印机没有这个打印任务 / no print job {job_id} for this printer",
        job_id=job_id,
    )


def wrong_socket(job_id: int) -> ProtocolError:
    return ProtocolError(
        "wrong_socket",
        f"打印任务 {job_id} 的当前尝试没有发给此连接 / the current attempt of job {job_id} "
        "was not sent to this socket",
        job_id=job_id,
    )


@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class Pong:
    pass


@dataclass(frozen=True)
class PrinterInfo:
    name: str
    model: str
    status: str
    info: dict[str, Any]


@dataclass(frozen=True)
class PrintStatus:
    job_id: int
    status: str
    message: str


ClientMessage = Ping | Pong | PrinterInfo | PrintStatus


def parse_client_message(text: str | None, data: bytes | None = None) -> ClientMessage:
    """Validate one frame from a printer client; raises ProtocolError with a clear reason."""
    if text is None:
        raise ProtocolError("binary_not_supported", "只接受 JSON 文本帧 / only JSON text frames")
    try:
        message = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ProtocolError(
            "invalid_json", "消息不是合法的 JSON / message is not valid JSON"
        ) from None
    if not isinstance(message, dict):
        raise ProtocolError(
            "invalid_message", "消息必须是 JSON 对象 / message must be a JSON object"
        )
    kind = message.get("type")
    if not isinstance(kind, str):
        raise ProtocolError(
            "missing_field", "缺少 type 字段 / field 'type' is required", field="type"
        )
    parser = _PARSERS.get(kind)
    if parser is None:
        raise ProtocolError(
            "unknown_type",
            f"未知的消息类型 / unknown message type: {kind[:40]!r}",
            known_types=sorted(_PARSERS),
        )
    return parser(message)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _text(message: dict[str, Any], key: str, *, limit: int, required: bool = False) -> str:
    value = message.get(key)
    if value is None:
        if required:
            raise ProtocolError("missing_field", f"缺少字段 / field '{key}' is required", field=key)
        return ""
    if not isinstance(value, str):
        raise ProtocolError("invalid_field", f"字段 / field '{key}' must be a string", field=key)
    if len(value) > limit:
        raise ProtocolError(
            "invalid_field",
            f"字段过长 / field '{key}' is longer than {limit} characters",
            field=key,
        )
    return value


def printer_info_fields(printer: dict[str, Any]) -> dict[str, Any]:
    """The whitelisted scalar fields of a client's `printer` object, each capped."""
    kept: dict[str, Any] = {}
    for key in PRINTER_INFO_FIELDS:
        value = printer.get(key)
        if isinstance(value, str):
            kept[key] = value[:MAX_NAME_LENGTH]
        elif isinstance(value, bool):
            kept[key] = value
        elif isinstance(value, int | float) and abs(value) <= MAX_SAFE_INTEGER:
            # (NaN and infinities compare false and are dropped.)
            kept[key] = value
    return kept


def _parse_printer_info(message: dict[str, Any]) -> PrinterInfo:
    printer = message.get("printer")
    if not isinstance(printer, dict):
        raise ProtocolError(
            "invalid_field", "字段 / field 'printer' must be an object", field="printer"
        )
    name = _text(printer, "name", limit=MAX_NAME_LENGTH, required=True).strip()
    return PrinterInfo(
        name=name,
        model=_text(printer, "model", limit=MAX_NAME_LENGTH),
        status=_text(printer, "status", limit=MAX_NAME_LENGTH),
        info=printer_info_fields(printer),
    )


def _parse_print_status(message: dict[str, Any]) -> PrintStatus:
    job_id = message.get("job_id")
    if job_id is None:
        raise ProtocolError(
            "missing_field", "缺少字段 / field 'job_id' is required", field="job_id"
        )
    if isinstance(job_id, float) and job_id.is_integer() and math.isfinite(job_id):
        job_id = int(job_id)
    if isinstance(job_id, bool) or not isinstance(job_id, int) or not 0 < job_id <= MAX_ID:
        raise ProtocolError(
            "invalid_field",
            "job_id 必须是正整数 / job_id must be a positive integer",
            field="job_id",
        )
    status = _text(message, "status", limit=MAX_NAME_LENGTH, required=True)
    if status not in CLIENT_STATUSES:
        raise ProtocolError(
            "invalid_field",
            f"status 必须是 / status must be one of {', '.join(CLIENT_STATUSES)}",
            field="status",
        )
    return PrintStatus(
        job_id=job_id, status=status, message=_text(message, "message", limit=MAX_TEXT_LENGTH)
    )


_PARSERS = {
    "ping": lambda message: Ping(),
    "pong": lambda message: Pong(),
    "printer_info": _parse_printer_info,
    "print_status": _parse_print_status,
}
