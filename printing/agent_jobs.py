"""What the agent makes of a job frame from the server: the job, its styled layout or cup
labels, or why the frame cannot be acted on. No Django: the agent runs on a cashier's PC."""

import logging
from dataclasses import dataclass
from typing import Any

from printing import protocol
from printing.labels import CupLabel, LabelSpec, labels_from_json
from printing.paper import Document, document_from_json

logger = logging.getLogger("printing.agent")


class MalformedFrame(ValueError):
    """A frame from the server the agent cannot act on; it is logged and skipped."""


def job_id_of(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MalformedFrame(f"job_id {value!r} is not a positive integer")
    text = str(value)
    if not (text.isascii() and text.isdigit() and 0 < int(text) <= protocol.MAX_ID):
        raise MalformedFrame(f"job_id {value!r} is not a positive integer")
    return int(text)


@dataclass
class Job:
    job_id: int
    order_id: int | None
    content: str
    copies: int
    attempt: int
    printer_config: dict[str, Any]
    # The server says an earlier attempt may have printed it already.
    possible_duplicate: bool = False
    # The server's instance: with job_id, what the state file remembers.
    instance: str = ""
    # The styled ticket (`layout`), printed instead of `content` when the frame has a valid one.
    document: Document | None = None
    # A `cup_label` job: its labels and label settings, or why they cannot be printed.
    labels: list[CupLabel] | None = None
    label_spec: LabelSpec | None = None
    label_error: str = ""

    @property
    def is_labels(self) -> bool:
        return self.labels is not None or bool(self.label_error)

    @property
    def key(self) -> str:
        return f"{self.instance}:{self.job_id}"

    @classmethod
    def from_message(cls, message: dict[str, Any], *, instance: str = "") -> "Job":
        """The job in a `new_order` or `print_command`; MalformedFrame if it holds none."""
        body = message.get("order") if message["type"] == "new_order" else message.get("data")
        if not isinstance(body, dict):
            raise MalformedFrame(f"{message['type']} without its job")
        try:
            printer_config = body.get("printer_config") or {}
            if not isinstance(printer_config, dict):
                raise MalformedFrame("printer_config is not an object")
            return cls(
                **_labels(body, printer_config),
                job_id=job_id_of(body.get("job_id")),
                order_id=body.get("order_id"),
                content=str(body.get("content", "")),
                copies=min(max(int(body.get("copies") or 1), 1), 10),
                attempt=int(body.get("attempt") or 1),
                printer_config=printer_config,
                possible_duplicate=body.get("possible_duplicate") is True,
                instance=instance,
                document=_document(body),
            )
        except (TypeError, ValueError, OverflowError) as exc:
            raise MalformedFrame(str(exc)) from None


def _labels(body: dict[str, Any], printer_config: dict[str, Any]) -> dict[str, Any]:
    """A `cup_label` frame's labels and spec; the reason instead when they are not valid (the
    job then fails with it, rather than being skipped as an unreadable frame)."""
    if body.get("type") != "cup_label":
        return {}
    try:
        spec = LabelSpec.from_mapping(printer_config.get("label"))
        return {"labels": labels_from_json(body.get("labels")), "label_spec": spec}
    except (TypeError, ValueError) as exc:
        return {"label_error": f"bad labels: {exc}"}


def _document(body: dict[str, Any]) -> Document | None:
    """The frame's styled layout; None (the plain `content` prints) if it has none or a bad one."""
    if body.get("layout") is None:
        return None
    try:
        return document_from_json(body["layout"])
    except ValueError as exc:
        logger.warning("event=bad_layout job=%s error=%s", body.get("job_id"), exc)
        return None
