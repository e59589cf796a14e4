"""What the printer agent remembers across restarts: the jobs it printed and the job it is
printing, in a JSON file written atomically after every change (no Django)."""

import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

logger = logging.getLogger("printing.agent")

# How many printed jobs the state file remembers: far more than a day of receipts.
REMEMBER = 20_000
# Jobs cut off mid-print remembered for their banner (a handful at most in practice).
REMEMBER_UNFINISHED = 100


class AgentState:
    """Printed jobs and the job being printed, saved atomically after every change.

    Jobs are keyed by the server's instance (`welcome.server_info.instance`) and job id: a
    reset or restored server database gives out job ids again, and those new jobs must print.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        # "instance:job_id" -> when it was printed
        self.printed: dict[str, str] = {}
        self.in_progress: str | None = None
        # Jobs an earlier run started and never finished, as long as they have not been
        # printed since: the server may offer other jobs first, and the one cut off mid-print
        # must still come out under the banner when it comes.
        self.unfinished: list[str] = []
        # The instance of the server last connected to.
        self.instance: str | None = None
        if path.exists():
            try:
                data = json.loads(path.read_text())
                self.printed = {_legacy_key(k): v for k, v in data.get("printed", {}).items()}
                self.in_progress = (
                    _legacy_key(data["in_progress"]) if data.get("in_progress") else None
                )
                self.instance = data.get("instance")
                self.unfinished = [_legacy_key(k) for k in data.get("unfinished", [])]
                if self.in_progress is not None and self.in_progress not in self.unfinished:
                    self.unfinished.append(self.in_progress)
            except (ValueError, OSError, TypeError, AttributeError) as exc:
                raise SystemExit(f"state file {path} is unreadable ({exc}); move it away") from exc

    def save(self) -> None:
        if len(self.printed) > REMEMBER:
            oldest = sorted(self.printed, key=self.printed.__getitem__)
            for key in oldest[: len(self.printed) - REMEMBER]:
                del self.printed[key]
        del self.unfinished[:-REMEMBER_UNFINISHED]
        data = {
            "instance": self.instance,
            "printed": self.printed,
            "in_progress": self.in_progress,
            "unfinished": self.unfinished,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=self.path.parent, prefix=".agent-state", delete=False
        ) as tmp:
            json.dump(data, tmp)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, self.path)

    def connected_to(self, instance: str) -> None:
        """The server says which database it serves; say so when that changed."""
        if instance == self.instance:
            return
        if self.instance is None:
            # Jobs remembered before instances were known are this server's.
            adopted = {k: v for k, v in self.printed.items() if k.startswith(":")}
            for key, when in adopted.items():
                del self.printed[key]
                self.printed[f"{instance}{key}"] = when
            if self.in_progress is not None and self.in_progress.startswith(":"):
                self.in_progress = f"{instance}{self.in_progress}"
            self.unfinished = [
                f"{instance}{k}" if k.startswith(":") else k for k in self.unfinished
            ]
            logger.info("event=server_instance instance=%s adopted=%s", instance, len(adopted))
        else:
            logger.warning(
                "event=server_instance_changed from=%s to=%s (a new or restored server "
                "database: job ids printed for %s are not matched against %s's)",
                self.instance,
                instance,
                self.instance,
                instance,
            )
        self.instance = instance
        self.save()

    def was_printed(self, key: str) -> bool:
        return key in self.printed

    def start(self, key: str) -> bool:
        """Mark the job as printing; True if an earlier attempt was cut off mid-print."""
        interrupted = self.in_progress == key or key in self.unfinished
        self.in_progress = key
        self.save()
        return interrupted

    def finish(self, key: str, printed: bool) -> None:
        if printed:
            self.printed[key] = time.strftime("%Y-%m-%dT%H:%M:%S")
        self.in_progress = None
        # A failed attempt printed nothing, but the one cut off before it may have.
        if printed and key in self.unfinished:
            self.unfinished.remove(key)
        self.save()


def _legacy_key(key: Any) -> str:
    """A key of the state file; a bare job id (written before instances) has none."""
    key = str(key)
    return key if ":" in key else f":{key}"
